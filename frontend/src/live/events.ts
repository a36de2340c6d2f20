// Event-stream frames (SPEC §6): their shape, parsing, and which ones are control frames
// (not stored events, so never de-duplicated or applied).

export interface EventFrame {
  seq: number;
  ts: string;
  type: string;
  job_id: string | null;
  depth: number | null;
  data: Record<string, unknown>;
}

/** Frame types the server sends about the connection itself rather than about jobs. */
const CONTROL_TYPES: ReadonlySet<string> = new Set(['subscribed', 'heartbeat']);

/** True for control frames: `subscribed`, `heartbeat`, and `error` not tied to a job. */
export function isControlFrame(frame: EventFrame): boolean {
  return CONTROL_TYPES.has(frame.type) || (frame.type === 'error' && frame.job_id === null);
}

/** Parses one text frame; null when it is not a well-formed frame. */
export function parseFrame(text: string): EventFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.seq !== 'number' || typeof v.type !== 'string') return null;
  return {
    seq: v.seq,
    ts: typeof v.ts === 'string' ? v.ts : '',
    type: v.type,
    job_id: typeof v.job_id === 'string' ? v.job_id : null,
    depth: typeof v.depth === 'number' ? v.depth : null,
    data: v.data && typeof v.data === 'object' ? (v.data as Record<string, unknown>) : {},
  };
}

/** A string field of a frame's data, or null. */
export function str(data: Record<string, unknown>, key: string): string | null {
  const v = data[key];
  return typeof v === 'string' ? v : null;
}

/** A number field of a frame's data, or null. */
export function num(data: Record<string, unknown>, key: string): number | null {
  const v = data[key];
  return typeof v === 'number' ? v : null;
}
