// Tests of the node panel's parts for decomposed jobs: a running decomposing node's plan (its
// agents selecting their nodes), a checked worker's validation, and no result read for a
// node that has not started; its budget section (only for a node with an envelope) and
// what it says of a node its budget refused; and its recovery section (a failed node's from
// its stored result, a retrying one's from its node_retrying frame).
import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { JsonValue } from '../api/types';
import { TreeModel } from '../tree/model';
import { NodePanel } from './NodePanel';
import { decomposedTree, PLANNED, VALIDATED } from '../test/decomposition';
import { budget, frame, JOB, node } from '../test/fixtures';
import { renderWithServices } from '../test/services';

const RESULTS: Record<string, JsonValue> = { root: PLANNED, 'table_creation-1': VALIDATED };

function show(model: TreeModel, nodeId: string, onSelect = vi.fn()) {
  const loadResult = vi.fn(async (id: string) => RESULTS[id]);
  const logs = { node_id: nodeId, status: 'succeeded', available: false, stdout: '', stderr: '', exit_code: null };
  renderWithServices(
    <NodePanel model={model} jobId={JOB} nodeId={nodeId} loadResult={loadResult} onCancelSubtree={() => undefined} onSelect={onSelect} />,
    () => ({ status: 200, body: logs }),
  );
  return { loadResult, onSelect };
}

describe('NodePanel for a decomposed job', () => {
  it('shows a running decomposing node’s plan, its agents selecting their nodes', async () => {
    const user = userEvent.setup();
    const model = TreeModel.fromJobTree(JOB, decomposedTree('running'));
    const { onSelect } = show(model, 'root');
    const plan = await screen.findByRole('region', { name: 'Plan' });
    expect(plan.textContent).toContain('Project: Chirp');
    expect(screen.getByText('Shown when the node has ended.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Select node table_creation-1' }));
    await user.click(screen.getByRole('button', { name: 'Select node database' }));
    expect(onSelect.mock.calls).toEqual([['table_creation-1'], ['database']]);
    expect(screen.queryByRole('region', { name: 'Validation' })).toBeNull();
  });

  it('shows an ended worker’s validation with its attempts', async () => {
    const model = TreeModel.fromJobTree(JOB, decomposedTree());
    show(model, 'table_creation-1');
    const validation = await screen.findByRole('region', { name: 'Validation' });
    expect(validation.textContent).toContain('✗ failed');
    expect(validation.textContent).toContain('2 (1 retry)');
    expect(validation.textContent).toContain('The Posts table has no length check');
    expect(screen.queryByRole('region', { name: 'Plan' })).toBeNull();
  });

  it('reads no result for an orchestrator that has not started', () => {
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [node('w', 1)]));
    const { loadResult } = show(model, 'root');
    expect(loadResult).not.toHaveBeenCalled();
    expect(screen.queryByRole('region', { name: 'Plan' })).toBeNull();
  });
});

describe('NodePanel budget', () => {
  it('shows the envelope of a node that has one, with unlimited dimensions and the policy, live as calls spend it', async () => {
    const root = node('root', 0, [node('w', 1, [], 'running')], 'running');
    root.budget = budget({ cost: null, tokens: 10_000 }, { cost: 0.004, tokens: 2_000 }, { reserved: { cost: 0.001, tokens: 500 } });
    const model = TreeModel.fromJobTree(JOB, root);
    show(model, 'root');
    const section = await screen.findByRole('region', { name: 'Budget' });
    const cells = (name: string) => [...(within(section).getByRole('rowheader', { name }).closest('tr')?.querySelectorAll('td') ?? [])].map((td) => td.textContent);
    expect(cells('Allocated')).toEqual(['unlimited', '10,000']);
    expect(cells('Reserved')).toEqual(['$0.0010', '500']);
    expect(cells('Spent')).toEqual(['$0.0040', '2,000']);
    expect(section.textContent).toContain('ask_parent: its ancestors top it up');
    expect(within(section).getByTestId('budget-used').textContent).toBe('20 % (its most spent dimension)');
    // A call of the worker below spends the root's envelope too.
    act(() => {
      model.applyEvents([frame('llm_call', { node_id: 'w', input_tokens: 5_000, output_tokens: 1_000, cached_tokens: 0, cost: 0.002 })]);
    });
    expect(cells('Spent')).toEqual(['$0.0060', '8,000']);
    expect(within(section).getByTestId('budget-used').textContent).toBe('80 % (its most spent dimension)');
  });

  it('shows no budget section for a node without an envelope, and says when a budget refused a node', async () => {
    const w = node('w', 1, [], 'failed');
    w.error = "budget_exceeded: a call of at most cost 0.0615, and the envelope of 'root' has cost 0.01 left";
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [w], 'failed'));
    show(model, 'w');
    expect(await screen.findByTestId('budget-refusal')).toBeTruthy();
    expect(screen.queryByRole('region', { name: 'Budget' })).toBeNull();
  });
});

