// Tests of the alerts view and its navigation badge: the open alerts by default (the
// server's filter), the resolved ones on demand (kept in the URL), a fired alert shown at
// once from its frame and the list read again after a burst of frames (one read), a resume
// announced and its alert moving to the resolved list with who resolved it, the next page on
// demand; the badge counts the open alerts, follows the frames and a resync.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AlertView } from '../api/types';
import { AlertsNavLink } from '../components/AlertsNavLink';
import { Alerts } from './Alerts';
import { alert, frame, JOB, straggler } from '../test/fixtures';
import { renderWithServices } from '../test/services';

const RESOLVED_AT = '2026-11-21T19:21:41.000Z';

function fired(a: AlertView) {
  return frame('alert', { alert_id: a.id, rule: a.rule, job_id: a.job_id, node_id: a.node_id, message: a.message, data: a.data });
}

/** A server whose alerts the test changes; records the query of each list read and the resumes. */
function server(initial: AlertView[]) {
  const state = { all: initial, reads: [] as string[], resumes: 0, next: null as string | null };
  const handler = (method: string, url: string) => {
    const u = new URL(url, 'http://x');
    if (method === 'GET' && u.pathname === '/api/v1/alerts') {
      state.reads.push(u.search);
      const open = u.searchParams.get('open');
      const list = state.all.filter((a) => open === null || String(a.open) === open);
      const page = u.searchParams.get('cursor') ? [straggler({ id: 'al-old', node_id: 'old' })] : list;
      return { status: 200, body: { alerts: page, next_cursor: u.searchParams.get('cursor') ? null : state.next } };
    }
    if (method === 'POST' && u.pathname === `/api/v1/recursion/job/${JOB}/resume`) {
      state.resumes += 1;
      state.all = state.all.map((a) => (a.id === 'al-1' ? { ...a, open: false, resolved_at: RESOLVED_AT, resolved_by: 'e2e' } : a));
      return { status: 202, body: { job_id: JOB, status: 'running', request: 'flaky suite', labels: {}, node_count: 10, created_at: RESOLVED_AT } };
    }
    return { status: 404, body: {} };
  };
  return { state, handler };
}

describe('Alerts view', () => {
  it('lists the open alerts, shows a fired one at once, and reads the list again once per burst of frames', async () => {
    const { state, handler } = server([straggler()]);
    const { bus } = renderWithServices(<Alerts />, handler);
    await screen.findByRole('article', { name: 'Straggler open' });
    expect(state.reads).toEqual(['?open=true&limit=50']);
    expect(screen.getByRole('button', { name: 'Open' }).getAttribute('aria-pressed')).toBe('true');
    state.all = [alert(), straggler()];
    act(() => {
      bus.emit(fired(alert()));
      bus.emit(fired(alert()));
    });
    // From the frame, before the list is read again.
    expect(screen.getAllByRole('article').map((a) => a.dataset.alertId)).toEqual(['al-1', 'al-s']);
    await waitFor(() => expect(state.reads).toHaveLength(2));
    expect(screen.getAllByRole('article')).toHaveLength(2);
  });

  it('resumes a held job from its card, announces it, and the alert moves to the resolved list', async () => {
    const user = userEvent.setup();
    const { state, handler } = server([alert(), straggler()]);
    const { bus, unmount } = renderWithServices(<Alerts />, handler);
    const card = await screen.findByRole('article', { name: 'Failure rate too high open' });
    await user.click(within(card).getByRole('button', { name: 'Resume job' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe(`You resumed job ${JOB}: it is running and starts new nodes again.`));
    expect(state.resumes).toBe(1);
    act(() => bus.emit(frame('alert_resolved', { alert_id: 'al-1', rule: 'failure_rate', job_id: JOB, resolved_by: 'e2e' })));
    expect(screen.getAllByRole('article').map((a) => a.dataset.alertId)).toEqual(['al-s']);
    unmount();
    renderWithServices(<Alerts show="resolved" />, handler);
    const resolved = await screen.findByRole('article', { name: 'Failure rate too high resolved' });
    expect(within(resolved).getByTestId('alert-resolved-by').textContent).toBe('by e2e');
    expect(screen.getByRole('button', { name: 'Resolved' }).getAttribute('aria-pressed')).toBe('true');
    expect(state.reads.at(-1)).toBe('?open=false&limit=50');
  });

  it('says when nothing is open, switches lists through the URL, and reads the next page on demand', async () => {
    const user = userEvent.setup();
    const { state, handler } = server([]);
    renderWithServices(<Alerts />, handler);
    expect((await screen.findByTestId('alerts-empty')).textContent).toBe('No alert is open.');
    await user.click(screen.getByRole('button', { name: 'Resolved' }));
    expect(window.location.hash).toBe('#/alerts?show=resolved');
    state.all = [straggler()];
    state.next = '1700000000000';
    renderWithServices(<Alerts show="resolved" />, handler);
    await user.click(await screen.findByRole('button', { name: 'Show more' }));
    await waitFor(() => expect(document.querySelector('[data-alert-id="al-old"]')).not.toBeNull());
    expect(state.reads.at(-1)).toBe('?open=false&limit=50&cursor=1700000000000');
  });
});

describe('AlertsNavLink', () => {
  it('counts the open alerts, follows the frames at once, and reads them again after a burst and on a resync', async () => {
    const { state, handler } = server([]);
    const { bus } = renderWithServices(<AlertsNavLink href="#/alerts" current={false} />, handler);
    const link = screen.getByRole('link');
    await waitFor(() => expect(state.reads).toEqual(['?open=true&limit=100']));
    expect(screen.queryByTestId('alerts-badge')).toBeNull();
    expect(link.textContent).toBe('Alerts');
    state.all = [alert(), straggler()];
    act(() => {
      bus.emit(fired(alert()));
      bus.emit(fired(straggler()));
      bus.emit(frame('node_completed', { node_id: 'f5', status: 'failed' }));
    });
    expect(screen.getByTestId('alerts-badge').textContent).toBe('2 open');
    expect(screen.getByRole('link', { name: 'Alerts 2 open' })).toBe(link);
    await waitFor(() => expect(state.reads).toHaveLength(2));
    state.all = [straggler()];
    act(() => bus.emit(frame('alert_resolved', { alert_id: 'al-1', rule: 'failure_rate', job_id: JOB, resolved_by: 'e2e' })));
    expect(screen.getByTestId('alerts-badge').dataset.count).toBe('1');
    await waitFor(() => expect(state.reads).toHaveLength(3));
    state.all = [];
    act(() => bus.resync());
    await waitFor(() => expect(state.reads).toHaveLength(4));
    await waitFor(() => expect(screen.queryByTestId('alerts-badge')).toBeNull());
  });
});
