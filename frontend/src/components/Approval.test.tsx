// Tests of the approval pieces: an inbox card (prompt, links, facts, an `after` request's
// result, levels, decisions — a timeout's default too —, why the key may not decide), the
// decision form (approve with a comment, disabled while sent; the input only with a schema,
// not sent when not JSON, the server's 422 under it; a 403 above the buttons), the job's
// waiting nodes, and the node panel's Approval section.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../api/client';
import type { ApprovalView } from '../api/types';
import { ServicesContext } from '../app/services';
import { EventBus } from '../live/bus';
import { TreeModel } from '../tree/model';
import { ApprovalCard } from './ApprovalCard';
import { ApprovalsWaiting } from './ApprovalsWaiting';
import { NodePanel } from './NodePanel';
import { approval, JOB, node } from '../test/fixtures';
import { instantGate, jsonResponse, renderWithServices } from '../test/services';

const NOW = Date.parse('2026-11-21T19:21:41.000Z');
const ROUTE = '/api/v1/approvals/ap-1/decision';
const SCHEMA = { type: 'object', properties: { replicas: { type: 'integer', minimum: 1 } }, required: ['replicas'] };
const INPUT_REFUSED = {
  type: 'urn:cadre:problem:validation',
  title: 'Unprocessable Entity',
  status: 422,
  detail: 'the request is invalid',
  errors: [{ path: 'input', message: 'the input does not follow the input_schema: 0 is less than the minimum of 1' }],
};
const OWN_JOB = { type: 'urn:cadre:problem:forbidden', title: 'Forbidden', status: 403, detail: 'ci may not approve its own job’s request' };

function card(a: ApprovalView, handler: Parameters<typeof renderWithServices>[1] = () => ({ status: 500, body: {} }), onDecided = vi.fn()) {
  const utils = renderWithServices(<ApprovalCard approval={a} now={NOW} onDecided={onDecided} />, handler);
  return { ...utils, onDecided };
}

