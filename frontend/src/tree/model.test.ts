// Tests of the tree model: events applied in place, roll-ups kept incrementally, unknown
// nodes asking for a refetch, the default collapse of big trees, structure versions, a
// retried node's failed attempt (its class and what follows), and nodes awaiting approval.
import { describe, expect, it } from 'vitest';
import { nodeSummary } from './describe';
import { rollupText } from './rollup';
import { COLLAPSE_THRESHOLD, DEFAULT_OPEN_DEPTH, TreeModel, type TreeNode } from './model';
import { budget, frame, JOB, node, smallTree, wideTree } from '../test/fixtures';
import type { HierarchyNode } from '../api/types';

describe('TreeModel events', () => {
  it('worker_started sets running, attempts and slots in place, without a structure change', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const version = m.structureVersion;
    let notified = 0;
    m.subscribeNode('a1', () => (notified += 1));
    const out = m.applyEvents([frame('worker_started', { worker_id: 'a1', orchestrator_id: 'a', attempt: 2 })]);
    const a1 = m.get('a1');
    expect(a1?.status).toBe('running');
    expect(a1?.attempts).toBe(2);
    expect(a1?.slots).toBe(1);
    expect(out.changed.has('a1')).toBe(true);
    expect(out.refetch.size).toBe(0);
    expect(notified).toBe(1);
    expect(m.structureVersion).toBe(version);
  });

  it('node_completed releases the slot and records the status and error', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.applyEvents([
      frame('worker_started', { worker_id: 'b1', attempt: 1 }),
      frame('node_completed', { node_id: 'b1', parent_id: 'b', status: 'failed', error: 'boom' }),
    ]);
    expect(m.get('b1')).toMatchObject({ status: 'failed', slots: 0, error: 'boom', attempts: 1 });
  });

  it('node_retrying shows retrying and the new attempt', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.applyEvents([
      frame('worker_started', { worker_id: 'a2', attempt: 1 }),
      frame('node_retrying', { node_id: 'a2', attempt: 2, delay_ms: 200, error: 'flaky' }),
    ]);
    expect(m.get('a2')).toMatchObject({ status: 'retrying', attempts: 2, slots: 0 });
  });

  it('node_retrying keeps the failed attempt’s class and what follows, until the node ends, and says so in its hover text', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const recovery = { class: 'timeout', action: 'reallocate', level: 2, resources: { memory_mb: null, cpu_seconds: null, timeout_s: 3 } };
    m.applyEvents([
      frame('worker_started', { worker_id: 'a2', attempt: 1 }),
      frame('node_retrying', { node_id: 'a2', name: 'a2', attempt: 1, max_attempts: 3, delay_ms: 200, error: 'timed out', recovery }),
      frame('worker_started', { worker_id: 'a2', attempt: 2 }),
    ]);
    const a2 = m.get('a2') as TreeNode;
    expect(a2.retry).toMatchObject({ attempt: 1, max_attempts: 3, recovery: { class: 'timeout', action: 'reallocate', level: 2 } });
    expect(nodeSummary(a2)).toContain('retry: attempt 1 of 3 failed (timeout) → reallocate');
    m.applyEvents([frame('node_completed', { node_id: 'a2', status: 'succeeded' })]);
    expect(a2.retry).toBeNull();
    expect(nodeSummary(a2)).not.toContain('retry:');
  });

  it('node_retrying replayed over a snapshot already past it still gives the node its retry', () => {
    const tree = smallTree();
    const a1 = tree.children[0].children[0];
    Object.assign(a1, { status: 'running', attempts: 2 });
    const m = TreeModel.fromJobTree(JOB, tree);
    const out = m.applyEvents([frame('node_retrying', { node_id: 'a1', attempt: 1, max_attempts: 2, recovery: { class: 'network', action: 'retry', level: 1 } })]);
    expect(m.get('a1')).toMatchObject({ status: 'running', attempts: 2, retry: { attempt: 1, recovery: { class: 'network' } } });
    expect(out.changed.has('a1')).toBe(true);
    // The same frame again changes nothing.
    expect(m.applyEvents([frame('node_retrying', { node_id: 'a1', attempt: 1, recovery: null })]).changed.size).toBe(0);
  });

  it('keeps roll-up counts of a collapsed node up to date incrementally', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.setCollapsed('a', true);
    expect(m.get('a')?.rollup).toEqual({ pending: 2 });
    expect(m.get('root')?.rollup).toEqual({ pending: 5 });
    let aNotified = 0;
    m.subscribeNode('a', () => (aNotified += 1));
    m.applyEvents([frame('worker_started', { worker_id: 'a1', attempt: 1 })]);
    expect(m.get('a')?.rollup).toEqual({ pending: 1, running: 1 });
    m.applyEvents([
      frame('node_completed', { node_id: 'a1', status: 'failed' }),
      frame('worker_started', { worker_id: 'a2', attempt: 1 }),
    ]);
    expect(m.get('a')?.rollup).toEqual({ failed: 1, running: 1 });
    expect(m.get('root')?.rollup).toEqual({ pending: 3, failed: 1, running: 1 });
    expect(aNotified).toBe(2);
    expect(m.totals()).toEqual({ pending: 4, failed: 1, running: 1 });
  });

  it('asks for a refetch of the job when a frame names an unknown node', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const out = m.applyEvents([frame('worker_started', { worker_id: 'spawned-at-run-time', attempt: 1 })]);
    expect([...out.refetch]).toEqual([JOB]);
    expect(m.has('spawned-at-run-time')).toBe(false);
  });

  it('asks for a refetch when an orchestrator reports more children than known', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const same = m.applyEvents([frame('orchestrator_spawned', { orchestrator_id: 'a', children: 2 })]);
    expect(same.refetch.size).toBe(0);
    const more = m.applyEvents([frame('orchestrator_spawned', { orchestrator_id: 'b', children: 3 })]);
    expect([...more.refetch]).toEqual([JOB]);
  });

  it('asks for the tree again after a decomposition placed children, and takes questions in stride', () => {
    const m = TreeModel.fromJobTree(JOB, node('root', 0, [], 'running'));
    const data = { node_id: 'root', name: 'root', children: 2, intent: 'project', project: 'Chirp', assignments: [] };
    const placed = m.applyEvents([frame('decomposition', data, { depth: 0 })]);
    expect([...placed.refetch]).toEqual([JOB]);
    const asked = m.applyEvents([
      frame('clarification_requested', { node_id: 'root', name: 'root', question: 'Which city?', timeout_s: 3600 }, { depth: 0 }),
      frame('clarification_answered', { node_id: 'root', name: 'root', question: 'Which city?' }, { depth: 0 }),
      frame('decomposition', { node_id: 'root', name: 'root', children: 0 }, { depth: 0 }),
    ]);
    expect(asked.refetch.size).toBe(0);
    expect(asked.changed.size).toBe(0);
    expect(m.get('root')?.status).toBe('running');
  });

  it('never moves an ended node back to running for an old attempt', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.applyEvents([
      frame('worker_started', { worker_id: 'b1', attempt: 1 }),
      frame('node_completed', { node_id: 'b1', status: 'succeeded' }),
      frame('worker_started', { worker_id: 'b1', attempt: 1 }),
    ]);
    expect(m.get('b1')?.status).toBe('succeeded');
  });

  it('ignores replayed frames of earlier attempts (re-applied after a snapshot)', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const history = [
      frame('worker_started', { worker_id: 'a1', attempt: 1 }),
      frame('node_retrying', { node_id: 'a1', attempt: 1, delay_ms: 200, error: 'flaky' }),
    ];
    m.applyEvents(history);
    expect(m.get('a1')).toMatchObject({ status: 'retrying', attempts: 1 });
    m.applyEvents(history);
    expect(m.get('a1')).toMatchObject({ status: 'retrying', attempts: 1 });
    const second = frame('worker_started', { worker_id: 'a1', attempt: 2 });
    m.applyEvents([second]);
    m.applyEvents([...history, second]);
    expect(m.get('a1')).toMatchObject({ status: 'running', attempts: 2, slots: 1 });
  });

  it('tells change listeners once per batch that changed something, and not for a no-op batch', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    let calls = 0;
    const off = m.subscribeChanges(() => (calls += 1));
    m.applyEvents([
      frame('worker_started', { worker_id: 'a1', attempt: 1 }),
      frame('worker_started', { worker_id: 'a2', attempt: 1 }),
    ]);
    expect(calls).toBe(1);
    expect(m.changeVersion).toBe(1);
    m.applyEvents([frame('heartbeat', {})]);
    expect(calls).toBe(1);
    off();
    m.applyEvents([frame('node_completed', { node_id: 'a1', status: 'succeeded' })]);
    expect(calls).toBe(1);
    expect(m.changeVersion).toBe(2);
  });
});

