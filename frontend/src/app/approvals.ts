// Approval requests (issue 15, docs/PEOPLE.md), for display: the stream frames that concern
// them (read tolerantly), what a request asks and of whom in words, where it stands (its
// level, approvals given, the deadline relative to now), its decisions (an escalation's
// retried, retried with …, skipped, failed too), why the key may not decide it — or may only
// stop it —, the held result of an `after` request (clipped), the failure an escalation
// shows (class, error clipped, attempts), what a plan approval shows (the model's plan, who
// does what, the children it placed), the approver's JSON input, and a `retry_with`'s terms
// as typed.
import { ApiError } from '../api/client';
import type { ApprovalDecision, ApprovalLevel, ApprovalView, EscalationContext, JsonValue, PlanApprovalContext, RetryTerms, Verdict } from '../api/types';
import { readAssignments, readPlan } from '../components/decomposition';
import { prettyJson } from './format';
import { formatCount } from './usage';

export const APPROVAL_REQUESTED = 'approval_requested';
export const APPROVAL_ESCALATED = 'approval_escalated';
export const APPROVAL_DECIDED = 'approval_decided';
const APPROVAL_EVENTS: ReadonlySet<string> = new Set([APPROVAL_REQUESTED, APPROVAL_ESCALATED, APPROVAL_DECIDED]);

/** How many characters of an `after` request's result a card shows. */
export const RESULT_CLIP_CHARS = 2000;
/** How many characters of an escalation's error a card shows. */
export const ERROR_CLIP_CHARS = 600;

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
  /** `before`, `after`, `escalation` or `plan` (as sent). */
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

export const ESCALATION = 'escalation';
export const PLAN = 'plan';

const KINDS: Record<string, string> = { before: 'before start', after: 'accept result', escalation: 'escalation', plan: 'a model’s plan' };

/** The kind in words: "before start", "accept result", "escalation", "a model’s plan". */
export function kindText(kind: string): string {
  return KINDS[kind] ?? kind;
}

/** What the approver is asked to do: approve the start, accept the result, approve a plan, or decide what follows a failure. */
export function kindQuestion(kind: string): string {
  if (kind === ESCALATION) return 'Failed — needs a decision: retry, retry with other terms, skip or fail';
  if (kind === PLAN) return 'Approve the plan before any of it runs';
  return kind === 'after' ? 'Accept the result before it counts as succeeded' : 'Approve before it starts';
}

const STATES: Record<string, string> = { cancelled: 'cancelled (withdrawn: its node was cancelled)' };
/** An escalation is approved when someone let it go on (retried or skipped it), rejected when they let it fail. */
const ESCALATION_STATES: Record<string, string> = { approved: 'decided: it goes on', rejected: 'decided: the failure stands' };

