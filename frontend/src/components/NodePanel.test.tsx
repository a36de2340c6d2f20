// Tests of the node panel's parts for decomposed jobs: a running decomposing node's plan (its
// agents selecting their nodes), a checked worker's validation, and no result read for a
// node that has not started.
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { JsonValue } from '../api/types';
import { TreeModel } from '../tree/model';
import { NodePanel } from './NodePanel';
import { decomposedTree, PLANNED, VALIDATED } from '../test/decomposition';
import { JOB, node } from '../test/fixtures';
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
