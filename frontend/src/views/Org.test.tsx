// Tests of the organisation view: the empty state, three cards on three levels with their
// load and success rate, a card selecting its agent (in the URL) and the panel showing it,
// and the chart (and the agent shown) read again once per burst of frames that change it.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { OrgTree } from '../api/types';
import { devA, threeLevels } from '../test/agents';
import { frame } from '../test/fixtures';
import { renderWithServices } from '../test/services';
import { Org } from './Org';

/** A server whose chart the test changes; counts the reads of the chart and of dev-a. */
function server(org: OrgTree) {
  const state = { org, agent: devA(), orgReads: 0, agentReads: 0 };
  const handler = (_method: string, url: string) => {
    const path = new URL(url, 'http://x').pathname;
    if (path === '/api/v1/agents/org') {
      state.orgReads += 1;
      return { status: 200, body: state.org };
    }
    if (path === '/api/v1/agents/dev-a') {
      state.agentReads += 1;
      return { status: 200, body: state.agent };
    }
    return { status: 404, body: {} };
  };
  return { state, handler };
}

/** Longer than the chart's throttle (500 ms) with room for a slow run. */
const LIVE = { timeout: 3_000 };

const card = (name: string) => document.querySelector<HTMLButtonElement>(`button.org-card[data-agent="${name}"]`);

describe('Organisation view', () => {
  it('says how to register agents when there are none', async () => {
    renderWithServices(<Org />, server({ name: 'organisation', children: [] }).handler);
    const empty = await screen.findByTestId('org-empty');
    expect(empty.textContent).toBe('No agents registered — POST /api/v1/agents or cadre agents create.');
  });

  it('draws every agent as a card on its level, each a button that selects its agent', async () => {
    const user = userEvent.setup();
    renderWithServices(<Org />, server(threeLevels({ running: 1, success_rate: 1, finished: 2 })).handler);
    const list = await screen.findByRole('list', { name: 'Agents' });
    const buttons = within(list).getAllByRole('button');
    expect(buttons.map((b) => [b.dataset.agent, b.dataset.level])).toEqual([
      ['ceo', '0'],
      ['eng-lead', '1'],
      ['dev-a', '2'],
    ]);
    expect(buttons[0].getAttribute('aria-label')).toBe('Chief Executive, ceo, active, load 0/2, success —');
    expect(buttons[1].textContent).toContain('Engineering lead');
    expect(buttons[1].textContent).toContain('engineering');
    expect(within(card('dev-a') as HTMLElement).getByTestId('org-load').textContent).toBe('1/1');
    expect(within(card('dev-a') as HTMLElement).getByTestId('org-success').textContent).toBe('100 %');
    expect(document.querySelectorAll('.org-links path')).toHaveLength(2);
    expect(screen.getByText('Select an agent (click, or Enter) to see its capabilities, performance and recent tasks.')).toBeTruthy();
    (card('dev-a') as HTMLButtonElement).focus();
    await user.keyboard('{Enter}');
    expect(window.location.hash).toBe('#/org?agent=dev-a');
  });

  it('fits the chart, zooms with the buttons and the keys from a card, and Fit comes back', async () => {
    const user = userEvent.setup();
    renderWithServices(<Org />, server(threeLevels()).handler);
    await screen.findByRole('list', { name: 'Agents' });
    const inner = document.querySelector<HTMLElement>('.org-inner') as HTMLElement;
    // The fit is applied by an effect, which may run after the list shows on a loaded machine.
    await waitFor(() => expect(inner.style.transform).toMatch(/^translate\(.+px, .+px\) scale\(.+\)$/));
    const fitted = inner.style.transform;
    await user.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(inner.style.transform).not.toBe(fitted);
    expect(screen.getByTestId('org-fit').dataset.fitted).toBe('false');
    await user.click(screen.getByTestId('org-fit'));
    expect(inner.style.transform).toBe(fitted);
    (card('ceo') as HTMLButtonElement).focus();
    await user.keyboard('-');
    expect(inner.style.transform).not.toBe(fitted);
    await user.keyboard('0');
    expect(inner.style.transform).toBe(fitted);
  });

  it('shows the selected agent in the side panel', async () => {
    renderWithServices(<Org agent="dev-a" />, server(threeLevels()).handler);
    const panel = await screen.findByRole('complementary', { name: 'Selected agent' });
    await within(panel).findByTestId('agent-perf');
    expect(within(panel).getAllByTestId('agent-task')).toHaveLength(2);
    expect(card('dev-a')?.getAttribute('aria-current')).toBe('true');
    expect(card('ceo')?.getAttribute('aria-current')).toBeNull();
  });

  it('reads the chart and the agent shown again once per burst of frames that change them', async () => {
    const { state, handler } = server(threeLevels());
    const { bus } = renderWithServices(<Org agent="dev-a" />, handler);
    await screen.findByTestId('agent-perf');
    expect(state.orgReads).toBe(1);
    expect(state.agentReads).toBe(1);
    state.org = threeLevels({ running: 1 });
    state.agent = devA({ load: { running: 1, concurrency: 1 } });
    act(() => {
      bus.emit(frame('delegation', { node_id: 'n-t1', name: 't1', agent: 'dev-a', outcome: 'assigned', reason: 'requires lang=rust' }));
      bus.emit(frame('delegation', { node_id: 'n-t2', name: 't2', agent: null, outcome: 'waiting', reason: 'dev-a is busy' }));
      bus.emit(frame('worker_started', { worker_id: 'n-t1', attempt: 1 }));
      bus.emit(frame('llm_call', { node_id: 'n-t1' }));
    });
    await waitFor(() => expect(within(card('dev-a') as HTMLElement).getByTestId('org-load').textContent).toBe('1/1'), LIVE);
    await waitFor(() => expect(screen.getByTestId('agent-load').textContent).toBe('1/1'), LIVE);
    expect(state.orgReads).toBe(2);
    expect(state.agentReads).toBe(2);
    state.org = threeLevels({ running: 0, success_rate: 1, finished: 1 });
    act(() => {
      bus.emit(frame('node_completed', { node_id: 'n-t1', status: 'succeeded' }));
      bus.emit(frame('agent_changed', { name: 'dev-a', change: 'updated', status: 'active' }));
    });
    await waitFor(() => expect(within(card('dev-a') as HTMLElement).getByTestId('org-success').textContent).toBe('100 %'), LIVE);
    expect(state.orgReads).toBe(3);
  });
});
