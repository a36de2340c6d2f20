// Tests of the node panel's Agent line: a delegated node's agent (a link to the organisation
// chart with it selected) and why, a node waiting for one and why, and the line moving on live
// with the `delegation` frames.
import { act, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { DelegationView } from '../api/types';
import { TreeModel } from '../tree/model';
import { frame, JOB, node } from '../test/fixtures';
import { renderWithServices } from '../test/services';
import { NodePanel } from './NodePanel';

function show(delegation: DelegationView | null, status = 'running') {
  const root = node('root', 0, [node('t1', 1, [], status)], 'running');
  root.children[0].delegation = delegation;
  const model = TreeModel.fromJobTree(JOB, root);
  renderWithServices(
    <NodePanel model={model} jobId={JOB} nodeId="t1" loadResult={vi.fn(async () => undefined)} onCancelSubtree={() => undefined} />,
    () => ({ status: 200, body: { node_id: 't1', status, available: false, stdout: '', stderr: '', exit_code: null } }),
  );
  return model;
}

describe('NodePanel agent line', () => {
  it('names the agent a node went to, linking to it in the organisation, and why', () => {
    show({ state: 'assigned', agent: 'dev-a', reason: 'requires lang=rust; least loaded', requested_ms: 1, assigned_ms: 2 });
    const line = screen.getByTestId('node-agent');
    expect(line.dataset.state).toBe('assigned');
    expect(screen.getByRole('link', { name: 'Agent dev-a in the organisation' }).getAttribute('href')).toBe('#/org?agent=dev-a');
    expect(line.textContent).toBe('dev-a: requires lang=rust; least loaded');
  });

  it('says a node waits for an agent, and why; then, from its frame, which agent it went to', () => {
    const model = show({ state: 'waiting', agent: null, reason: 'no agent with lang=rust has room', requested_ms: 1, assigned_ms: null }, 'pending');
    expect(screen.getByTestId('node-agent').textContent).toBe('waiting for an agent: no agent with lang=rust has room');
    expect(screen.queryByRole('link')).toBeNull();
    act(() => {
      model.applyEvents([frame('delegation', { node_id: 't1', name: 't1', agent: 'dev-a', outcome: 'assigned', reason: 'requires lang=rust' })]);
    });
    expect(screen.getByTestId('node-agent').textContent).toBe('dev-a: requires lang=rust');
    act(() => {
      model.applyEvents([frame('delegation', { node_id: 't1', name: 't1', agent: null, outcome: 'timed_out', reason: 'waited 60 s' })]);
    });
    expect(screen.getByTestId('node-agent').textContent).toBe('timed out waiting for an agent: waited 60 s');
  });

  it('shows no agent line for a node the workforce does not staff', () => {
    show(null);
    expect(screen.queryByTestId('node-agent')).toBeNull();
  });
});
