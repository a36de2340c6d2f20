// Formatting of times, durations, labels and JSON for display.

const MS_PER_S = 1000;
const S_PER_MIN = 60;
const MIN_PER_H = 60;

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < MS_PER_S) return `${Math.round(ms)} ms`;
  const s = ms / MS_PER_S;
  if (s < S_PER_MIN) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / S_PER_MIN);
  if (m < MIN_PER_H) return `${m} min ${Math.round(s - m * S_PER_MIN)} s`;
  return `${Math.floor(m / MIN_PER_H)} h ${m % MIN_PER_H} min`;
}

/** Milliseconds between two timestamps (the second defaulting to now), or null. */
export function between(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start) return null;
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : Date.now();
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.max(0, b - a);
}

export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

const JSON_INDENT = 2;

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, JSON_INDENT) ?? 'null';
}
