// Alerts (issue 15, docs/PEOPLE.md), for display: the stream frames that concern them (read
// tolerantly) and what they do to a list already read (a fired alert joins it, a resolved one
// is marked or leaves it, at once, before the list is read again), the rule in words, what
// the rule saw in words (failure rate, straggler, busy quota, budget), when it was resolved
// and by whom, and the hold a failure-rate alert puts on its job's new starts.
import type { AlertView, JsonValue } from '../api/types';
import type { EventFrame } from '../live/events';
import { durationText } from './approvals';
import { formatCount } from './usage';

export const ALERT = 'alert';
export const ALERT_RESOLVED = 'alert_resolved';
export const FAILURE_RATE = 'failure_rate';
export const STRAGGLER = 'straggler';

/** True for the frames after which a list of alerts is stale. */
export function isAlertEvent(type: string): boolean {
  return type === ALERT || type === ALERT_RESOLVED;
}

/** Which alerts a list holds. */
export interface AlertsFilter {
  /** Only this job's. */
  jobId?: string;
  /** Only this rule's. */
  rule?: string;
  /** Only open (true) or resolved (false) ones; both when absent. */
  open?: boolean;
  limit?: number;
}

type JsonObject = { [key: string]: JsonValue };

function objectOf(v: unknown): JsonObject | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : null;
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * An alert frame as the alert it tells of: a fired one (`alert`) whole, a resolved one
 * (`alert_resolved`) with what its frame carries (no message or data). Null for another frame
 * or one without an id.
 */
export function readAlertFrame(frame: Pick<EventFrame, 'type' | 'ts' | 'job_id' | 'data'>): AlertView | null {
  const d = frame.data;
  const id = text(d.alert_id);
  if (!isAlertEvent(frame.type) || !id) return null;
  const resolved = frame.type === ALERT_RESOLVED;
  return {
    id,
    job_id: text(d.job_id) ?? frame.job_id,
    node_id: text(d.node_id),
    rule: text(d.rule) ?? '',
    message: text(d.message) ?? '',
    data: objectOf(d.data),
    created_at: frame.ts,
    resolved_at: resolved ? frame.ts : null,
    resolved_by: resolved ? text(d.resolved_by) : null,
    open: !resolved,
  };
}

function matches(a: Pick<AlertView, 'job_id' | 'rule' | 'open'>, filter: AlertsFilter): boolean {
  return (!filter.jobId || a.job_id === filter.jobId) && (!filter.rule || a.rule === filter.rule) && (filter.open === undefined || a.open === filter.open);
}

/**
 * A list of alerts after one frame, before it is read again: a fired alert the filter covers
 * joins it at the top (once), a resolved one is marked so, or leaves a list of open alerts.
 * A resolved alert the list does not hold waits for the read (its frame has no message). The
 * list itself when nothing changed.
 */
export function applyAlertFrame(list: readonly AlertView[], frame: Pick<EventFrame, 'type' | 'ts' | 'job_id' | 'data'>, filter: AlertsFilter): readonly AlertView[] {
  const told = readAlertFrame(frame);
  if (!told) return list;
  const at = list.findIndex((a) => a.id === told.id);
  if (told.open) return at < 0 && matches(told, filter) ? [told, ...list] : list;
  if (at < 0) return list;
  const resolved = { ...list[at], open: false, resolved_at: told.resolved_at, resolved_by: told.resolved_by };
  if (!matches(resolved, filter)) return list.filter((a) => a.id !== told.id);
  return list.map((a, i) => (i === at ? resolved : a));
}

const RULES: Record<string, string> = {
  failure_rate: 'Failure rate too high',
  straggler: 'Straggler',
  quota_busy: 'Quota busy',
  budget: 'Budget running low',
  silent_worker: 'Silent worker',
};

/** The rule in words: "Failure rate too high", "Straggler", "Quota busy", "Budget running low", "Silent worker". */
export function ruleText(rule: string): string {
  return RULES[rule] ?? rule;
}

const PERCENT = 100;

