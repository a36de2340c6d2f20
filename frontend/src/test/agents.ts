// Test fixtures of the workforce: organisation charts, agents with their performance and
// tasks, shaped like the server's `GET /agents/org` and `GET /agents/{name}`.
import type { AgentDetail, AgentPerf, OrgNode, OrgTree } from '../api/types';
import { JOB } from './fixtures';

export function orgNode(name: string, children: OrgNode[] = [], over: Partial<OrgNode> = {}): OrgNode {
  return { name, title: null, role: null, department: null, status: 'active', running: 0, concurrency: 1, success_rate: null, finished: 0, children, ...over };
}

/** ceo → eng-lead → dev-a (the e2e's three levels). */
export function threeLevels(dev: Partial<OrgNode> = {}): OrgTree {
  return {
    name: 'organisation',
    children: [
      orgNode('ceo', [orgNode('eng-lead', [orgNode('dev-a', [], dev)], { title: 'Engineering lead', department: 'engineering' })], {
        title: 'Chief Executive',
        concurrency: 2,
      }),
    ],
  };
}

/** ceo → cto (dev-a, dev-b), cfo (acct) — and a second root, an auditor reporting to no one. */
export function wideOrg(): OrgTree {
  return {
    name: 'organisation',
    children: [
      orgNode('ceo', [orgNode('cto', [orgNode('dev-a'), orgNode('dev-b')]), orgNode('cfo', [orgNode('acct')])]),
      orgNode('auditor'),
    ],
  };
}

export function perf(over: Partial<AgentPerf> = {}): AgentPerf {
  return { started: 0, succeeded: 0, failed: 0, running: 0, success_rate: null, p50_ms: null, p95_ms: null, tokens: 0, cost: 0, ...over };
}

const ASSIGNED_MS = Date.parse('2026-11-21T19:20:41.000Z');

/** dev-a after the e2e's job: two tasks, both succeeded in about a second; as a read key sees it (not `may_manage`). */
export function devA(over: Partial<AgentDetail> = {}): AgentDetail {
  const done = perf({ started: 2, succeeded: 2, success_rate: 1, p50_ms: 1_010, p95_ms: 1_200, tokens: 12_345, cost: 0.0123 });
  return {
    name: 'dev-a',
    title: null,
    role: 'engineer',
    department: 'engineering',
    reports_to: 'eng-lead',
    capabilities: ['lang=rust', 'sql'],
    run: { type: 'command', argv: ['sleep', '1'] },
    concurrency: 1,
    budget: null,
    status: 'active',
    created_ms: ASSIGNED_MS,
    updated_ms: ASSIGNED_MS,
    load: { running: 0, concurrency: 1 },
    performance: { day: done, all: perf({ ...done, started: 5, succeeded: 4, failed: 1, success_rate: 0.8 }) },
    recent_tasks: [
      { job_id: JOB, node_id: 'n-t2', node_name: 't2', status: 'succeeded', assigned_ms: ASSIGNED_MS + 1_000, started_ms: ASSIGNED_MS + 1_000, finished_ms: ASSIGNED_MS + 2_010, reason: 'requires lang=rust; least loaded' },
      { job_id: JOB, node_id: 'n-t1', node_name: 't1', status: 'succeeded', assigned_ms: ASSIGNED_MS, started_ms: ASSIGNED_MS, finished_ms: ASSIGNED_MS + 1_010, reason: 'requires lang=rust' },
    ],
    may_manage: false,
    mailbox: { open: 2 },
    ...over,
  };
}
