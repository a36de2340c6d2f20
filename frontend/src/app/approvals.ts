// Approval requests (issue 15, docs/PEOPLE.md), for display: the stream frames that concern
// them (read tolerantly), what a request asks and of whom in words, where it stands (its
// level, approvals given, the deadline relative to now), its decisions, why the key may not
// decide it, the held result of an `after` request (clipped), and the approver's JSON input.
import { ApiError } from '../api/client';
import type { ApprovalDecision, ApprovalLevel, ApprovalView, JsonValue, Verdict } from '../api/types';
import { prettyJson } from './format';

export const APPROVAL_REQUESTED = 'approval_requested';
export const APPROVAL_ESCALATED = 'approval_escalated';
export const APPROVAL_DECIDED = 'approval_decided';
const APPROVAL_EVENTS: ReadonlySet<string> = new Set([APPROVAL_REQUESTED, APPROVAL_ESCALATED, APPROVAL_DECIDED]);

/** How many characters of an `after` request's result a card shows. */
export const RESULT_CLIP_CHARS = 2000;

/** True for the frames after which a list of requests is stale. */
export function isApprovalEvent(type: string): boolean {
  return APPROVAL_EVENTS.has(type);
}

/** What an approval frame says of its node; null for another frame, or one that names no node. */
export interface ApprovalFrame {
  /** `requested` (also escalated: it waits, at another level) or `decided`. */
  what: 'requested' | 'decided';
  approvalId: string | null;
  nodeId: string;
  /** `before` or `after` (as sent). */
  kind: string;
  /** Of a decided request: `approved`, `rejected` or `cancelled`. */
  state: string | null;
}

export function readApprovalFrame(type: string, data: Record<string, unknown>): ApprovalFrame | null {
  if (!isApprovalEvent(type) || typeof data.node_id !== 'string') return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    what: type === APPROVAL_DECIDED ? 'decided' : 'requested',
    approvalId: text(data.approval_id),
    nodeId: data.node_id,
    kind: text(data.kind) ?? 'before',
    state: text(data.state),
  };
}

const KINDS: Record<string, string> = { before: 'before start', after: 'accept result' };

/** The kind in words: "before start", "accept result". */
export function kindText(kind: string): string {
  return KINDS[kind] ?? kind;
}

/** What the approver is asked to do: approve the start, or accept the result. */
export function kindQuestion(kind: string): string {
  return kind === 'after' ? 'Accept the result before it counts as succeeded' : 'Approve before it starts';
}

const STATES: Record<string, string> = { cancelled: 'cancelled (withdrawn: its node was cancelled)' };

export function stateText(state: string): string {
  return STATES[state] ?? state;
}

/** The level it waits at (or was decided at); null for a malformed request. */
export function currentLevel(a: Pick<ApprovalView, 'level' | 'levels'>): ApprovalLevel | null {
  return a.levels[a.level - 1] ?? null;
}

/** Approvers in words: "alice, group:release or scope:admin". */
export function approversText(approvers: readonly string[]): string {
  if (approvers.length === 0) return 'no one';
  if (approvers.length === 1) return approvers[0];
  return `${approvers.slice(0, -1).join(', ')} or ${approvers[approvers.length - 1]}`;
}

/** Approvals given at its level against those required: "1 of 2 approvals". */
export function progressText(a: Pick<ApprovalView, 'approvals_at_level' | 'level' | 'levels'>): string {
  const required = currentLevel(a)?.required ?? 1;
  return `${a.approvals_at_level} of ${required} approval${required === 1 ? '' : 's'}`;
}

const TIMEOUTS: Record<string, string> = {
  approve: 'then it counts as approved',
  reject: 'then it counts as rejected',
  escalate: 'then the next level is asked',
};

/** How long a level waits and what follows: "waits 1 h, then the next level is asked", "no time limit". */
export function timeoutText(level: Pick<ApprovalLevel, 'timeout_s' | 'on_timeout'>): string {
  if (level.timeout_s === null) return 'no time limit';
  return `waits ${durationText(level.timeout_s * MS_PER_S)}, ${TIMEOUTS[level.on_timeout] ?? `then ${level.on_timeout}`}`;
}