/** A fraction as a whole percentage: 0.2 → "20 %"; "?" when it is no number. */
export function percentText(fraction: unknown): string {
  const f = count(fraction);
  return f === null ? '?' : `${Math.round(f * PERCENT)} %`;
}

function num(v: unknown): string {
  const n = count(v);
  return n === null ? '?' : formatCount(n);
}

/** A factor as given, to two decimals at most: 2 → "2", 2.5 → "2.5". */
function factor(v: unknown): string {
  const n = count(v);
  return n === null ? '?' : String(Number(n.toFixed(2)));
}

const MS_PER_S = 1000;

/** A length of time in milliseconds: "450 ms" under a second, else as `durationText` says it. */
function ms(v: unknown): string {
  const n = count(v);
  if (n === null) return '?';
  return Math.abs(n) < MS_PER_S ? `${Math.round(n)} ms` : durationText(n);
}

/**
 * What the rule saw, in words: "5 of 5 finished workers failed (100 % > 20 %); new starts
 * held", "ran 12 s against its siblings’ median of 4 s (more than 2 ×)", "depth 3: 3 of 3
 * slots in use (100 %) for 5 min", "api: 85 % of its budget used". Null when the data says
 * nothing readable (or the rule is unknown).
 */
export function alertDetail(a: Pick<AlertView, 'rule' | 'data' | 'open'>): string | null {
  const d = a.data;
  if (!d) return null;
  switch (a.rule) {
    case FAILURE_RATE: {
      const held = d.held === true ? (a.open ? '; new starts held until someone resumes the job' : '; new starts were held') : '';
      return `${num(d.failed)} of ${num(d.finished)} finished workers failed (${percentText(d.rate)} > ${percentText(d.threshold)})${held}`;
    }
    case STRAGGLER:
      return `ran ${ms(d.elapsed_ms)} against its siblings’ median of ${ms(d.median_ms)} (more than ${factor(d.factor)} ×)`;
    case 'quota_busy': {
      const forMs = count(d.for_s);
      return `depth ${num(d.depth)}: ${num(d.in_use)} of ${num(d.quota)} slots in use (${num(d.percent)} %) for ${forMs === null ? '?' : durationText(forMs * MS_PER_S)}`;
    }
    case 'budget': {
      const node = text(d.name) ?? text(d.node);
      return `${node ? `${node}: ` : ''}${num(d.percent)} % of its budget used`;
    }
    case 'silent_worker': {
      const silent = count(d.silent_ms);
      return `no output and no call back for ${silent === null ? '?' : durationText(silent)} (the limit is ${num(d.limit_s)} s)`;
    }
    default:
      return null;
  }
}

/** A job's open failure-rate alert that holds its new starts: what it saw. */
export interface HeldAlert {
  alertId: string;
  jobId: string;
  finished: number | null;
  failed: number | null;
  rate: number | null;
  threshold: number | null;
}

/** Whether an alert holds its job's new starts (an open failure-rate alert that says so). */
export function holdsJob(a: Pick<AlertView, 'rule' | 'open' | 'data' | 'job_id'>): boolean {
  return a.rule === FAILURE_RATE && a.open && a.data?.held === true && a.job_id !== null;
}

/** The alert among `alerts` that holds its job, or null. */
export function heldOf(alerts: readonly AlertView[]): HeldAlert | null {
  const a = alerts.find(holdsJob);
  if (!a?.job_id) return null;
  const d = a.data ?? {};
  return { alertId: a.id, jobId: a.job_id, finished: count(d.finished), failed: count(d.failed), rate: count(d.rate), threshold: count(d.threshold) };
}

/** The hold in a sentence: "New starts are held: 5 of 5 finished nodes failed (100 % > 20 %)." */
export function heldText(h: HeldAlert): string {
  return `New starts are held: ${num(h.failed)} of ${num(h.finished)} finished nodes failed (${percentText(h.rate)} > ${percentText(h.threshold)}).`;
}

/** Who resolved it: "by alice", or "on its own (its condition passed)" without a key. */
export function resolvedByText(a: Pick<AlertView, 'resolved_by'>): string {
  return a.resolved_by ? `by ${a.resolved_by}` : 'on its own (its condition passed)';
}