describe('ApprovalCard', () => {
  it('shows what a pending request asks, of whom, and links its node and job', () => {
    card(approval({ deadline: '2026-11-21T19:31:41.000Z', levels: [{ owner: 'deploy', approvers: ['scope:admin'], required: 1, timeout_s: 600, on_timeout: 'escalate' }] }));
    const article = screen.getByRole('article', { name: 'deploy before start' });
    expect(within(article).getByTestId('approval-prompt').textContent).toBe('Ship it?');
    expect(within(article).getByRole('link', { name: 'deploy' }).getAttribute('href')).toBe(`#/jobs/${JOB}?node=deploy`);
    expect(within(article).getByTestId('approval-job').getAttribute('href')).toBe(`#/jobs/${JOB}`);
    expect(within(article).getByTestId('approval-level').textContent).toBe('1 of 1: deploy');
    expect(within(article).getByTestId('approval-approvers').textContent).toBe('scope:admin');
    expect(within(article).getByTestId('approval-progress').textContent).toBe('0 of 1 approval');
    expect(within(article).getByTestId('approval-deadline').textContent).toBe('in 10 min (waits 10 min, then the next level is asked)');
    expect(within(article).getByTestId('approval-requested-by').textContent).toBe('ci');
    expect(within(article).getByRole('button', { name: 'Approve' })).toBeTruthy();
    expect(within(article).getByRole('button', { name: 'Reject' })).toBeTruthy();
    expect(within(article).getByLabelText('Comment (optional)')).toBeTruthy();
    // No schema: no input to give.
    expect(within(article).queryByLabelText(/^Input/)).toBeNull();
    expect(within(article).queryByTestId('approval-result')).toBeNull();
  });

  it('shows the result an after request holds, clipped, and its other levels', () => {
    const levels = [
      { owner: 'report', approvers: ['alice'], required: 1, timeout_s: 60, on_timeout: 'escalate' },
      { owner: 'job owners', approvers: ['scope:admin'], required: 1, timeout_s: null, on_timeout: 'reject' },
    ];
    card(approval({ kind: 'after', node_name: 'report', levels, level: 2, context: { result: { text: 'y'.repeat(3000) }, attempts: 2 } }));
    const article = screen.getByRole('article', { name: 'report accept result' });
    const result = within(article).getByTestId('approval-result').textContent ?? '';
    expect(result.startsWith('{\n  "text": "yyy')).toBe(true);
    expect(result).toMatch(/… \(\d+ more characters\)$/);
    expect(article.textContent).toContain('after 2 attempts');
    const steps = within(article).getAllByRole('listitem');
    expect(steps.map((li) => li.getAttribute('aria-current'))).toEqual([null, 'step']);
    expect(steps[1].textContent).toBe('job owners: scope:admin — 1 required, no time limit (current)');
  });

  it('says whose decision it waits for when the key may not decide it, with no buttons', () => {
    card(approval({ may_decide: false, levels: [{ owner: 'deploy', approvers: ['group:release'], required: 1, timeout_s: null, on_timeout: 'reject' }] }));
    expect(screen.getByTestId('approval-waiting').textContent).toBe('Waiting for group:release (level 1, deploy): this key is not one of them.');
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
  });

  it('offers only Reject to the key that submitted the job, saying why, and no input', async () => {
    const user = userEvent.setup();
    const posts: unknown[] = [];
    const { onDecided } = card(approval({ may_approve: false, input_schema: SCHEMA }), (method, url, body) => {
      if (method === 'POST' && url === ROUTE) posts.push(body);
      return { status: 200, body: approval({ state: 'rejected', may_decide: false, may_approve: false }) };
    });
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['Reject']);
    expect(screen.getByTestId('approval-only-stop').textContent).toBe('You submitted this job; another approver must approve it.');
    expect(screen.queryByLabelText('Input (JSON, sent when approved)')).toBeNull();
    expect(screen.queryByTestId('approval-waiting')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Reject' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledWith(expect.objectContaining({ state: 'rejected' }), 'reject'));
    expect(posts).toEqual([{ decision: 'reject' }]);
  });

  it('shows a decided request’s decisions, a timeout’s default among them, and no deadline or buttons', () => {
    const decisions = [
      { decision: 'approve' as const, by: 'alice', level: 1, at: '2026-11-21T19:19:41.000Z', comment: 'looks right', source: '10.0.0.7' },
      { decision: 'reject' as const, by: null, level: 2, at: '2026-11-21T19:21:11.000Z', comment: null, source: null },
    ];
    card(approval({ state: 'rejected', may_decide: false, decisions, deadline: null }));
    const items = screen.getByRole('list', { name: 'Decisions' }).querySelectorAll('li');
    expect(items[0].textContent).toBe('✓ approved by alice at level 1, 2 min ago (from 10.0.0.7)looks right');
    expect(items[0].querySelector('q')?.textContent).toBe('looks right');
    expect(items[1].textContent).toBe('✗ rejected by timeout default at level 2, 30 s ago');
    expect(screen.getByTestId('approval-state').textContent).toBe('rejected');
    expect(screen.queryByTestId('approval-deadline')).toBeNull();
    expect(screen.queryByTestId('approval-waiting')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Approve' })).toBeNull();
  });
});

describe('ApprovalDecisionForm', () => {
  it('approves with the comment, disabled while it is sent, and hands on the request as it stands', async () => {
    const user = userEvent.setup();
    let release: (r: Response) => void = () => undefined;
    const fetchImpl = vi.fn(() => new Promise<Response>((resolve) => (release = resolve)));
    const api = new ApiClient({ key: 'k', fetchImpl, gate: instantGate() });
    const onDecided = vi.fn();
    render(
      <ServicesContext.Provider value={{ api, bus: new EventBus() }}>
        <ApprovalCard approval={approval()} now={NOW} onDecided={onDecided} />
      </ServicesContext.Provider>,
    );
    await user.type(screen.getByLabelText('Comment (optional)'), ' ship on green ');
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    expect((screen.getByRole('button', { name: 'Approving…' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Reject' }) as HTMLButtonElement).disabled).toBe(true);
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(ROUTE);
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({ decision: 'approve', comment: 'ship on green' });
    const decided = approval({ state: 'approved', may_decide: false, decisions: [{ decision: 'approve', by: 'e2e', level: 1, at: '2026-11-21T19:21:41.000Z', comment: 'ship on green', source: '127.0.0.1' }] });
    release(jsonResponse(200, decided));
    await waitFor(() => expect(onDecided).toHaveBeenCalledWith(decided, 'approve'));
  });

  it('rejects without a comment or input', async () => {
    const user = userEvent.setup();
    const posts: unknown[] = [];
    const { onDecided } = card(approval({ input_schema: SCHEMA }), (method, url, body) => {
      if (method === 'POST' && url === ROUTE) posts.push(body);
      return { status: 200, body: approval({ state: 'rejected', may_decide: false }) };
    });
    await user.click(screen.getByLabelText('Input (JSON, sent when approved)'));
    await user.paste('{"replicas": 2}');
    await user.click(screen.getByRole('button', { name: 'Reject' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledOnce());
    expect(posts).toEqual([{ decision: 'reject' }]);
  });

  it('shows the schema, sends the input, and shows the server’s 422 under the input', async () => {
    const user = userEvent.setup();
    const posts: unknown[] = [];
    const { onDecided } = card(approval({ input_schema: SCHEMA }), (method, url, body) => {
      if (method === 'POST' && url === ROUTE) posts.push(body);
      return { status: 422, body: INPUT_REFUSED };
    });
    expect(JSON.parse(screen.getByTestId('approval-schema').textContent ?? '')).toEqual(SCHEMA);
    const field = screen.getByLabelText('Input (JSON, sent when approved)');
    await user.click(field);
    await user.paste('{"replicas": 0}');
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    const alert = await screen.findByTestId('approval-input-error');
    expect(alert.textContent).toBe('the input does not follow the input_schema: 0 is less than the minimum of 1');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(field.getAttribute('aria-describedby')).toContain(alert.id);
    expect(posts).toEqual([{ decision: 'approve', input: { replicas: 0 } }]);
    expect(onDecided).not.toHaveBeenCalled();
    expect((field as HTMLTextAreaElement).value).toBe('{"replicas": 0}');
  });

  it('does not send input that is not JSON', async () => {
    const user = userEvent.setup();
    const { fetchImpl } = card(approval({ input_schema: SCHEMA }));
    await user.click(screen.getByLabelText('Input (JSON, sent when approved)'));
    await user.paste('{replicas: 3}');
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    expect((await screen.findByTestId('approval-input-error')).textContent).toMatch(/^Not JSON: /);
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('shows a 403 above the buttons and keeps the comment', async () => {
    const user = userEvent.setup();
    card(approval(), () => ({ status: 403, body: OWN_JOB }));
    await user.type(screen.getByLabelText('Comment (optional)'), 'mine');
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    expect((await screen.findByTestId('approval-error')).textContent).toBe('Forbidden (403): ci may not approve its own job’s request');
    expect((screen.getByLabelText('Comment (optional)') as HTMLTextAreaElement).value).toBe('mine');
    expect((screen.getByRole('button', { name: 'Approve' }) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe('ApprovalsWaiting', () => {
  it('lists the job’s pending requests, selecting a node opens it, and is absent without one', async () => {
    const user = userEvent.setup();
    const onSelect = vi.fn();
    const waiting = [
      approval(),
      approval({ id: 'ap-2', node_id: 'audit', node_name: 'audit', kind: 'after', prompt: null, may_decide: false }),
      approval({ id: 'ap-3', node_id: 'old', node_name: 'old', state: 'approved' }),
      approval({ id: 'ap-4', node_id: 'own', node_name: 'own', prompt: null, may_approve: false }),
    ];
    const { unmount } = render(<ApprovalsWaiting approvals={waiting} onSelect={onSelect} />);
    const section = screen.getByRole('region', { name: 'Waiting for approval' });
    expect([...section.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'deploy (before start): Ship it? — yours to decide',
      'audit (accept result) — waiting for scope:admin',
      'own (before start) — yours to reject only (you submitted the job)',
    ]);
    await user.click(within(section).getByRole('button', { name: 'Select node audit' }));
    expect(onSelect).toHaveBeenCalledWith('audit');
    unmount();
    render(<ApprovalsWaiting approvals={[waiting[2]]} onSelect={onSelect} />);
    expect(screen.queryByRole('region', { name: 'Waiting for approval' })).toBeNull();
  });
});

describe('NodePanel approval', () => {
  it('shows a node awaiting approval with its request, and decides it there', async () => {
    const user = userEvent.setup();
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [node('deploy', 1, [], 'awaiting_approval')], 'running'));
    const onApprovalDecided = vi.fn();
    const decided = approval({ state: 'approved', may_decide: false });
    renderWithServices(
      <NodePanel
        model={model}
        jobId={JOB}
        nodeId="deploy"
        loadResult={async () => undefined}
        onCancelSubtree={() => undefined}
        approvals={[approval()]}
        onApprovalDecided={onApprovalDecided}
      />,
      (method, url) => (method === 'POST' && url === ROUTE ? { status: 200, body: decided } : { status: 404, body: {} }),
    );
    expect(screen.getByText('awaiting approval', { exact: false }).className).toBe('badge status-awaiting_approval');
    const section = screen.getByRole('region', { name: 'Approval' });
    expect(within(section).getByTestId('approval-prompt').textContent).toBe('Ship it?');
    expect(within(section).getByRole('list', { name: 'Levels' }).textContent).toBe('deploy: scope:admin — 1 required, no time limit (current)');
    expect(within(section).getByText('No decisions yet.')).toBeTruthy();
    await user.type(within(section).getByLabelText('Comment (optional)'), 'go');
    await user.click(within(section).getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(onApprovalDecided).toHaveBeenCalledWith(decided, 'approve'));
  });

  it('has no Approval section for a node without requests', () => {
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [node('w', 1)], 'running'));
    renderWithServices(<NodePanel model={model} jobId={JOB} nodeId="w" loadResult={async () => undefined} onCancelSubtree={() => undefined} />, () => ({
      status: 404,
      body: {},
    }));
    expect(screen.queryByRole('region', { name: 'Approval' })).toBeNull();
  });
});
