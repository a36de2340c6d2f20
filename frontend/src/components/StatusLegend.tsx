// The key of a whole-tree drawing: each status that occurs, as the swatch the drawing uses,
// the word and the count.
import { NODE_STATUSES, statusClass, statusText } from '../tree/status';

export interface StatusLegendProps {
  /** Nodes by status. */
  counts: Record<string, number>;
  label: string;
}

export function StatusLegend({ counts, label }: StatusLegendProps) {
  const known: readonly string[] = NODE_STATUSES;
  const statuses = [...known, ...Object.keys(counts).filter((s) => !known.includes(s))];
  return (
    <ul className="status-legend" aria-label={label}>
      {statuses
        .filter((s) => (counts[s] ?? 0) > 0)
        .map((s) => (
          <li key={s} className={statusClass(s)} data-legend-status={s}>
            <span className={`legend-swatch legend-${s}`} aria-hidden="true" /> {statusText(s)} {counts[s]}
          </li>
        ))}
    </ul>
  );
}