describe('TreeModel collapse', () => {
  it('leaves small trees fully expanded', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    expect(m.visible().map((n) => n.id)).toEqual(['root', 'a', 'a1', 'a2', 'b', 'b1']);
  });

  it(`collapses levels deeper than ${DEFAULT_OPEN_DEPTH + 1} by default past ${COLLAPSE_THRESHOLD} nodes`, () => {
    const big = TreeModel.fromJobTree(JOB, wideTree(8, 4)); // 1 + 8 + 64 + 512 + 4096 nodes
    expect(big.size).toBeGreaterThan(COLLAPSE_THRESHOLD);
    const shown = big.visible();
    expect(Math.max(...shown.map((n) => n.depth))).toBe(DEFAULT_OPEN_DEPTH + 1);
    expect(shown).toHaveLength(1 + 8 + 64);
    expect(big.isCollapsed(shown[2].id)).toBe(true);
    const notBig = TreeModel.fromJobTree(JOB, wideTree(7, 3)); // 1 + 7 + 49 + 343 = 400
    expect(notBig.visible()).toHaveLength(notBig.size);
  });

  it('changes the structure version when the visible set changes, and keeps choices across a refetch', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const v0 = m.structureVersion;
    m.toggle('a');
    expect(m.structureVersion).toBe(v0 + 1);
    expect(m.visible().map((n) => n.id)).toEqual(['root', 'a', 'b', 'b1']);
    m.collapseAll();
    expect(m.visible().map((n) => n.id)).toEqual(['root', 'a', 'b']);
    const fresh = TreeModel.fromJobTree(JOB, smallTree());
    fresh.adoptCollapse(m);
    expect(fresh.visible().map((n) => n.id)).toEqual(['root', 'a', 'b']);
    m.expandAll();
    expect(m.visible()).toHaveLength(6);
    expect(m.nearestVisible('a1')?.id).toBe('a1');
    m.setCollapsed('a', true);
    expect(m.nearestVisible('a1')?.id).toBe('a');
  });

  it('builds from the hierarchy route, dropping the synthetic top', () => {
    const h: HierarchyNode = {
      name: 'jobs',
      depth: -1,
      child_counts: {},
      children: [
        {
          name: 'hello',
          id: 'r',
          job_id: 'j',
          depth: 0,
          role: 'cto',
          status: 'running',
          attempts: 1,
          usage: { slots: 0 },
          child_counts: {},
          children: [
            { name: 'greet', id: 'g', job_id: 'j', depth: 1, role: 'pm', status: 'running', attempts: 1, usage: { slots: 1 }, kind: 'worker', child_counts: {}, children: [] },
          ],
        },
      ],
    };
    const m = TreeModel.fromHierarchy(h);
    expect(m.roots.map((r) => r.id)).toEqual(['r']);
    expect(m.get('g')).toMatchObject({ jobId: 'j', slots: 1, kind: 'worker', status: 'running' });
    expect(m.get('r')?.rollup).toEqual({ running: 1 });
  });
});

