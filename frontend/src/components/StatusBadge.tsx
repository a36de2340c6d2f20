// A status shown as glyph plus word, coloured by status.
import { statusClass, statusGlyph, statusText } from '../tree/status';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${statusClass(status)}`} data-status={status}>
      <span aria-hidden="true">{statusGlyph(status)}</span> {statusText(status)}
    </span>
  );
}
