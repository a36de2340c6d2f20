// Tests of the node panel's parts for decomposed jobs: a running decomposing node's plan (its
// agents selecting their nodes), a checked worker's validation, and no result read for a
// node that has not started; and its budget section (only for a node with an envelope) and
// what it says of a node its budget refused.
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
