// The server's replicas (`GET /cluster`) for display: the summary line, the order of the
// table (live first, then lapsed, left, dead), each state's glyph, class and meaning, a
// heartbeat as a relative time, and how often the section asks again.
import type { ClusterView, ReplicaView } from '../api/types';

/** States a replica can be in, in the order the table lists them. */
export const REPLICA_STATES = ['live', 'lapsed', 'left', 'dead'] as const;

/** The longest wait between two reads of the cluster, whatever its heartbeat. */
export const MAX_REFRESH_MS = 5000;
/** The shortest wait (a heartbeat under a second would only spend the rate limit). */
export const MIN_REFRESH_MS = 1000;

const MS_PER_S = 1000;
const S_PER_MIN = 60;
const MIN_PER_H = 60;

const GLYPHS: Record<string, string> = { live: '●', lapsed: '⚠', left: '○', dead: '✗' };

const MEANINGS: Record<string, string> = {
  live: 'renewing its heartbeat',
  lapsed: 'heartbeat older than the lease: probably dead, not yet taken over',
  left: 'stopped of its own accord',
  dead: 'declared gone by another replica',
};

function stateRank(state: string): number {
  const i = (REPLICA_STATES as readonly string[]).indexOf(state);
  return i < 0 ? REPLICA_STATES.length : i;
}

/** The replicas as the table lists them: by state, and as the server sent them (oldest first) within one. */
export function sortReplicas(replicas: readonly ReplicaView[]): ReplicaView[] {
  return [...replicas].sort((a, b) => stateRank(a.state) - stateRank(b.state));
}

/** How many replicas are in each state, in table order (states with none left out). */
export function stateCounts(replicas: readonly ReplicaView[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of sortReplicas(replicas)) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  return [...counts.entries()];
}

/** "3 replicas: 2 live, 1 lapsed"; a server on its own says so. */
export function clusterSummary(view: ClusterView): string {
  if (!view.enabled) return 'This server runs on its own (no cluster)';
  const n = view.replicas.length;
  if (n === 0) return 'No replicas listed';
  const noun = n === 1 ? 'replica' : 'replicas';
  const parts = stateCounts(view.replicas).map(([state, count]) => `${count} ${state}`);
  return `${n} ${noun}: ${parts.join(', ')}`;
}

export function replicaStateGlyph(state: string): string {
  return GLYPHS[state] ?? '?';
}

/** The CSS class colouring a replica's state (`replica-lapsed`, …). */
export function replicaStateClass(state: string): string {
  return `replica-${GLYPHS[state] ? state : 'unknown'}`;
}

/** What a state means, in words (for the badge's tooltip). */
export function replicaStateMeaning(state: string): string {
  return MEANINGS[state] ?? 'a state this dashboard does not know';
}

/** An age in ms as words: "just now", "2 s ago", "3 min ago", "1 h ago" (a negative one, clock skew, is "just now"). */
export function formatAge(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / MS_PER_S);
  if (s < 1) return 'just now';
  if (s < S_PER_MIN) return `${s} s ago`;
  const m = Math.floor(s / S_PER_MIN);
  if (m < MIN_PER_H) return `${m} min ago`;
  return `${Math.floor(m / MIN_PER_H)} h ago`;
}

/** How long ago `iso` was, from `now` (ms); "—" when unknown. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? '—' : formatAge(now - t);
}

/** A replica's quota shares by depth, "4 · 3 · 2 · 1 · 1 · 0"; "—" when it holds none. */
export function formatShares(shares: readonly number[] | undefined): string {
  return shares && shares.length > 0 ? shares.join(' · ') : '—';
}

/** The shares' tooltip: what each depth's figure is, with the demand behind it. */
export function sharesTitle(replica: Pick<ReplicaView, 'shares' | 'demand'>): string {
  const per = (replica.shares ?? []).map((s, d) => `depth ${d}: ${s} (wants ${replica.demand?.[d] ?? 0})`);
  return per.length > 0 ? `Slots it may hold at once, its share of each depth's quota — ${per.join(', ')}` : 'It holds no share';
}

/** The wait before the next read: the cluster's heartbeat, within 1 s and 5 s (5 s before any answer). */
export function refreshMs(view: ClusterView | null): number {
  if (!view || !Number.isFinite(view.heartbeat_s)) return MAX_REFRESH_MS;
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, view.heartbeat_s * MS_PER_S));
}