/** The state in words (of an escalation, what its decision did). */
export function stateText(state: string, kind?: string): string {
  return (kind === ESCALATION ? ESCALATION_STATES[state] : undefined) ?? STATES[state] ?? state;
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
/** What a timeout's default does to an escalation: approving retries the node, rejecting fails it. */
const ESCALATION_TIMEOUTS: Record<string, string> = {
  approve: 'then the node is retried',
  reject: 'then the failure stands',
};

/** How long a level waits and what follows: "waits 1 h, then the next level is asked", "no time limit". */
export function timeoutText(level: Pick<ApprovalLevel, 'timeout_s' | 'on_timeout'>, kind?: string): string {
  if (level.timeout_s === null) return 'no time limit';
  const then = (kind === ESCALATION ? ESCALATION_TIMEOUTS[level.on_timeout] : undefined) ?? TIMEOUTS[level.on_timeout] ?? `then ${level.on_timeout}`;
  return `waits ${durationText(level.timeout_s * MS_PER_S)}, ${then}`;
}

/** One level in a line: "deploy: scope:admin — 1 required, no time limit". */
export function levelText(level: ApprovalLevel, kind?: string): string {
  return `${level.owner}: ${approversText(level.approvers)} — ${level.required} required, ${timeoutText(level, kind)}`;
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

/** Whether a verdict lets the node go on (approves it; retries or skips an escalation). */
export function letsGoOn(verdict: string): boolean {
  return verdict !== 'reject' && verdict !== 'fail';
}

const VERBS: Record<string, string> = {
  approve: 'approved',
  reject: 'rejected',
  retry: 'retried',
  retry_with: 'retried with other terms',
  skip: 'skipped',
  fail: 'failed',
};

/**
 * A verdict in words: "approved", "retried", "skipped", "failed"; a `retry_with` with its
 * terms when they are known ("retried with memory 256 MiB").
 */
export function verdictText(verdict: string, terms?: RetryTerms | null): string {
  if (verdict === 'retry_with' && terms && termsText(terms)) return `retried with ${termsText(terms)}`;
  return VERBS[verdict] ?? verdict;
}

/**
 * One decision in words: "approved by alice at level 1", "rejected by timeout default at
 * level 2", "retried with memory 256 MiB by bob at level 1" (`terms`: what a `retry_with` gave).
 */
export function decisionText(d: Pick<ApprovalDecision, 'decision' | 'by' | 'level'>, terms?: RetryTerms | null): string {
  return `${verdictText(d.decision, terms)} by ${d.by ?? 'timeout default'} at level ${d.level}`;
}

/**
 * Why the calling key may not decide a request now, or null when it may: a pending one
 * waits for the approvers of its level ("waiting for group:release (level 2, job owners)").
 */
export function waitingText(a: Pick<ApprovalView, 'state' | 'may_decide' | 'level' | 'levels'> & { kind?: string }): string | null {
  if (a.state !== 'pending') return `No longer waiting: ${stateText(a.state, a.kind)}.`;
  if (a.may_decide) return null;
  const level = currentLevel(a);
  if (!level) return 'Waiting for its approvers.';
  return `Waiting for ${approversText(level.approvers)} (level ${a.level}, ${level.owner}): this key is not one of them.`;
}

/**
 * Why the key may only stop a pending request (reject it; let an escalation fail), or null
 * when it may also let it go on — or may not decide it at all.
 */
export function onlyStopText(a: Pick<ApprovalView, 'state' | 'kind' | 'may_decide' | 'may_approve'>): string | null {
  if (a.state !== 'pending' || !a.may_decide || a.may_approve) return null;
  if (a.kind === ESCALATION) return 'This key may only let the failure stand; another approver may retry or skip it.';
  return 'You submitted this job; another approver must approve it.';
}

/**
 * The outcome of the key's decision in a sentence ("You approved deploy.", "You skipped
 * broken: it counts as succeeded.", "You approved app’s plan: its children start.").
 */
export function decidedNotice(view: Pick<ApprovalView, 'state' | 'node_name'> & { input?: JsonValue | null; kind?: string }, verdict: Verdict): string {
  const name = view.node_name;
  const plan = view.kind === PLAN;
  if (view.state === 'pending') {
    if (verdict !== 'approve') return `Your decision on ${name} is counted; it waits for more.`;
    return plan ? `Your approval of ${name}’s plan is counted; it waits for more.` : `Your approval of ${name} is counted; it waits for more.`;
  }
  switch (verdict) {
    case 'approve':
      return plan ? `You approved ${name}’s plan: its children start.` : `You approved ${name}.`;
    case 'reject':
      return plan ? `You rejected ${name}’s plan: its children are cancelled.` : `You rejected ${name}.`;
    case 'retry':
      return `You retried ${name}.`;
    case 'retry_with': {
      const terms = termsText(readRetryTerms(view.input) ?? {});
      return terms ? `You retried ${name} with ${terms}.` : `You retried ${name} with other terms.`;
    }
    case 'skip':
      return `You skipped ${name}: it counts as succeeded.`;
    case 'fail':
      return `You let ${name} fail.`;
  }
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

/** Text cut at `max` characters, saying how much was left out. */
export function clippedText(text: string, max = ERROR_CLIP_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

function objectOf(v: unknown): Record<string, unknown> | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The failure an escalation shows (its error, class and attempts, each null when not given); null for another kind. */
export function escalationOf(a: Pick<ApprovalView, 'kind' | 'context'>): EscalationContext | null {
  if (a.kind !== ESCALATION) return null;
  const c = objectOf(a.context) ?? {};
  return {
    error: typeof c.error === 'string' ? c.error : null,
    class: typeof c.class === 'string' && c.class !== '' ? c.class : null,
    attempts: typeof c.attempts === 'number' && Number.isFinite(c.attempts) ? c.attempts : null,
  };
}

function stringsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * What a plan approval shows — the model's plan (null when it holds none), its assignments
 * by manager, the names of the children it placed —; null for another kind.
 */
export function planApprovalOf(a: Pick<ApprovalView, 'kind' | 'context'>): PlanApprovalContext | null {
  if (a.kind !== PLAN) return null;
  const c = objectOf(a.context) ?? {};
  // The context keeps the plan and assignments as a decomposing node's result does.
  const record = { plan: c.plan ?? null, assignments: c.assignments ?? null } as JsonValue;
  return { plan: readPlan(record), assignments: readAssignments(record), children: stringsOf(c.children) };
}

/** How many children's names a plan's one-line summary gives. */
export const PLACED_SHOWN = 5;

/**
 * A plan approval in a line: "project Chirp, 2 components; places database, backend" (the
 * children's names, the first few); null for another kind.
 */
export function planSummary(a: Pick<ApprovalView, 'kind' | 'context'>, shown = PLACED_SHOWN): string | null {
  const p = planApprovalOf(a);
  if (!p) return null;
  const parts: string[] = [];
  const components = p.plan?.components?.length ?? 0;
  if (p.plan?.project_name) parts.push(`project ${p.plan.project_name}`);
  if (components > 0) parts.push(`${components} component${components === 1 ? '' : 's'}`);
  const head = parts.join(', ');
  const names = p.children.slice(0, shown).join(', ');
  const more = p.children.length > shown ? ` and ${p.children.length - shown} more` : '';
  const places = p.children.length > 0 ? `places ${names}${more}` : 'places no children';
  return head ? `${head}; ${places}` : places;
}

const LIMITS = ['memory_mb', 'cpu_seconds', 'timeout_s'] as const;

/** A `retry_with`'s terms as the server stored them (the request's `input`); null when none are readable. */
export function readRetryTerms(v: unknown): RetryTerms | null {
  const o = objectOf(v);
  if (!o) return null;
  const terms: RetryTerms = {};
  for (const k of LIMITS) if (typeof o[k] === 'number') terms[k] = o[k];
  if (typeof o.provider === 'string') terms.provider = o.provider;
  if (typeof o.model === 'string') terms.model = o.model;
  return Object.keys(terms).length > 0 ? terms : null;
}

/** Terms in words: "memory 256 MiB, CPU 30 s, timeout 60 s, provider local, model small"; empty for none. */
export function termsText(t: RetryTerms): string {
  const parts = [
    t.memory_mb !== undefined ? `memory ${formatCount(t.memory_mb)} MiB` : null,
    t.cpu_seconds !== undefined ? `CPU ${formatCount(t.cpu_seconds)} s` : null,
    t.timeout_s !== undefined ? `timeout ${formatCount(t.timeout_s)} s` : null,
    t.provider !== undefined ? `provider ${t.provider}` : null,
    t.model !== undefined ? `model ${t.model}` : null,
  ];
  return parts.filter((p): p is string => p !== null).join(', ');
}

/** The `retry_with` form's fields as typed (blank: unchanged). */
export interface TermsFields {
  memory_mb: string;
  cpu_seconds: string;
  timeout_s: string;
  provider: string;
  model: string;
}

export const NO_TERMS: TermsFields = { memory_mb: '', cpu_seconds: '', timeout_s: '', provider: '', model: '' };

const LIMIT_NAMES: Record<(typeof LIMITS)[number], string> = { memory_mb: 'Memory (MiB)', cpu_seconds: 'CPU (seconds)', timeout_s: 'Timeout (seconds)' };

export type ParsedTerms = { ok: true; value: RetryTerms } | { ok: false; message: string };

/**
 * The terms a `retry_with` sends, from the fields as typed: each limit a whole number of at
 * least 1, a model only with a provider, and at least one of them.
 */
export function parseTerms(f: TermsFields): ParsedTerms {
  const value: RetryTerms = {};
  for (const k of LIMITS) {
    const text = f[k].trim();
    if (!text) continue;
    if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
      return { ok: false, message: `${LIMIT_NAMES[k]} must be a whole number of at least 1.` };
    }
    value[k] = Number(text);
  }
  const provider = f.provider.trim();
  const model = f.model.trim();
  if (model && !provider) return { ok: false, message: 'A model needs its provider.' };
  if (provider) value.provider = provider;
  if (model) value.model = model;
  if (Object.keys(value).length === 0) return { ok: false, message: 'Give at least one: memory, CPU seconds, a timeout, or a provider.' };
  return { ok: true, value };
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
