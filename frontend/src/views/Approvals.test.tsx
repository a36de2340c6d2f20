// Tests of the approvals inbox and its navigation badge: what the key may decide is listed by
// default (the server's filter), every pending or the decided requests on demand (mine=false,
// pending ones left out of the decided list), a decision replaces its card and is announced,
// the list and the badge are read again after approval frames (debounced: one read for a
// burst) and on a resync, the next page on demand, and an escalation skipped from the inbox.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { ApprovalView } from '../api/types';
import { ApprovalsNavLink } from '../components/ApprovalsNavLink';
import { Approvals } from './Approvals';
import { approval, escalation, frame } from '../test/fixtures';
import { renderWithServices } from '../test/services';

const DECIDED = approval({
  id: 'ap-0',
  node_id: 'build',
  node_name: 'build',
  state: 'approved',
  may_decide: false,
  decisions: [{ decision: 'approve', by: 'e2e', level: 1, at: '2026-11-21T19:21:41.000Z', comment: 'fine', source: '127.0.0.1' }],
});
const OTHERS = approval({ id: 'ap-9', node_id: 'audit', node_name: 'audit', may_decide: false });

function requested(nodeId = 'deploy') {
  return frame('approval_requested', { approval_id: `ap-${nodeId}`, node_id: nodeId, name: nodeId, kind: 'before', prompt: null, level: 1, owner: nodeId, approvers: ['scope:admin'], required: 1, deadline_ms: null });
}

/** A server whose requests the test changes; records the query of each list read. */
function server(initial: ApprovalView[]) {
  const state = { all: initial, reads: [] as string[], next: null as string | null };
  const handler = (method: string, url: string) => {
    const u = new URL(url, 'http://x');
    if (method === 'GET' && u.pathname === '/api/v1/approvals') {
      state.reads.push(u.search);
      const q = u.searchParams;
      const mine = q.get('mine') === null ? q.get('state') === 'pending' : q.get('mine') === 'true';
      const list = state.all.filter((a) => (!q.get('state') || a.state === q.get('state')) && (!mine || a.may_decide));
      const page = q.get('cursor') ? [OTHERS] : list;
      return { status: 200, body: { approvals: page, next_cursor: q.get('cursor') ? null : state.next } };
    }
    if (method === 'POST' && u.pathname === '/api/v1/approvals/ap-1/decision') {
      const decided = approval({ state: 'approved', may_decide: false, decisions: [{ decision: 'approve', by: 'e2e', level: 1, at: '2026-11-21T19:21:41.000Z', comment: null, source: null }] });
      state.all = state.all.map((a) => (a.id === 'ap-1' ? decided : a));
      return { status: 200, body: decided };
    }
    return { status: 404, body: {} };
  };
  return { state, handler };
}

