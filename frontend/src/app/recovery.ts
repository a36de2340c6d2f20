// Recovery from failures (issue 15, docs/PEOPLE.md), for display: the `recovery` the server
// writes into a failed attempt's result and sends with each `node_retrying` frame — the
// failure's class, what followed it (level 1 retry, 2 reallocate with more memory and time,
// 3 escalate, or nothing: the node failed) and why — read tolerantly, and put in words.
import type { FailureClass, NodeRetryingData, RecoveryAction, RecoveryResources, RecoveryView } from '../api/types';
import { formatCount } from './usage';

/** The event kind a failed attempt that is tried again sends. */
export const NODE_RETRYING = 'node_retrying';

const CLASSES: Record<FailureClass, string> = {
  timeout: 'ran out of time (its time or CPU limit, or no answer in time)',
  memory: 'killed for memory or out of memory',
  permission: 'access refused (permission denied, a 401 or 403)',
  network: 'a connection failed, or a service answered 5xx or 429',
  launch: 'the program could not be started',
  budget: 'its budget could not cover a call',
  validation: 'an answer or result its check did not accept',
  process: 'a non-zero exit or another error',
};

/** The level each action has when it is carried out. */
const LEVELS: Record<RecoveryAction, number> = { retry: 1, reallocate: 2, escalate: 3, fail: 0 };

const DONE: Record<RecoveryAction, string> = {
  retry: 'retried',
  reallocate: 'reallocated',
  escalate: 'escalated to a person',
  fail: 'failed',
};

function known<K extends string>(table: Record<K, unknown>, key: string): key is K {
  return Object.hasOwn(table, key);
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function resources(v: unknown): RecoveryResources | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  return { memory_mb: count(o.memory_mb), cpu_seconds: count(o.cpu_seconds), timeout_s: count(o.timeout_s) };
}

/** A recovery object (`result.recovery`, a frame's `recovery`); null when absent or without a class and an action. */
export function readRecovery(v: unknown): RecoveryView | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const cls = text(o.class);
  const action = text(o.action);
  if (!cls || !action) return null;
  const note = text(o.note);
  const given = count(o.level);
  // A server that left the level out: the action's, unless a note says nothing follows.
  const level = given !== null ? Math.round(given) : note || !known(LEVELS, action) ? 0 : LEVELS[action];
  return { class: cls, action, level, resources: action === 'reallocate' ? resources(o.resources) : null, note };
}

/** The recovery a node's stored result records (its last failed attempt's), or null. */
export function recoveryOf(result: unknown): RecoveryView | null {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return null;
  return readRecovery((result as Record<string, unknown>).recovery);
}

/** A `node_retrying` frame's data, or null when it is not one (or names no node). */
export function readRetrying(type: string, data: Record<string, unknown>): NodeRetryingData | null {
  if (type !== NODE_RETRYING || typeof data.node_id !== 'string') return null;
  return {
    node_id: data.node_id,
    name: text(data.name) ?? data.node_id,
    attempt: count(data.attempt) ?? 0,
    max_attempts: count(data.max_attempts),
    delay_ms: count(data.delay_ms),
    error: text(data.error),
    recovery: readRecovery(data.recovery),
  };
}

/** The class in words: "memory — killed for memory or out of memory" (a class this dashboard does not know, as it is). */
export function classText(cls: string): string {
  return known(CLASSES, cls) ? `${cls} — ${CLASSES[cls]}` : cls;
}

function seconds(s: number): string {
  return `${formatCount(s)} s`;
}

/** What a reallocated attempt gets: "128 MiB, a 2 s timeout, 3 s of CPU". */
export function resourcesText(r: RecoveryResources | null): string {
  if (!r) return 'the same as before (only a command gets more memory and time)';
  const parts = [
    r.memory_mb !== null ? `${formatCount(r.memory_mb)} MiB` : null,
    r.timeout_s !== null ? `a ${seconds(r.timeout_s)} timeout` : null,
    r.cpu_seconds !== null ? `${seconds(r.cpu_seconds)} of CPU` : null,
  ].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(', ') : 'no limits';
}

/** Why nothing followed the failure, in a few words. */
function failedText(r: RecoveryView): string {
  if (r.action === 'retry' || r.action === 'reallocate') return 'no more attempts';
  if (r.action === 'escalate') return 'not escalated';
  return r.note ? 'not retried' : 'not retried (its class’s policy)';
}

/**
 * What followed the failure: "level 1: retried", "level 2: reallocated — next attempt gets
 * 128 MiB, a 2 s timeout", "level 3: escalated to a person", "failed: no more attempts".
 */
export function outcomeText(r: RecoveryView): string {
  if (r.level <= 0 || r.action === 'fail') return `failed: ${failedText(r)}`;
  const done = known(DONE, r.action) ? DONE[r.action] : r.action;
  const head = `level ${r.level}: ${done}`;
  return r.action === 'reallocate' ? `${head} — next attempt gets ${resourcesText(r.resources)}` : head;
}

/** A retry in words: "attempt 1 of 3 failed (memory) → reallocate"; without a recovery (a restart cut it short), "attempt 2 of 3 failed → retry". */
export function retryingText(r: Pick<NodeRetryingData, 'attempt' | 'max_attempts' | 'recovery'>): string {
  const of = r.max_attempts !== null ? ` of ${r.max_attempts}` : '';
  const then = r.recovery ? ` (${r.recovery.class}) → ${r.recovery.action}` : ' → retry';
  return `attempt ${r.attempt}${of} failed${then}`;
}
