// Test fixtures: job trees and event frames shaped like the server's (see samples.md).
import type { AlertView, ApprovalView, BudgetView, MessageView, NodeView } from '../api/types';
import type { EventFrame } from '../live/events';

export const JOB = 'job-1';

export function node(id: string, depth: number, children: NodeView[] = [], status = 'pending'): NodeView {
  const roles = ['cto', 'pm', 'tech_lead', 'engineer', 'junior', 'intern'];
  return {
    id,
    name: id,
    title: id,
    role: roles[depth] ?? 'intern',
    depth,
    kind: children.length > 0 ? 'orchestrator' : 'worker',
    status,
    attempts: 0,
    slots: 0,
    child_count: children.length,
    children,
  };
}

/** root → a (a1, a2), b (b1) */
export function smallTree(): NodeView {
  return node('root', 0, [node('a', 1, [node('a1', 2), node('a2', 2)]), node('b', 1, [node('b1', 2)])]);
}

/** A tree with `fanout` children per node down to `depth` levels below the root. */
export function wideTree(fanout: number, depth: number): NodeView {
  let counter = 0;
  const build = (d: number): NodeView => {
    const id = d === 0 ? 'root' : `n${(counter += 1)}`;
    return node(id, d, d < depth ? Array.from({ length: fanout }, () => build(d + 1)) : []);
  };
  return build(0);
}

let seq = 100;

export function frame(type: string, data: Record<string, unknown>, over: Partial<EventFrame> = {}): EventFrame {
  seq += 1;
  return { seq, ts: '2026-11-21T19:21:41.893Z', type, job_id: JOB, depth: 1, data, ...over };
}

/** A budget envelope: `allocated` (null dimensions unlimited) and the other figures, `used` as the server reckons it. */
export function budget(
  allocated: { cost: number | null; tokens: number | null },
  spent: { cost: number; tokens: number },
  over: Partial<BudgetView> = {},
): BudgetView {
  const share = (a: number | null, x: number) => (a !== null && a > 0 ? x / a : null);
  const shares = [share(allocated.cost, spent.cost), share(allocated.tokens, spent.tokens)].filter((x): x is number => x !== null);
  return {
    allocated,
    reserved: { cost: 0, tokens: 0 },
    spent,
    returned: { cost: 0, tokens: 0 },
    on_exhausted: 'ask_parent',
    used: shares.length > 0 ? Math.max(...shares) : null,
    ...over,
  };
}

/** A pending `before` request of node `deploy` in JOB, one level (`scope:admin`), that the key may decide. */
export function approval(over: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id: 'ap-1',
    job_id: JOB,
    node_id: 'deploy',
    node_name: 'deploy',
    kind: 'before',
    state: 'pending',
    prompt: 'Ship it?',
    level: 1,
    levels: [{ owner: 'deploy', approvers: ['scope:admin'], required: 1, timeout_s: null, on_timeout: 'reject' }],
    approvals_at_level: 0,
    deadline: null,
    requested_by: 'ci',
    created_at: '2026-11-21T19:20:41.000Z',
    decisions: [],
    input_schema: null,
    input: null,
    context: {},
    may_decide: true,
    may_approve: true,
    ...over,
  };
}

/** A pending escalation of node `broken` in JOB: its attempt failed (process), the job's owners decide. */
export function escalation(over: Partial<ApprovalView> = {}): ApprovalView {
  return approval({
    id: 'ap-e',
    node_id: 'broken',
    node_name: 'broken',
    kind: 'escalation',
    prompt: "'broken' failed (process) after 1 attempt(s): boom. Retry, retry with other limits, skip or fail?",
    levels: [{ owner: 'job owners', approvers: ['scope:admin'], required: 1, timeout_s: null, on_timeout: 'reject' }],
    context: { error: 'boom', class: 'process', attempts: 1 },
    ...over,
  });
}

/** A pending plan approval of node `app` in JOB: the model planned Chirp and placed managers `database` and `backend`. */
export function planApproval(over: Partial<ApprovalView> = {}): ApprovalView {
  return approval({
    id: 'ap-p',
    node_id: 'app',
    node_name: 'app',
    kind: 'plan',
    prompt: null,
    levels: [{ owner: 'job owners', approvers: ['scope:admin'], required: 1, timeout_s: null, on_timeout: 'reject' }],
    context: {
      plan: {
        project_name: 'Chirp',
        components: [
          { type: 'database', name: 'Posts store', specific_requirements: ['Posts table'] },
          { type: 'backend', name: 'API', specific_requirements: ['POST /api/posts'] },
        ],
        technical_constraints: ['SQLite'],
        success_criteria: ['A post can be created', 'Posts list newest first'],
      },
      assignments: [
        { manager: 'database', title: 'Database', agents: [{ agent: 'table_creation', tasks: ['Create Posts table'] }] },
        { manager: 'backend', title: 'Backend', agents: [{ agent: 'api_endpoints', tasks: ['POST /api/posts'] }] },
      ],
      children: ['database', 'backend'],
    },
    ...over,
  });
}

/** An open failure-rate alert of JOB that holds its new starts: 5 of 5 finished workers failed (100 % > 20 %). */
export function alert(over: Partial<AlertView> = {}): AlertView {
  return {
    id: 'al-1',
    job_id: JOB,
    node_id: null,
    rule: 'failure_rate',
    message: '5 of 5 finished workers failed (100 % > 20 %); new starts are held until someone resumes the job',
    data: { finished: 5, failed: 5, rate: 1, threshold: 0.2, held: true },
    created_at: '2026-11-21T19:20:41.000Z',
    resolved_at: null,
    resolved_by: null,
    open: true,
    ...over,
  };
}

/** An open straggler alert of node `a1` in JOB. */
export function straggler(over: Partial<AlertView> = {}): AlertView {
  return alert({
    id: 'al-s',
    node_id: 'a1',
    rule: 'straggler',
    message: "'a1' has run 12 s, more than 2 × its siblings' median of 4 s",
    data: { elapsed_ms: 12_000, median_ms: 4000, factor: 2, siblings: 3 },
    ...over,
  });
}

/** 2026-11-21T19:21:41.000Z, when the fixtures' messages are sent (MSG_AT + n s for the n-th). */
export const MSG_AT = Date.parse('2026-11-21T19:21:41.000Z');

/** A pending message of JOB from the key `ops` to node `a1`, priority 5, no thread. */
export function message(over: Partial<MessageView> = {}): MessageView {
  return {
    id: 'm-1',
    job_id: JOB,
    to: 'a1',
    from: null,
    sender: 'ops',
    thread_id: null,
    priority: 5,
    body: { text: 'hello' },
    state: 'pending',
    deliveries: 0,
    created_ms: MSG_AT,
    expires_ms: null,
    dead_reason: null,
    ...over,
  };
}
