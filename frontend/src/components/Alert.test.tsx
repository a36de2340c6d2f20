// Tests of the alert pieces: a card (the rule in words, the message, what the rule saw, the
// job and node links, when it fired; a resolved one by whom), the Resume job button of a
// held job's card (disabled while sent, the job handed on, a 409 shown under it), the held
// job's banner, and a node's alerts in its panel.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../api/client';
import { ServicesContext } from '../app/services';
import { EventBus } from '../live/bus';
import { TreeModel } from '../tree/model';
import { AlertCard } from './AlertCard';
import { HeldBanner } from './HeldBanner';
import { NodePanel } from './NodePanel';
import { alert, JOB, node, straggler } from '../test/fixtures';
import { instantGate, jsonResponse, renderWithServices } from '../test/services';

const NOW = Date.parse('2026-11-21T19:21:41.000Z');
const RESUME = `/api/v1/recursion/job/${JOB}/resume`;
const SUMMARY = { job_id: JOB, status: 'running', request: 'flaky suite', labels: {}, node_count: 10, created_at: '2026-11-21T19:20:00.000Z' };
const NOT_HELD = { type: 'urn:cadre:problem:conflict', title: 'Conflict', status: 409, detail: 'the job is not held' };

function card(a = alert(), handler: Parameters<typeof renderWithServices>[1] = () => ({ status: 404, body: {} })) {
  const onResumed = vi.fn();
  const utils = renderWithServices(<AlertCard alert={a} now={NOW} onResumed={onResumed} />, handler);
  return { ...utils, onResumed, article: screen.getByRole('article') };
}