/** One level in a line: "deploy: scope:admin — 1 required, no time limit". */
export function levelText(level: ApprovalLevel): string {
  return `${level.owner}: ${approversText(level.approvers)} — ${level.required} required, ${timeoutText(level)}`;
}

const MS_PER_S = 1000;
const S_PER_MIN = 60;
const MIN_PER_H = 60;
const H_PER_DAY = 24;

/** A length of time, to the minute past a minute: "45 s", "12 min", "2 h 5 min", "3 d 4 h". */
export function durationText(ms: number): string {
  const s = Math.round(Math.abs(ms) / MS_PER_S);
  if (s < S_PER_MIN) return `${s} s`;
  const min = Math.round(s / S_PER_MIN);
  if (min < MIN_PER_H) return `${min} min`;
  const h = Math.floor(min / MIN_PER_H);
  if (h < H_PER_DAY) return min % MIN_PER_H === 0 ? `${h} h` : `${h} h ${min % MIN_PER_H} min`;
  const d = Math.floor(h / H_PER_DAY);
  return h % H_PER_DAY === 0 ? `${d} d` : `${d} d ${h % H_PER_DAY} h`;
}

/** A time relative to `now`: "in 5 min", "3 min ago", "just now" (within 5 s); the text as is when it is no time. */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  if (Math.abs(diff) < 5 * MS_PER_S) return 'just now';
  return diff > 0 ? `in ${durationText(diff)}` : `${durationText(diff)} ago`;
}

/** The current level's deadline: "in 5 min", "due now" once passed, "none". */
export function deadlineText(deadline: string | null, now: number): string {
  if (!deadline) return 'none';
  const t = Date.parse(deadline);
  if (!Number.isNaN(t) && t <= now) return 'due now';
  return relativeTime(deadline, now);
}

/** One decision in words: "approved by alice at level 1", "rejected by timeout default at level 2". */
export function decisionText(d: Pick<ApprovalDecision, 'decision' | 'by' | 'level'>): string {
  const verb = d.decision === 'approve' ? 'approved' : d.decision === 'reject' ? 'rejected' : d.decision;
  return `${verb} by ${d.by ?? 'timeout default'} at level ${d.level}`;
}

/**
 * Why the calling key may not decide a request now, or null when it may: a pending one
 * waits for the approvers of its level ("waiting for group:release (level 2, job owners)").
 */
export function waitingText(a: Pick<ApprovalView, 'state' | 'may_decide' | 'level' | 'levels'>): string | null {
  if (a.state !== 'pending') return `No longer waiting: ${stateText(a.state)}.`;
  if (a.may_decide) return null;
  const level = currentLevel(a);
  if (!level) return 'Waiting for its approvers.';
  return `Waiting for ${approversText(level.approvers)} (level ${a.level}, ${level.owner}): this key is not one of them.`;
}

/** The outcome of the key's decision in a sentence ("You approved deploy."). */
export function decidedNotice(view: Pick<ApprovalView, 'state' | 'node_name'>, verdict: Verdict): string {
  if (view.state === 'pending') return `Your approval of ${view.node_name} is counted; it waits for more.`;
  return `You ${verdict === 'approve' ? 'approved' : 'rejected'} ${view.node_name}.`;
}

/** The result an `after` request holds for the approver to accept (undefined for a `before` one, or none). */
export function heldResult(a: Pick<ApprovalView, 'kind' | 'context'>): JsonValue | undefined {
  const c = a.context;
  if (a.kind !== 'after' || !c || typeof c !== 'object' || Array.isArray(c) || !('result' in c)) return undefined;
  return c.result;
}

/** Pretty JSON cut at `max` characters, saying how much was left out. */
export function clippedJson(value: unknown, max = RESULT_CLIP_CHARS): string {
  const text = prettyJson(value);
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters)`;
}

export type ParsedInput = { ok: true; value: JsonValue | undefined } | { ok: false; message: string };

/** The approver's input as typed: nothing (blank), or JSON. */
export function parseInput(text: string): ParsedInput {
  if (!text.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch (err) {
    return { ok: false, message: `Not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The message of a refusal's field error at `path` (a 422 for `input`), or null. */
export function fieldProblem(err: unknown, path: string): string | null {
  if (!(err instanceof ApiError) || !err.problem?.errors) return null;
  const hit = err.problem.errors.find((e) => e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`));
  return hit ? hit.message : null;
}