describe('NodePanel recovery', () => {
  const REALLOCATED = { class: 'memory', action: 'reallocate', level: 2, resources: { memory_mb: 128, cpu_seconds: null, timeout_s: 2 } };

  function showResult(model: TreeModel, nodeId: string, result: JsonValue) {
    const loadResult = vi.fn(async () => result);
    const logs = { node_id: nodeId, status: 'failed', available: false, stdout: '', stderr: '', exit_code: null };
    renderWithServices(
      <NodePanel model={model} jobId={JOB} nodeId={nodeId} loadResult={loadResult} onCancelSubtree={() => undefined} />,
      () => ({ status: 200, body: logs }),
    );
  }

  it('shows a failed node’s class, that nothing follows and the server’s note', async () => {
    const w = node('w', 1, [], 'failed');
    w.error = 'exit code 1';
    const note = 'escalation asks a person once approvals exist; until then the node fails';
    showResult(TreeModel.fromJobTree(JOB, node('root', 0, [w], 'failed')), 'w', {
      exit_code: 1,
      recovery: { class: 'process', action: 'fail', level: 0, note },
    });
    const section = await screen.findByRole('region', { name: 'Recovery' });
    expect(within(section).getByTestId('recovery-class').textContent).toBe('process — a non-zero exit or another error');
    expect(within(section).getByTestId('recovery-outcome').textContent).toBe('failed: not retried');
    expect(within(section).getByTestId('recovery-note').textContent).toBe(note);
    expect(within(section).queryByText('Attempt')).toBeNull();
  });

  it('shows a retrying node’s failed attempt and its reallocation, live from its node_retrying frame', async () => {
    const w = node('w', 1, [], 'running');
    w.attempts = 1;
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [w], 'running'));
    showResult(model, 'w', null);
    expect(screen.queryByRole('region', { name: 'Recovery' })).toBeNull();
    act(() => {
      model.applyEvents([
        frame('node_retrying', { node_id: 'w', name: 'w', attempt: 1, max_attempts: 3, delay_ms: 200, error: 'killed by signal 9', recovery: REALLOCATED }),
      ]);
    });
    const section = await screen.findByRole('region', { name: 'Recovery' });
    expect(section.textContent).toContain('Attempt1 of 3 failed');
    expect(within(section).getByTestId('recovery-class').textContent).toBe('memory — killed for memory or out of memory');
    expect(within(section).getByTestId('recovery-outcome').textContent).toBe('level 2: reallocated — next attempt gets 128 MiB, a 2 s timeout');
    expect(within(section).queryByTestId('recovery-note')).toBeNull();
    // The next attempt runs with it; an attempt a restart cut short says nothing of a class.
    act(() => {
      model.applyEvents([frame('worker_started', { worker_id: 'w', attempt: 2 })]);
    });
    expect(within(section).getByTestId('recovery-class').textContent).toContain('memory');
    act(() => {
      model.applyEvents([frame('node_retrying', { node_id: 'w', attempt: 2, max_attempts: 3, delay_ms: 0, error: 'interrupted', recovery: null })]);
    });
    expect(screen.queryByRole('region', { name: 'Recovery' })).toBeNull();
  });

  it('shows no recovery for a succeeded node (its result is no failed attempt’s)', async () => {
    const ok = node('ok', 1, [], 'succeeded');
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [ok], 'succeeded'));
    showResult(model, 'ok', { output: 'fine', recovery: REALLOCATED });
    await screen.findByText(/"output": "fine"/);
    expect(screen.queryByRole('region', { name: 'Recovery' })).toBeNull();
  });

  it('shows no recovery for a failed node whose result has none, or a malformed one', async () => {
    const bad = node('bad', 1, [], 'failed');
    showResult(TreeModel.fromJobTree(JOB, node('root', 0, [bad], 'failed')), 'bad', { exit_code: 2, recovery: { class: 'memory' } });
    await screen.findByText(/"exit_code": 2/);
    expect(screen.queryByRole('region', { name: 'Recovery' })).toBeNull();
  });
});
