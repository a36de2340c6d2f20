// The header's connection indicator: live / reconnecting / offline, in words and colour.
import type { ConnectionState } from '../live/stream';

const GLYPH: Record<ConnectionState, string> = { live: '●', reconnecting: '↻', offline: '○' };

export function ConnectionIndicator({ state }: { state: ConnectionState }) {
  return (
    <span role="status" className={`conn conn-${state}`} data-state={state} aria-label={`Event stream ${state}`}>
      <span aria-hidden="true">{GLYPH[state]}</span> {state}
    </span>
  );
}
