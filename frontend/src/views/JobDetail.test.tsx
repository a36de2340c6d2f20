// Tests of the Job detail view: live updates from the bus, refetch on an unknown node, the
// cancel confirmation dialog (focus, Escape, 409 shown as an alert), the Tree / Overview /
// Timeline tabs (kept in the URL, keyboard operable, selecting into the side panel), and
// model spend (cards, summary, live calls, the selected node's conversation), a paused job's
// question and answer form (live from the clarification frames too), the report, and the
// job's budget (in the summary, grown live) with the budget warnings streamed, and a job
// paused by an approval (its waiting node listed and opened, decided in its panel, no
// question form, statuses read again after the approval frames; a node link opening a panel),
// and a job held by its failure-rate alert (the banner, no question form, Resume job; the
// banner gone once the alert is resolved; a straggler's alert in its node's panel), and the
// Dead letters tab (its count badge, read again after message_dead_lettered frames, a
// recipient opening its node's panel with its Mailbox).
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { JobDetail } from './JobDetail';
import { renderWithServices, type Handler } from '../test/services';
import { alert, approval, budget, frame, JOB, message, MSG_AT, node, smallTree, straggler } from '../test/fixtures';
import type { NodeView, Usage } from '../api/types';
import { LLM_CALLS } from '../test/llmCalls';
import { parseHash, useHash } from '../app/route';
import { decomposedTree, PAUSED, PLANNED } from '../test/decomposition';

/** The job page as the router shows it: the view follows the URL. */
function RoutedJob() {
  const route = parseHash(useHash());
  return <JobDetail id={JOB} view={route.name === 'job' ? (route.view ?? 'tree') : 'tree'} />;
}

function jobView(tree: NodeView, status = 'running') {
  return {
    job_id: JOB,
    status,
    request: 'test job',
    labels: { team: 'a' },
    created_at: '2026-11-21T19:21:41.892Z',
    started_at: '2026-11-21T19:21:41.892Z',
    finished_at: null,
    counts: { by_status: { pending: 6 }, by_depth: { '0': 1, '1': 2, '2': 3 } },
    result: null,
    error: null,
    tree,
  };
}

/** The page with a job that has no approval requests, alerts nor messages (the page reads them besides the job; not counted as the job's reads). */
function renderJob(ui: ReactElement, handler: Handler) {
  return renderWithServices(ui, (method, url, body) => {
    if (method === 'GET' && url.startsWith('/api/v1/approvals?')) return { status: 200, body: { approvals: [], next_cursor: null } };
    if (method === 'GET' && url.startsWith('/api/v1/alerts?')) return { status: 200, body: { alerts: [], next_cursor: null } };
    if (method === 'GET' && url.startsWith(`/api/v1/recursion/job/${JOB}/messages`)) return { status: 200, body: { messages: [] } };
    return handler(method, url, body);
  });
}

/** For the tests that go through several fetches (the default 5 s is tight on a busy machine). */
const LONG_TEST_MS = 15_000;

const item = (id: string) => document.querySelector<HTMLElement>(`[data-node-id="${id}"]`);