describe('Approvals inbox', () => {
  it('lists what the key may decide, decides one, and reads the list again after its frame', async () => {
    const user = userEvent.setup();
    const { state, handler } = server([approval(), DECIDED, OTHERS]);
    const { bus } = renderWithServices(<Approvals />, handler);
    const card = await screen.findByRole('article', { name: 'deploy before start' });
    expect(state.reads).toEqual(['?state=pending&mine=true&limit=50']);
    expect(screen.getAllByRole('article')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Yours to decide' }).getAttribute('aria-pressed')).toBe('true');
    await user.click(within(card).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('You approved deploy.'));
    // The card shows the request as it stands, until the list is read again.
    expect(screen.getByRole('article', { name: 'deploy before start' }).dataset.state).toBe('approved');
    act(() => bus.emit(frame('approval_decided', { approval_id: 'ap-1', node_id: 'deploy', kind: 'before', state: 'approved' })));
    expect(await screen.findByTestId('approvals-empty')).toBeTruthy();
    expect(screen.getByTestId('approvals-empty').textContent).toBe('Nothing waits for your decision.');
    expect(state.reads).toHaveLength(2);
  });

  it('shows every pending request, or the decided ones with their decisions', async () => {
    const { state, handler } = server([approval(), DECIDED, OTHERS]);
    const first = renderWithServices(<Approvals show="pending" />, handler);
    await screen.findByRole('article', { name: 'audit before start' });
    expect(screen.getAllByRole('article').map((a) => a.dataset.nodeName)).toEqual(['deploy', 'audit']);
    expect(within(screen.getByRole('article', { name: 'audit before start' })).getByTestId('approval-waiting')).toBeTruthy();
    first.unmount();
    renderWithServices(<Approvals show="decided" />, handler);
    const card = await screen.findByRole('article', { name: 'build before start' });
    expect(screen.getAllByRole('article')).toHaveLength(1);
    expect(within(card).getByTestId('decision-text').textContent).toBe('approved by e2e at level 1');
    expect(screen.getByRole('button', { name: 'Decided' }).getAttribute('aria-pressed')).toBe('true');
    expect(state.reads).toEqual(['?state=pending&mine=false&limit=50', '?mine=false&limit=50']);
  });

  it('lists an escalation beside approvals, skips it with a result, and announces it', async () => {
    const user = userEvent.setup();
    const posts: unknown[] = [];
    const skipped = escalation({
      state: 'approved',
      may_decide: false,
      may_approve: false,
      input: { by: 'hand' },
      decisions: [{ decision: 'skip', by: 'e2e', level: 1, at: '2026-11-21T19:21:41.000Z', comment: null, source: null }],
    });
    renderWithServices(<Approvals />, (method, url, body) => {
      if (method === 'GET') return { status: 200, body: { approvals: [escalation(), approval()], next_cursor: null } };
      posts.push(body);
      return url === '/api/v1/approvals/ap-e/decision' ? { status: 200, body: skipped } : { status: 404, body: {} };
    });
    const card = await screen.findByRole('article', { name: 'broken escalation' });
    expect(screen.getAllByRole('article').map((a) => a.dataset.kind)).toEqual(['escalation', 'before']);
    await user.click(within(card).getByLabelText('Result if skipped (JSON, optional)'));
    await user.paste('{"by": "hand"}');
    await user.click(within(card).getByRole('button', { name: 'Skip' }));
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('You skipped broken: it counts as succeeded.'));
    expect(posts).toEqual([{ decision: 'skip', input: { by: 'hand' } }]);
    const after = screen.getByRole('article', { name: 'broken escalation' });
    expect(within(after).getByTestId('decision-text').textContent).toBe('skipped by e2e at level 1');
    expect(within(after).getByTestId('approval-state').textContent).toBe('decided: it goes on');
  });

  it('switches lists through the URL, without a new history entry', async () => {
    const user = userEvent.setup();
    const { handler } = server([approval()]);
    renderWithServices(<Approvals />, handler);
    await screen.findByRole('article');
    await user.click(screen.getByRole('button', { name: 'Decided' }));
    expect(window.location.hash).toBe('#/approvals?show=decided');
  });

  it('reads the next page on demand', async () => {
    const user = userEvent.setup();
    const { state, handler } = server([approval()]);
    state.next = '1700000000000';
    renderWithServices(<Approvals show="pending" />, handler);
    await screen.findByRole('article', { name: 'deploy before start' });
    await user.click(screen.getByRole('button', { name: 'Show more' }));
    await screen.findByRole('article', { name: 'audit before start' });
    expect(state.reads[1]).toBe('?state=pending&mine=false&limit=50&cursor=1700000000000');
    expect(screen.queryByRole('button', { name: 'Show more' })).toBeNull();
  });
});

describe('ApprovalsNavLink', () => {
  it('counts what the key may decide, once per burst of frames, and on a resync', async () => {
    const { state, handler } = server([OTHERS]);
    const { bus } = renderWithServices(<ApprovalsNavLink href="#/approvals" current={false} />, handler);
    const link = screen.getByRole('link');
    await waitFor(() => expect(state.reads).toEqual(['?state=pending&limit=100']));
    expect(screen.queryByTestId('approvals-badge')).toBeNull();
    expect(link.textContent).toBe('Approvals');
    state.all = [approval(), approval({ id: 'ap-2', node_id: 'migrate', node_name: 'migrate' }), OTHERS];
    act(() => {
      bus.emit(requested('deploy'));
      bus.emit(requested('migrate'));
      bus.emit(frame('node_completed', { node_id: 'build', status: 'succeeded' }));
    });
    await waitFor(() => expect(screen.getByTestId('approvals-badge').textContent).toBe('2 waiting for you'));
    expect(screen.getByRole('link', { name: 'Approvals 2 waiting for you' })).toBe(link);
    expect(state.reads).toHaveLength(2);
    state.all = [OTHERS];
    act(() => bus.resync());
    await waitFor(() => expect(screen.queryByTestId('approvals-badge')).toBeNull());
    expect(state.reads).toHaveLength(3);
  });
});
