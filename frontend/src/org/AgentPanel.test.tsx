// Tests of the agent panel: its facts (reports to, capabilities as chips, executor, load), its
// performance over 24 h and all time, its recent tasks linking to their nodes, and Pause /
// Resume only where the agent's detail says the key may change it (`may_manage`), sent as a PATCH.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { AgentDetail } from '../api/types';
import { devA } from '../test/agents';
import { JOB } from '../test/fixtures';
import { renderWithServices } from '../test/services';
import { AgentPanel } from './AgentPanel';

/** A server with dev-a; `admin` says whether its detail lets the key change it (`may_manage`). */
function server(admin: boolean, agent: AgentDetail = devA()) {
  const state = { agent: { ...agent, may_manage: admin }, patches: [] as unknown[] };
  const handler = (method: string, url: string, body: unknown) => {
    const path = new URL(url, 'http://x').pathname;
    if (method === 'GET' && path === '/api/v1/agents/dev-a') return { status: 200, body: state.agent };
    if (method === 'PATCH' && path === '/api/v1/agents/dev-a') {
      state.patches.push(body);
      state.agent = { ...state.agent, status: (body as { status: string }).status };
      return { status: 200, body: state.agent };
    }
    return { status: 404, body: {} };
  };
  return { state, handler };
}

const rowCells = (table: HTMLElement, name: string) =>
  [...(within(table).getByRole('rowheader', { name }).closest('tr')?.querySelectorAll('td') ?? [])].map((td) => td.textContent);

describe('AgentPanel', () => {
  it('shows, in a cluster, the places of the agent this replica may fill', async () => {
    const agent = devA();
    const { handler } = server(false, { ...agent, load: { ...agent.load, running: 1, concurrency: 3, share: 2 } });
    renderWithServices(<AgentPanel name="dev-a" version={0} onChanged={vi.fn()} />, handler);
    const share = await screen.findByTestId('agent-share');
    expect(share.textContent).toBe('2 of 3 (this replica’s share across the cluster)');
    expect(screen.getByTestId('agent-load').textContent).toBe('1/3');
  });

  it('shows the agent’s facts, its performance over 24 h and all time, and its recent tasks', async () => {
    const { handler } = server(false);
    renderWithServices(<AgentPanel name="dev-a" version={0} onChanged={vi.fn()} />, handler);
    const table = await screen.findByTestId('agent-perf');
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('dev-a');
    expect(screen.getByRole('link', { name: 'eng-lead' }).getAttribute('href')).toBe('#/org?agent=eng-lead');
    expect(within(screen.getByRole('list', { name: 'Capabilities' })).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['lang=rust', 'sql']);
    expect(screen.getByText('command: sleep 1')).toBeTruthy();
    expect(screen.getByTestId('agent-load').textContent).toBe('0/1');
    expect(screen.getByTestId('agent-mailbox').textContent).toBe('2 messages open');
    expect(screen.queryByTestId('agent-share'), 'a server on its own has no share').toBeNull();
    expect(screen.getByTestId('agent-status').textContent).toContain('active');
    expect(within(table).getAllByRole('columnheader').map((th) => th.textContent)).toEqual(['Figure', '24 h', 'All time']);
    expect(rowCells(table, 'Started')).toEqual(['2', '5']);
    expect(rowCells(table, 'Succeeded')).toEqual(['2', '4']);
    expect(rowCells(table, 'Failed')).toEqual(['0', '1']);
    expect(rowCells(table, 'Success rate')).toEqual(['100 %', '80 %']);
    expect(rowCells(table, 'p50')).toEqual(['1.0 s', '1.0 s']);
    expect(rowCells(table, 'p95')).toEqual(['1.2 s', '1.2 s']);
    expect(rowCells(table, 'Tokens')).toEqual(['12,345', '12,345']);
    expect(rowCells(table, 'Cost')).toEqual(['$0.012', '$0.012']);
    const tasks = screen.getAllByTestId('agent-task');
    expect(tasks).toHaveLength(2);
    const link = within(tasks[0]).getByRole('link', { name: 't2' });
    expect(link.getAttribute('href')).toBe(`#/jobs/${JOB}?node=n-t2`);
    expect(tasks[0].textContent).toContain('succeeded');
    expect(tasks[0].textContent).toContain('ran 1.0 s');
    expect(tasks[0].textContent).toContain('requires lang=rust; least loaded');
    // A read key is offered no Pause.
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Pause' })).toBeNull());
  });

  it('shows dashes for figures nothing measured yet, and says there are no tasks', async () => {
    const fresh = devA({ recent_tasks: [] });
    fresh.performance = { day: { ...fresh.performance.day, success_rate: null, p50_ms: null, p95_ms: null }, all: fresh.performance.all };
    renderWithServices(<AgentPanel name="dev-a" version={0} onChanged={vi.fn()} />, server(false, fresh).handler);
    const table = await screen.findByTestId('agent-perf');
    expect(rowCells(table, 'Success rate')).toEqual(['—', '80 %']);
    expect(rowCells(table, 'p50')).toEqual(['—', '1.0 s']);
    expect(screen.getByTestId('agent-no-tasks').textContent).toBe('No task yet.');
  });

  it('offers an admin key Pause, then Resume, sent as a PATCH', async () => {
    const user = userEvent.setup();
    const { state, handler } = server(true);
    const onChanged = vi.fn();
    renderWithServices(<AgentPanel name="dev-a" version={0} onChanged={onChanged} />, handler);
    await user.click(await screen.findByRole('button', { name: 'Pause' }));
    await screen.findByRole('button', { name: 'Resume' });
    expect(state.patches).toEqual([{ status: 'paused' }]);
    expect(onChanged).toHaveBeenCalledWith(expect.objectContaining({ name: 'dev-a', status: 'paused' }));
    expect(screen.getByTestId('agent-status').textContent).toContain('paused');
    await user.click(screen.getByRole('button', { name: 'Resume' }));
    await screen.findByRole('button', { name: 'Pause' });
    expect(state.patches).toEqual([{ status: 'paused' }, { status: 'active' }]);
  });
});