describe('TreeModel usage', () => {
  const spent = (input: number, cost: number) => ({ input_tokens: input, output_tokens: 10, cached_tokens: 0, cost, calls: 1 });
  const call = (seq: number, nodeId: string, input = 100, cost = 0.01) =>
    frame('llm_call', { node_id: nodeId, name: nodeId, attempt: 1, turn: 1, purpose: 'execute', input_tokens: input, output_tokens: 10, cached_tokens: 0, cost }, { seq });

  it('reads usage from the snapshot, and null where the server sends none', () => {
    const tree = smallTree();
    tree.usage = null;
    tree.subtree_usage = spent(500, 0.05);
    tree.children[0].children[0].usage = spent(500, 0.05);
    const m = TreeModel.fromJobTree(JOB, tree);
    expect(m.get('root')?.usage).toBeNull();
    expect(m.get('root')?.subtreeUsage).toMatchObject({ input_tokens: 500, cost: 0.05 });
    expect(m.get('a1')?.usage).toMatchObject({ input_tokens: 500, calls: 1 });
    expect(m.get('b1')?.usage).toBeNull();
  });

  it('adds an llm_call to its node and every ancestor, once, and not for frames the snapshot counted', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.countUsageAfter(200);
    const counted = m.applyEvents([call(150, 'a1')]);
    expect(counted.changed.size).toBe(0);
    expect(m.get('a1')?.usage).toBeNull();
    const out = m.applyEvents([call(201, 'a1'), call(202, 'a1', 50, 0.005), call(202, 'a1')]);
    expect([...out.changed].sort()).toEqual(['a', 'a1', 'root']);
    expect(m.get('a1')?.usage).toMatchObject({ input_tokens: 150, output_tokens: 20, calls: 2 });
    expect(m.get('a')?.usage).toBeNull();
    expect(m.get('a')?.subtreeUsage).toMatchObject({ input_tokens: 150, calls: 2 });
    expect(m.get('root')?.subtreeUsage?.cost).toBeCloseTo(0.015);
    expect(m.get('b')?.subtreeUsage).toBeNull();
    expect(m.liveUsage).toMatchObject({ input_tokens: 150, calls: 2 });
  });

  it('asks for the tree again when a call names a node it does not hold', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const out = m.applyEvents([call(300, 'spawned')]);
    expect(out.refetch.has(JOB)).toBe(true);
    expect(m.liveUsage).toMatchObject({ calls: 1 });
  });

  it('does not count calls on the hierarchy, whose snapshot carries no usage', () => {
    const m = TreeModel.fromHierarchy({
      name: 'jobs',
      depth: -1,
      child_counts: {},
      children: [{ name: 'r', id: 'r', job_id: JOB, depth: 0, status: 'running', child_counts: {}, children: [] }],
    });
    m.applyEvents([call(400, 'r')]);
    expect(m.get('r')?.usage).toBeNull();
    expect(m.liveUsage).toBeNull();
  });
});