describe('AlertCard', () => {
  it('shows an open failure-rate alert: the rule, the message, what it saw, its job, when, and Resume job', () => {
    const { article } = card();
    expect(screen.getByRole('article', { name: 'Failure rate too high open' })).toBe(article);
    expect(article.dataset.open).toBe('true');
    expect(within(article).getByTestId('alert-message').textContent).toBe(alert().message);
    expect(within(article).getByTestId('alert-detail').textContent).toBe('5 of 5 finished workers failed (100 % > 20 %); new starts held until someone resumes the job');
    expect(within(article).getByTestId('alert-job').getAttribute('href')).toBe(`#/jobs/${JOB}`);
    expect(within(article).queryByTestId('alert-node')).toBeNull();
    expect(article.textContent).toContain('Fired1 min ago');
    expect(within(article).queryByTestId('alert-resolved')).toBeNull();
    expect(within(article).getAllByRole('button').map((b) => b.textContent)).toEqual(['Resume job']);
  });

  it('resumes the held job, disabled while it is sent, and hands the job on', async () => {
    const user = userEvent.setup();
    let release: (r: Response) => void = () => undefined;
    const fetchImpl = vi.fn(() => new Promise<Response>((resolve) => (release = resolve)));
    const api = new ApiClient({ key: 'k', fetchImpl, gate: instantGate() });
    const onResumed = vi.fn();
    render(
      <ServicesContext.Provider value={{ api, bus: new EventBus() }}>
        <AlertCard alert={alert()} now={NOW} onResumed={onResumed} />
      </ServicesContext.Provider>,
    );
    await user.click(screen.getByRole('button', { name: 'Resume job' }));
    const busy = screen.getByRole('button', { name: 'Resuming…' }) as HTMLButtonElement;
    expect(busy.disabled).toBe(true);
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(RESUME);
    expect(init.method).toBe('POST');
    expect(init.body).toBeUndefined();
    release(jsonResponse(202, SUMMARY));
    await waitFor(() => expect(onResumed).toHaveBeenCalledWith(alert(), SUMMARY));
    expect((screen.getByRole('button', { name: 'Resume job' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows a 409 under the button when the job is not held', async () => {
    const user = userEvent.setup();
    const { onResumed } = card(alert(), (method, url) => (method === 'POST' && url === RESUME ? { status: 409, body: NOT_HELD } : { status: 404, body: {} }));
    await user.click(screen.getByRole('button', { name: 'Resume job' }));
    const refusal = await screen.findByRole('alert');
    expect(refusal.textContent).toBe('Conflict (409): the job is not held');
    expect(refusal.dataset.testid).toBe('resume-error');
    expect(onResumed).not.toHaveBeenCalled();
  });

  it('shows a resolved alert with who resolved it, and no button', () => {
    const { article } = card(alert({ open: false, resolved_at: '2026-11-21T19:21:11.000Z', resolved_by: 'e2e' }));
    expect(screen.getByRole('article', { name: 'Failure rate too high resolved' })).toBe(article);
    expect(within(article).getByTestId('alert-resolved').textContent).toBe('30 s ago by e2e');
    expect(within(article).getByTestId('alert-resolved-by').dataset.by).toBe('e2e');
    expect(within(article).getByTestId('alert-detail').textContent).toContain('new starts were held');
    expect(within(article).queryByRole('button')).toBeNull();
  });

  it('links a straggler’s node, and says when a server alert has no job', () => {
    const first = card(straggler());
    expect(within(first.article).getByTestId('alert-rule').textContent).toBe('Straggler');
    expect(within(first.article).getByTestId('alert-node').getAttribute('href')).toBe(`#/jobs/${JOB}?node=a1`);
    expect(within(first.article).queryByRole('button')).toBeNull();
    first.unmount();
    const quota = card(alert({ rule: 'quota_busy', job_id: null, data: { depth: 2, in_use: 9, quota: 10, percent: 90, for_s: 600 }, open: false, resolved_at: null }));
    expect(quota.article.textContent).toContain('Jobnone: the server’s');
    expect(within(quota.article).getByTestId('alert-detail').textContent).toBe('depth 2: 9 of 10 slots in use (90 %) for 10 min');
    expect(within(quota.article).getByTestId('alert-resolved').textContent).toBe('on its own (its condition passed)');
  });
});

describe('HeldBanner', () => {
  it('says what holds the job and resumes it', async () => {
    const user = userEvent.setup();
    const onResumed = vi.fn();
    const held = { alertId: 'al-1', jobId: JOB, finished: 5, failed: 5, rate: 1, threshold: 0.2 };
    renderWithServices(<HeldBanner held={held} onResumed={onResumed} />, (method, url) =>
      method === 'POST' && url === RESUME ? { status: 202, body: SUMMARY } : { status: 404, body: {} },
    );
    const banner = screen.getByRole('region', { name: 'Job held by an alert' });
    expect(within(banner).getByTestId('held-text').textContent).toBe(
      'New starts are held: 5 of 5 finished nodes failed (100 % > 20 %). Running nodes finish; nothing new starts until someone resumes the job.',
    );
    await user.click(within(banner).getByRole('button', { name: 'Resume job' }));
    await waitFor(() => expect(onResumed).toHaveBeenCalledWith(SUMMARY));
  });
});

describe('NodePanel alerts', () => {
  it('shows the alerts that concern the node, and no section without', () => {
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [node('a1', 1, [], 'running'), node('a2', 1)], 'running'));
    const panel = (nodeId: string, alerts = [straggler()]) => (
      <NodePanel model={model} jobId={JOB} nodeId={nodeId} loadResult={async () => undefined} onCancelSubtree={() => undefined} alerts={alerts} />
    );
    const { unmount } = renderWithServices(panel('a1'), () => ({ status: 404, body: {} }));
    const section = screen.getByRole('region', { name: 'Alerts' });
    const line = within(section).getByRole('listitem').textContent ?? '';
    expect(line.startsWith("Straggler: 'a1' has run 12 s, more than 2 × its siblings' median of 4 s — ran 12 s against its siblings’ median of 4 s (more than 2 ×)")).toBe(true);
    unmount();
    renderWithServices(panel('a2', []), () => ({ status: 404, body: {} }));
    expect(screen.queryByRole('region', { name: 'Alerts' })).toBeNull();
  });
});