describe('JobDetail view', () => {
  it('applies stream frames live and refetches when a frame names an unknown node', async () => {
    let gets = 0;
    const grown = smallTree();
    grown.children[1].children.push(node('b2', 2));
    const { bus } = renderJob(<JobDetail id={JOB} />, (method, url) => {
      if (method === 'GET' && url.startsWith(`/api/v1/recursion/job/${JOB}?`)) {
        gets += 1;
        return { status: 200, body: jobView(gets === 1 ? smallTree() : grown) };
      }
      return { status: 404, body: { type: 'x', title: 'Not Found', status: 404, detail: url } };
    });
    await waitFor(() => expect(item('a1')).not.toBeNull());
    act(() => bus.emit(frame('worker_started', { worker_id: 'a1', orchestrator_id: 'a', attempt: 1 })));
    await waitFor(() => expect(item('a1')?.dataset.status).toBe('running'));
    expect(gets).toBe(1);
    act(() => bus.emit(frame('worker_started', { worker_id: 'b2', orchestrator_id: 'b', attempt: 1 })));
    await waitFor(() => expect(item('b2')).not.toBeNull(), { timeout: 8000 });
    expect(gets).toBe(2);
    expect(item('b2')?.dataset.status).toBe('running');
    expect(item('a1')?.dataset.status).toBe('running');
    act(() => bus.emit(frame('worker_started', { worker_id: 'other' }, { job_id: 'another-job' })));
    expect(gets).toBe(2);
  });

  it('asks for confirmation before cancelling, and shows a 409 as an alert', async () => {
    const user = userEvent.setup();
    const calls: string[] = [];
    renderJob(<JobDetail id={JOB} />, (method, url) => {
      calls.push(`${method} ${url}`);
      if (method === 'DELETE') {
        return {
          status: 409,
          body: { type: 'urn:cadre:problem:conflict', title: 'Conflict', status: 409, detail: `job ${JOB} has already ended (succeeded)` },
        };
      }
      return { status: 200, body: jobView(smallTree()) };
    });
    const cancel = await screen.findByRole('button', { name: 'Cancel job' });
    await user.click(cancel);
    const dialog = screen.getByRole('dialog', { name: 'Cancel this job?' });
    expect(dialog.contains(document.activeElement)).toBe(true);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(calls.some((c) => c.startsWith('DELETE'))).toBe(false);
    await user.click(cancel);
    await user.click(screen.getByRole('button', { name: 'Confirm' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Conflict (409)');
    expect(calls).toContain(`DELETE /api/v1/recursion/job/${JOB}`);
  });

  it('shows the job as ended when job_completed arrives', async () => {
    const { bus } = renderJob(<JobDetail id={JOB} />, () => ({ status: 200, body: jobView(smallTree()) }));
    const status = await screen.findByTestId('job-status');
    expect(status.dataset.status).toBe('running');
    act(() => bus.emit(frame('job_completed', { job_id: JOB, status: 'failed', error: 'b1 failed' }, { depth: 0 })));
    await waitFor(() => expect(screen.getByTestId('job-status').dataset.status).toBe('failed'));
    expect((screen.getByRole('button', { name: 'Cancel job' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('switches between Tree, Overview and Timeline with the tabs, keeping the choice in the URL', async () => {
    const user = userEvent.setup();
    window.location.hash = `#/jobs/${JOB}`;
    const tree = smallTree();
    tree.started_at = '2026-11-21T19:21:41.900Z';
    renderJob(<RoutedJob />, () => ({ status: 200, body: jobView(tree) }));
    await waitFor(() => expect(item('a1')).not.toBeNull());
    const tab = (name: string) => screen.getByRole('tab', { name });
    expect(tab('Tree').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel', { name: 'Tree' })).toBeTruthy();
    await user.click(tab('Overview'));
    await waitFor(() => expect(window.location.hash).toBe(`#/jobs/${JOB}?view=overview`));
    await waitFor(() => expect(document.querySelectorAll('circle.ov-node')).toHaveLength(6));
    expect(item('a1')?.getAttribute('role')).toBeNull();
    await user.keyboard('{ArrowRight}');
    await waitFor(() => expect(window.location.hash).toBe(`#/jobs/${JOB}?view=timeline`));
    expect(document.activeElement).toBe(tab('Timeline'));
    await waitFor(() => expect(document.querySelectorAll('rect.tl-bar')).toHaveLength(1));
    await user.click(document.querySelector('rect.tl-bar[data-node-id="root"]') as Element);
    expect(await screen.findByRole('heading', { name: 'cto root' })).toBeTruthy();
    tab('Timeline').focus();
    await user.keyboard('{Home}');
    await waitFor(() => expect(window.location.hash).toBe(`#/jobs/${JOB}`));
    await waitFor(() => expect(item('a1')?.getAttribute('role')).toBe('treeitem'));
  });

  it('shows model spend on cards and in the summary, grows it live, and opens a node’s conversation', async () => {
    const user = userEvent.setup();
    const usage = (input: number, output: number, cost: number, calls: number): Usage => ({
      input_tokens: input,
      output_tokens: output,
      cached_tokens: 0,
      cost,
      calls,
    });
    const snapshot = (u: Usage) => {
      const tree = smallTree();
      const a1 = tree.children[0].children[0];
      a1.usage = u;
      a1.subtree_usage = u;
      tree.children[0].subtree_usage = u;
      tree.subtree_usage = u;
      return { ...jobView(tree), usage: u };
    };
    let gets = 0;
    const calls: string[] = [];
    const { bus } = renderJob(<JobDetail id={JOB} />, (_method, url) => {
      if (url.includes('/llm-calls')) {
        calls.push(url);
        return { status: 200, body: LLM_CALLS };
      }
      gets += 1;
      // The second snapshot counts the call streamed in between.
      return { status: 200, body: snapshot(gets === 1 ? usage(12_000, 345, 0.0421, 3) : usage(13_000, 400, 0.0521, 4)) };
    });
    await waitFor(() => expect(item('a1')).not.toBeNull());
    expect(item('a1')?.textContent).toContain('12.3k tok · $0.042');
    expect(item('root')?.getAttribute('aria-label')).toBe('cto root, pending, attempts 0, slots 0, 12.3k tok, $0.042');
    expect(item('b1')?.textContent).not.toContain('tok');
    expect(screen.getByTestId('job-tokens').textContent).toBe('12,000 in / 345 out');
    act(() =>
      bus.emit(frame('llm_call', { node_id: 'a1', name: 'a1', input_tokens: 1000, output_tokens: 5, cached_tokens: 0, cost: 0.01 }, { depth: 2 })),
    );
    await waitFor(() => expect(item('a1')?.textContent).toContain('13.3k tok · $0.052'));
    expect(item('root')?.textContent).toContain('13.3k tok · $0.052');
    expect(screen.getByTestId('job-cost').textContent).toBe('$0.052');
    await user.click(item('b1') as HTMLElement);
    expect(await screen.findByRole('heading', { name: 'tech_lead b1' })).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Conversation' })).toBeNull();
    await user.click(item('a1') as HTMLElement);
    expect(await screen.findByRole('heading', { name: 'Call 3 · repair' })).toBeTruthy();
    expect(screen.getByTestId('node-spend').textContent).toContain('13,000 in / 350 out');
    expect(calls).toEqual([`/api/v1/recursion/job/${JOB}/nodes/a1/llm-calls`]);
    // A refetch takes the server's totals, without counting the streamed call again.
    act(() => bus.emit(frame('worker_started', { worker_id: 'new', orchestrator_id: 'b', attempt: 1 })));
    await waitFor(() => expect(gets).toBe(2), { timeout: 8000 });
    await waitFor(() => expect(item('a1')?.textContent).toContain('13.4k tok · $0.052'));
    expect(screen.getByTestId('job-tokens').textContent).toBe('13,000 in / 400 out');
  }, LONG_TEST_MS);

  it('shows a paused job’s question with an answer form, shows a 409, then sends the answer', async () => {
    const user = userEvent.setup();
    const root = node('root', 0, [], 'running');
    root.kind = 'orchestrator';
    let status = 'paused';
    let answers = 0;
    const posts: unknown[] = [];
    renderJob(<JobDetail id={JOB} />, (method, url, body) => {
      if (method === 'POST' && url === `/api/v1/recursion/job/${JOB}/answer`) {
        posts.push(body);
        answers += 1;
        if (answers === 1) {
          return { status: 409, body: { type: 'urn:cadre:problem:conflict', title: 'Conflict', status: 409, detail: 'the job is not waiting for an answer' } };
        }
        status = 'running';
        return { status: 202, body: { job_id: JOB, status, request: 'test job', labels: {}, node_count: 1, created_at: '2026-11-21T19:21:41.892Z' } };
      }
      const withResult = url.includes('results=true') ? { ...root, result: PAUSED } : root;
      return { status: 200, body: jobView(withResult, status) };
    });
    const question = await screen.findByTestId('clarification-question');
    await waitFor(() => expect(question.textContent).toBe('Which database should the app use?'));
    expect(screen.getByTestId('job-status').dataset.status).toBe('paused');
    expect((screen.getByRole('button', { name: 'Cancel job' }) as HTMLButtonElement).disabled).toBe(false);
    await user.type(screen.getByLabelText('Your answer'), 'PostgreSQL 15');
    await user.click(screen.getByRole('button', { name: 'Send answer' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Conflict (409): the job is not waiting for an answer');
    await user.click(screen.getByRole('button', { name: 'Send answer' }));
    expect(await screen.findByText('Answer sent: the job goes on.')).toBeTruthy();
    expect(screen.queryByTestId('clarification')).toBeNull();
    expect(screen.getByTestId('job-status').dataset.status).toBe('running');
    expect(posts).toEqual([{ answer: 'PostgreSQL 15' }, { answer: 'PostgreSQL 15' }]);
  }, LONG_TEST_MS);

  it('pauses and goes on live with the clarification frames, and reads the plan after a decomposition', async () => {
    const user = userEvent.setup();
    let gets = 0;
    let placed = false;
    const { bus } = renderJob(<JobDetail id={JOB} />, (_method, url) => {
      if (!url.includes('results=true')) gets += 1;
      const tree = placed ? decomposedTree('running') : { ...node('root', 0, [], 'running'), kind: 'orchestrator' };
      if (url.includes('results=true')) tree.result = placed ? PLANNED : {};
      return { status: 200, body: jobView(tree) };
    });
    await waitFor(() => expect(item('root')).not.toBeNull());
    const asked = { node_id: 'root', name: 'root', question: 'Which city?', timeout_s: 3600 };
    act(() => bus.emit(frame('clarification_requested', asked, { depth: 0 })));
    expect(await screen.findByTestId('clarification-question')).toHaveProperty('textContent', 'Which city?');
    expect(screen.getByTestId('job-status').dataset.status).toBe('paused');
    await waitFor(() => expect(gets).toBe(2), { timeout: 8000 });
    act(() => bus.emit(frame('clarification_answered', { node_id: 'root', name: 'root', question: 'Which city?' }, { depth: 0 })));
    await waitFor(() => expect(screen.queryByTestId('clarification')).toBeNull());
    expect(screen.getByTestId('job-status').dataset.status).toBe('running');
    // The decomposition placed children: the tree is fetched again, and the root's plan read.
    await user.click(item('root') as HTMLElement);
    placed = true;
    const data = { node_id: 'root', name: 'root', children: 1, intent: 'project', project: 'Chirp', assignments: [] };
    act(() => bus.emit(frame('decomposition', data, { depth: 0 })));
    await waitFor(() => expect(item('table_creation-1')).not.toBeNull(), { timeout: 8000 });
    const plan = await screen.findByRole('region', { name: 'Plan' });
    expect(plan.textContent).toContain('Project: Chirp');
    await user.click(screen.getByRole('button', { name: 'Select node table_creation-2' }));
    expect(await screen.findByRole('heading', { name: 'tech_lead table_creation-2' })).toBeTruthy();
  }, LONG_TEST_MS);

  it('fetches the report with the Report button and shows it', async () => {
    const user = userEvent.setup();
    const calls: string[] = [];
    renderJob(<JobDetail id={JOB} />, (method, url) => {
      calls.push(`${method} ${url}`);
      if (url.endsWith('/report')) return { status: 200, text: '# Chirp\n\n**Status:** running\n' };
      return { status: 200, body: jobView(smallTree()) };
    });
    const button = await screen.findByRole('button', { name: 'Report' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(calls.some((c) => c.endsWith('/report'))).toBe(false);
    await user.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    expect((await screen.findByTestId('job-report-text')).textContent).toBe('# Chirp\n\n**Status:** running\n');
    expect(calls).toContain(`GET /api/v1/recursion/job/${JOB}/report`);
    await user.click(screen.getByRole('button', { name: 'Close report' }));
    expect(screen.queryByTestId('job-report-text')).toBeNull();
    expect(button.getAttribute('aria-expanded')).toBe('false');
  });

  it('shows the job’s budget, grows it live, shows budget warnings and refetches on one', async () => {
    const user = userEvent.setup();
    let gets = 0;
    const snapshot = (spentCost: number) => {
      const tree = smallTree();
      tree.budget = budget({ cost: 0.05, tokens: null }, { cost: spentCost, tokens: 1_000 });
      tree.children[0].budget = budget({ cost: 0.02, tokens: null }, { cost: 0.004, tokens: 400 });
      return { ...jobView(tree), budget: tree.budget };
    };
    const { bus } = renderJob(<JobDetail id={JOB} />, () => {
      gets += 1;
      return { status: 200, body: snapshot(gets === 1 ? 0.0123 : 0.041) };
    });
    await waitFor(() => expect(screen.getByTestId('job-budget').textContent).toBe('$0.0123 of $0.0500 (25 %)'));
    expect(screen.getByRole('meter', { name: 'Job budget used' }).getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByTestId('budget-warnings').textContent).toBe('');
    // A call under `a` spends a's envelope and the root's, which is the job's.
    act(() => bus.emit(frame('llm_call', { node_id: 'a1', input_tokens: 900, output_tokens: 100, cached_tokens: 0, cost: 0.0127 }, { depth: 2 })));
    await waitFor(() => expect(screen.getByTestId('job-budget').textContent).toBe('$0.0250 of $0.0500 (50 %)'));
    expect(gets).toBe(1);
    const warning = { node_id: 'root', name: 'root', by: 'a1', percent: 80, allocated: { cost: 0.05, tokens: null }, spent: { cost: 0.041, tokens: 2_000 } };
    act(() => bus.emit(frame('budget_warning', warning, { depth: 0 })));
    await waitFor(() =>
      expect(screen.getByTestId('budget-warnings').textContent).toBe('⚠ Budget of root at 80 %: $0.0410 of $0.0500 (82 %), crossed by a1 Select rootDismiss budget warnings'),
    );
    expect(screen.getByTestId('budget-warnings').getAttribute('role')).toBe('status');
    await waitFor(() => expect(gets).toBe(2), { timeout: 8000 });
    await waitFor(() => expect(screen.getByTestId('job-budget').textContent).toBe('$0.0410 of $0.0500 (82 %)'));
    expect(item('root')?.dataset.budget).toBe('warning');
    // Another job's warning is not this page's.
    act(() => bus.emit(frame('budget_warning', { ...warning, percent: 100 }, { job_id: 'another-job' })));
    await user.click(screen.getByRole('button', { name: 'Select root' }));
    expect(await screen.findByRole('heading', { name: 'cto root' })).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Budget' }).textContent).toContain('$0.0410');
    expect(screen.getAllByRole('listitem').filter((li) => li.textContent?.includes('Budget of'))).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Dismiss budget warnings' }));
    expect(screen.getByTestId('budget-warnings').textContent).toBe('');
  }, LONG_TEST_MS);

  it('shows a job paused by an approval: the waiting node, its panel, the decision there, and the job going on live', async () => {
    const user = userEvent.setup();
    let stage: 'waiting' | 'approved' = 'waiting';
    const approvalReads: string[] = [];
    const tree = () => {
      const deploy = node('deploy', 1, [], stage === 'waiting' ? 'awaiting_approval' : 'pending');
      return node('root', 0, [node('build', 1, [], 'succeeded'), deploy], 'running');
    };
    const decided = approval({
      state: 'approved',
      may_decide: false,
      decisions: [{ decision: 'approve', by: 'e2e', level: 1, at: '2026-11-21T19:21:41.000Z', comment: 'go', source: null }],
    });
    const { bus } = renderWithServices(<JobDetail id={JOB} />, (method, url) => {
      if (method === 'GET' && url.startsWith('/api/v1/approvals?')) {
        approvalReads.push(url);
        return { status: 200, body: { approvals: [stage === 'waiting' ? approval() : decided], next_cursor: null } };
      }
      if (method === 'POST' && url === '/api/v1/approvals/ap-1/decision') return { status: 200, body: decided };
      return { status: 200, body: jobView(tree(), stage === 'waiting' ? 'paused' : 'running') };
    });
    const waiting = await screen.findByRole('region', { name: 'Waiting for approval' });
    expect(approvalReads[0]).toBe(`/api/v1/approvals?job_id=${JOB}&mine=false&limit=500`);
    expect(waiting.textContent).toContain('deploy (before start): Ship it? — yours to decide');
    expect(screen.getByTestId('job-status').dataset.status).toBe('paused');
    expect(screen.queryByTestId('clarification')).toBeNull();
    expect(item('deploy')?.dataset.status).toBe('awaiting_approval');
    expect(item('deploy')?.getAttribute('aria-label')).toBe('pm deploy, awaiting approval, attempts 0, slots 0');
    expect(item('deploy')?.textContent).toContain('⚑');
    expect(screen.getByRole('rowheader', { name: 'awaiting approval' }).nextElementSibling?.textContent).toBe('1');
    // Opened from the list, decided in its panel.
    await user.click(screen.getByRole('button', { name: 'Select node deploy' }));
    const section = await screen.findByRole('region', { name: 'Approval' });
    await user.type(screen.getByLabelText('Comment (optional)'), 'go');
    stage = 'approved';
    await user.click(screen.getByRole('button', { name: 'Approve' }));
    expect(await screen.findByText('You approved deploy.')).toBeTruthy();
    expect(section.querySelector('[data-testid="approval-state"]')?.textContent).toBe('approved');
    // Its frame: the node is pending again, the job and its requests are read again.
    act(() => bus.emit(frame('approval_decided', { approval_id: 'ap-1', node_id: 'deploy', name: 'deploy', kind: 'before', state: 'approved', decision: 'approve', by: 'e2e', level: 1 }, { depth: 1 })));
    await waitFor(() => expect(screen.getByTestId('job-status').dataset.status).toBe('running'), { timeout: 8000 });
    expect(item('deploy')?.dataset.status).toBe('pending');
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Waiting for approval' })).toBeNull(), { timeout: 8000 });
    expect(screen.getByTestId('decision-text').textContent).toBe('approved by e2e at level 1');
  }, LONG_TEST_MS);

  it('shows no question form for a job paused by a node awaiting approval before its requests are read', async () => {
    const tree = node('root', 0, [node('deploy', 1, [], 'awaiting_approval')], 'running');
    renderWithServices(<JobDetail id={JOB} />, (method, url) => {
      // The requests cannot be read: the tree alone says the job waits on an approval.
      if (method === 'GET' && url.startsWith('/api/v1/approvals?')) return { status: 503, body: { title: 'Service Unavailable', status: 503 } };
      return { status: 200, body: jobView(tree, 'paused') };
    });
    await waitFor(() => expect(item('deploy')?.dataset.status).toBe('awaiting_approval'));
    expect(screen.getByTestId('job-status').dataset.status).toBe('paused');
    expect(screen.queryByTestId('clarification')).toBeNull();
  });

  it('shows a job held by its failure rate: the banner, no question form, Resume job, and the banner gone once resolved', async () => {
    const user = userEvent.setup();
    let held = true;
    const alertReads: string[] = [];
    const tree = () => node('root', 0, [node('f1', 1, [], 'failed'), node('a1', 1, [], 'running'), node('s1', 1)], 'running');
    const { bus } = renderWithServices(<JobDetail id={JOB} />, (method, url) => {
      if (method === 'GET' && url.startsWith('/api/v1/approvals?')) return { status: 200, body: { approvals: [], next_cursor: null } };
      if (method === 'GET' && url.startsWith('/api/v1/alerts?')) {
        alertReads.push(url);
        return { status: 200, body: { alerts: held ? [alert(), straggler()] : [straggler()], next_cursor: null } };
      }
      if (method === 'POST' && url === `/api/v1/recursion/job/${JOB}/resume`) {
        held = false;
        return { status: 202, body: { job_id: JOB, status: 'running', request: 'test job', labels: {}, node_count: 4, created_at: '2026-11-21T19:21:41.892Z' } };
      }
      return { status: 200, body: jobView(tree(), held ? 'paused' : 'running') };
    });
    const banner = await screen.findByRole('region', { name: 'Job held by an alert' });
    expect(alertReads[0]).toBe(`/api/v1/alerts?job_id=${JOB}&open=true&limit=500`);
    expect(screen.getByTestId('held-text').textContent).toContain('New starts are held: 5 of 5 finished nodes failed (100 % > 20 %).');
    expect(screen.getByTestId('job-status').dataset.status).toBe('paused');
    expect(screen.queryByTestId('clarification')).toBeNull();
    // The straggler's alert in its node's panel.
    await user.click(item('a1') as HTMLElement);
    const alerts = await screen.findByRole('region', { name: 'Alerts' });
    expect(alerts.textContent).toContain("Straggler: 'a1' has run 12 s");
    await user.click(screen.getByRole('button', { name: 'Resume job' }));
    expect(await screen.findByText('Job resumed: new nodes start again.')).toBeTruthy();
    expect(screen.getByTestId('job-status').dataset.status).toBe('running');
    expect(banner.isConnected).toBe(true);
    // Its frame: the banner goes at once, the job and its alerts are read again.
    act(() => bus.emit(frame('alert_resolved', { alert_id: 'al-1', rule: 'failure_rate', job_id: JOB, resolved_by: 'e2e' }, { depth: 0 })));
    expect(screen.queryByRole('region', { name: 'Job held by an alert' })).toBeNull();
    await waitFor(() => expect(alertReads.length).toBeGreaterThanOrEqual(2), { timeout: 8000 });
    expect(screen.queryByRole('region', { name: 'Job held by an alert' })).toBeNull();
  }, LONG_TEST_MS);

  it('shows the banner as soon as the alert holding the job fires', async () => {
    const { bus } = renderJob(<JobDetail id={JOB} />, () => ({ status: 200, body: jobView(smallTree()) }));
    await waitFor(() => expect(item('a1')).not.toBeNull());
    expect(screen.queryByRole('region', { name: 'Job held by an alert' })).toBeNull();
    const a = alert();
    act(() => bus.emit(frame('alert', { alert_id: a.id, rule: a.rule, job_id: JOB, node_id: null, message: a.message, data: a.data }, { depth: 0 })));
    expect(screen.getByRole('region', { name: 'Job held by an alert' })).toBeTruthy();
    // Another job's alert is not this job's.
    act(() => bus.emit(frame('alert', { alert_id: 'x', rule: a.rule, job_id: 'another-job', node_id: null, message: a.message, data: a.data }, { job_id: 'another-job' })));
    expect(screen.getAllByRole('region', { name: 'Job held by an alert' })).toHaveLength(1);
  });

  it('opens the panel of the node a link names', async () => {
    renderJob(<JobDetail id={JOB} node="b1" />, () => ({ status: 200, body: jobView(smallTree()) }));
    expect(await screen.findByRole('heading', { name: 'tech_lead b1' })).toBeTruthy();
  });

  it('shows the dead letters in their tab with a count badge, live from message_dead_lettered, a recipient opening its panel', async () => {
    const user = userEvent.setup();
    window.location.hash = `#/jobs/${JOB}`;
    const first = message({ id: 'd-1', state: 'dead', dead_reason: 'ttl', body: 'late' });
    const second = message({ id: 'd-2', to: 'b1', state: 'dead', dead_reason: 'max_deliveries', deliveries: 5, created_ms: MSG_AT + 1000 });
    let deadReads = 0;
    const { bus } = renderWithServices(<RoutedJob />, (_method, url) => {
      if (url.startsWith('/api/v1/approvals?')) return { status: 200, body: { approvals: [], next_cursor: null } };
      if (url.startsWith('/api/v1/alerts?')) return { status: 200, body: { alerts: [], next_cursor: null } };
      if (url === `/api/v1/recursion/job/${JOB}/messages?state=dead`) {
        deadReads += 1;
        return { status: 200, body: { messages: deadReads === 1 ? [first] : [first, second] } };
      }
      if (url === `/api/v1/recursion/job/${JOB}/messages`) return { status: 200, body: { messages: [first, second] } };
      return { status: 200, body: jobView(smallTree()) };
    });
    await waitFor(() => expect(screen.getByTestId('job-nodes-badge-dead-letters').dataset.count).toBe('1'));
    await user.click(screen.getByRole('tab', { name: 'Dead letters 1' }));
    await waitFor(() => expect(window.location.hash).toBe(`#/jobs/${JOB}?view=dead-letters`));
    const section = await screen.findByRole('region', { name: 'Dead letters' });
    expect(screen.getByRole('tabpanel', { name: 'Dead letters 1' }).contains(section)).toBe(true);
    expect(section.querySelectorAll('[data-testid="message"]')).toHaveLength(1);
    // Another message's frames change nothing; a dead letter's has the list read again.
    act(() => bus.emit(frame('message_sent', { message_id: 'x', to: 'a1', from: null })));
    act(() => bus.emit(frame('message_dead_lettered', { message_id: 'd-2', to: 'b1', sender: 'ops', thread_id: null, reason: 'max_deliveries', deliveries: 5 })));
    await waitFor(() => expect(screen.getByTestId('job-nodes-badge-dead-letters').dataset.count).toBe('2'), { timeout: 8000 });
    expect(deadReads).toBe(2);
    const [newest] = section.querySelectorAll<HTMLElement>('[data-testid="message"]');
    expect(newest.dataset.messageId).toBe('d-2');
    await user.click(screen.getByRole('button', { name: 'Select node b1' }));
    expect(await screen.findByRole('heading', { name: 'tech_lead b1' })).toBeTruthy();
    const mailbox = await screen.findByRole('region', { name: 'Mailbox' });
    expect(mailbox.querySelector('[data-message-id="d-2"]')?.getAttribute('data-state')).toBe('dead');
    expect(window.location.hash).toBe(`#/jobs/${JOB}?view=dead-letters`);
  });
});