describe('TreeModel budgets', () => {
  const call = (seq: number, nodeId: string, input: number, cost: number) =>
    frame('llm_call', { node_id: nodeId, name: nodeId, input_tokens: input, output_tokens: 0, cached_tokens: 0, cost }, { seq });
  /** root (cost 1.0) → a (no envelope) → a1 (cost 0.1, 1,000 tokens); b without envelopes. */
  const budgeted = () => {
    const tree = smallTree();
    tree.budget = budget({ cost: 1, tokens: null }, { cost: 0.2, tokens: 2_000 });
    tree.children[0].children[0].budget = budget({ cost: 0.1, tokens: 1_000 }, { cost: 0.05, tokens: 500 });
    return tree;
  };

  it('reads envelopes from the job tree and the hierarchy, null for nodes without one', () => {
    const m = TreeModel.fromJobTree(JOB, budgeted());
    expect(m.get('root')?.budget?.allocated).toEqual({ cost: 1, tokens: null });
    expect(m.get('a1')?.budget?.used).toBe(0.5);
    expect(m.get('a')?.budget).toBeNull();
    const h = TreeModel.fromHierarchy({
      name: 'jobs',
      depth: -1,
      child_counts: {},
      children: [
        {
          name: 'r',
          id: 'r',
          job_id: JOB,
          depth: 0,
          status: 'running',
          usage: { slots: 0, budget_used: 0.9 },
          budget: budget({ cost: 0.5, tokens: null }, { cost: 0.45, tokens: 0 }),
          child_counts: {},
          children: [],
        },
      ],
    });
    expect(h.get('r')?.budget?.used).toBeCloseTo(0.9);
  });

  it('spends a call in every envelope from its node up, once, and not for frames the snapshot counted', () => {
    const m = TreeModel.fromJobTree(JOB, budgeted());
    m.countUsageAfter(200);
    m.applyEvents([call(150, 'a1', 400, 0.04)]);
    expect(m.get('a1')?.budget?.spent).toEqual({ cost: 0.05, tokens: 500 });
    m.applyEvents([call(201, 'a1', 400, 0.04), call(201, 'a1', 400, 0.04)]);
    expect(m.get('a1')?.budget?.spent.tokens).toBe(900);
    expect(m.get('a1')?.budget?.used).toBeCloseTo(0.9);
    expect(m.get('a')?.budget).toBeNull();
    expect(m.get('root')?.budget?.spent.cost).toBeCloseTo(0.24);
    expect(m.get('root')?.budget?.spent.tokens).toBe(2_400);
    m.applyEvents([call(202, 'b1', 100, 0.01)]);
    expect(m.get('root')?.budget?.spent.cost).toBeCloseTo(0.25);
    expect(m.get('a1')?.budget?.spent.tokens).toBe(900);
  });

  it('asks for the job again on a budget_warning, and when a node with an envelope ends', () => {
    const m = TreeModel.fromJobTree(JOB, budgeted());
    const data = { node_id: 'root', name: 'root', by: 'a1', percent: 80, allocated: { cost: 1, tokens: null }, spent: { cost: 0.8, tokens: 9000 } };
    expect([...m.applyEvents([frame('budget_warning', data, { depth: 0 })]).refetch]).toEqual([JOB]);
    expect(m.applyEvents([frame('budget_warning', data, { job_id: 'another-job' })]).refetch.size).toBe(0);
    const b1 = m.applyEvents([frame('node_completed', { node_id: 'b1', status: 'succeeded' })]);
    expect(b1.refetch.size).toBe(0);
    const a1 = m.applyEvents([frame('node_completed', { node_id: 'a1', status: 'succeeded' })]);
    expect([...a1.refetch]).toEqual([JOB]);
  });
});

describe('TreeModel approvals', () => {
  const requested = (nodeId: string, kind: string) =>
    frame('approval_requested', { approval_id: `ap-${nodeId}`, node_id: nodeId, name: nodeId, kind, prompt: 'Ship it?', level: 1, owner: nodeId, approvers: ['scope:admin'], required: 1, deadline_ms: null });
  const decided = (nodeId: string, kind: string, state: string) =>
    frame('approval_decided', { approval_id: `ap-${nodeId}`, node_id: nodeId, name: nodeId, kind, state, decision: state === 'approved' ? 'approve' : 'reject', by: 'e2e', level: 1, comment: null, source: null });

  it('shows a node awaiting approval before it starts, pending again once approved, then running', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    const out = m.applyEvents([requested('a1', 'before')]);
    expect(m.get('a1')).toMatchObject({ status: 'awaiting_approval', slots: 0 });
    expect(out.changed.has('a1')).toBe(true);
    expect(m.totals().awaiting_approval).toBe(1);
    expect(rollupText(m.get('a')?.rollup ?? {})).toBe('1 awaiting approval · 1 pending');
    expect(nodeSummary(m.get('a1') as TreeNode)).toContain('status: awaiting approval');
    m.applyEvents([decided('a1', 'before', 'approved')]);
    expect(m.get('a1')?.status).toBe('pending');
    m.applyEvents([frame('worker_started', { worker_id: 'a1', attempt: 1 })]);
    expect(m.get('a1')).toMatchObject({ status: 'running', attempts: 1 });
    // Replayed over the snapshot that shows it running: old news.
    m.applyEvents([requested('a1', 'before')]);
    expect(m.get('a1')?.status).toBe('running');
  });

  it('holds a finished node for its result to be accepted, and leaves a rejection to node_completed', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.applyEvents([frame('worker_started', { worker_id: 'b1', attempt: 1 }), requested('b1', 'after')]);
    expect(m.get('b1')?.status).toBe('awaiting_approval');
    m.applyEvents([decided('b1', 'after', 'rejected')]);
    expect(m.get('b1')?.status).toBe('awaiting_approval');
    m.applyEvents([frame('node_completed', { node_id: 'b1', status: 'failed', error: 'the after approval was rejected by e2e' })]);
    expect(m.get('b1')).toMatchObject({ status: 'failed', error: 'the after approval was rejected by e2e' });
    // An ended node is not taken back by a replayed request.
    m.applyEvents([requested('b1', 'after')]);
    expect(m.get('b1')?.status).toBe('failed');
  });

  it('holds a running orchestrator for its plan, running again once the plan is approved', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    m.applyEvents([frame('orchestrator_spawned', { node_id: 'a', name: 'a', children: 2 }), requested('a', 'plan')]);
    expect(m.get('a')?.status).toBe('awaiting_approval');
    m.applyEvents([decided('a', 'plan', 'approved')]);
    expect(m.get('a')?.status).toBe('running');
    // A rejected plan is left to node_completed.
    m.applyEvents([requested('b', 'plan'), decided('b', 'plan', 'rejected')]);
    expect(m.get('b')?.status).toBe('awaiting_approval');
  });

  it('asks for the job again when an approval names a node it does not hold, and ignores one without a node', () => {
    const m = TreeModel.fromJobTree(JOB, smallTree());
    expect([...m.applyEvents([requested('zz', 'before')]).refetch]).toEqual([JOB]);
    expect(m.applyEvents([frame('approval_decided', { approval_id: 'x', state: 'approved' })]).changed.size).toBe(0);
  });
});
