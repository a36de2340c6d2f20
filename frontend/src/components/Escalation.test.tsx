// Tests of escalations in the approval pieces: a card shows the failure (class in words,
// error clipped, attempts) and Retry, Retry with…, Skip and Fail; each sends its body (the
// shared comment too), Retry with… its terms as typed (checked here first; the server's 422
// under them), Skip its JSON result (not sent when not JSON; the server's 422 under it), a
// wrong-kind 422 above the buttons; a decided escalation's history in words; a key that may
// only fail it; the job's waiting nodes; and the node panel's section.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ApprovalView } from '../api/types';
import { TreeModel } from '../tree/model';
import { ApprovalCard } from './ApprovalCard';
import { ApprovalsWaiting } from './ApprovalsWaiting';
import { NodePanel } from './NodePanel';
import { escalation, JOB, node } from '../test/fixtures';
import { renderWithServices, type Handler } from '../test/services';

const NOW = Date.parse('2026-11-21T19:21:41.000Z');
const ROUTE = '/api/v1/approvals/ap-e/decision';

function problem(path: string, message: string) {
  return { type: 'urn:cadre:problem:validation-error', title: 'Unprocessable Entity', status: 422, detail: 'the request is invalid', errors: [{ path, message }] };
}

/** A card of `a` whose decisions the server answers with `answer` (the request as decided by default); records each body posted. */
function card(a: ApprovalView = escalation(), answer?: (body: unknown) => ReturnType<Handler>) {
  const posts: unknown[] = [];
  const onDecided = vi.fn();
  const decided = escalation({ state: 'approved', may_decide: false, may_approve: false });
  const utils = renderWithServices(<ApprovalCard approval={a} now={NOW} onDecided={onDecided} />, (method, url, body) => {
    if (method !== 'POST' || url !== ROUTE) return { status: 404, body: {} };
    posts.push(body);
    return answer ? answer(body) : { status: 200, body: decided };
  });
  return { ...utils, posts, onDecided, decided, article: screen.getByRole('article') };
}

describe('an escalation’s card', () => {
  it('shows it as a failure that needs a decision, with the failure’s class, error and attempts, and four actions', () => {
    const { article } = card();
    expect(screen.getByRole('article', { name: 'broken escalation' })).toBe(article);
    expect(article.dataset.kind).toBe('escalation');
    expect(within(article).getByTestId('approval-kind').textContent).toBe('escalation');
    expect(within(article).getByTestId('approval-prompt').textContent).toContain("'broken' failed (process) after 1 attempt(s): boom.");
    expect(article.textContent).toContain('Failed — needs a decision: retry, retry with other terms, skip or fail');
    expect(within(article).getByRole('heading', { name: 'What failed' })).toBeTruthy();
    expect(within(article).getByTestId('escalation-class').textContent).toBe('process — a non-zero exit or another error');
    expect(within(article).getByTestId('escalation-error').textContent).toBe('boom');
    expect(within(article).getByTestId('escalation-attempts').textContent).toBe('1');
    // Required is always 1: no "0 of 1 approval".
    expect(within(article).queryByTestId('approval-progress')).toBeNull();
    const buttons = within(article).getAllByRole('button').map((b) => b.textContent);
    expect(buttons).toEqual(['Retry', 'Retry with…', 'Skip', 'Fail']);
    expect(within(article).getByLabelText('Comment (optional)')).toBeTruthy();
    expect(within(article).getByLabelText('Result if skipped (JSON, optional)')).toBeTruthy();
    // The terms only once asked for.
    expect(within(article).queryByRole('group', { name: 'Retry with other terms' })).toBeNull();
    expect(within(article).getByRole('button', { name: 'Retry with…' }).getAttribute('aria-expanded')).toBe('false');
  });

  it('clips a long error and reads a context without a class', () => {
    card(escalation({ context: { error: `x${'y'.repeat(1000)}`, attempts: 3 } }));
    expect(screen.getByTestId('escalation-error').textContent).toMatch(/^xyyy.*… \(401 more characters\)$/);
    expect(screen.getByTestId('escalation-class').textContent).toBe('not given');
    expect(screen.getByTestId('escalation-attempts').textContent).toBe('3');
  });

  it('retries in one click with the comment, and hands on the request as it stands', async () => {
    const user = userEvent.setup();
    const { posts, onDecided, decided } = card();
    await user.type(screen.getByLabelText('Comment (optional)'), 'flaky disk');
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledWith(decided, 'retry'));
    expect(posts).toEqual([{ decision: 'retry', comment: 'flaky disk' }]);
    expect((screen.getByLabelText('Comment (optional)') as HTMLTextAreaElement).value).toBe('');
  });

  it('lets the failure stand in one click', async () => {
    const user = userEvent.setup();
    const { posts, onDecided } = card();
    await user.click(screen.getByRole('button', { name: 'Fail' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledOnce());
    expect(onDecided.mock.calls[0][1]).toBe('fail');
    expect(posts).toEqual([{ decision: 'fail' }]);
  });

  it('skips with the JSON result typed, or none; not sent when it is not JSON', async () => {
    const user = userEvent.setup();
    const { posts, onDecided } = card();
    const result = screen.getByLabelText('Result if skipped (JSON, optional)');
    await user.click(result);
    await user.paste('{by: hand}');
    await user.click(screen.getByRole('button', { name: 'Skip' }));
    const alert = await screen.findByTestId('escalation-result-error');
    expect(alert.textContent).toMatch(/^Not JSON: /);
    expect(result.getAttribute('aria-invalid')).toBe('true');
    expect(posts).toEqual([]);
    await user.clear(result);
    await user.paste('{"by": "hand"}');
    await user.click(screen.getByRole('button', { name: 'Skip' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledOnce());
    expect(onDecided.mock.calls[0][1]).toBe('skip');
    expect(posts).toEqual([{ decision: 'skip', input: { by: 'hand' } }]);
    expect(screen.queryByTestId('escalation-result-error')).toBeNull();
  });

  it('skips without a result when none is typed', async () => {
    const user = userEvent.setup();
    const { posts, onDecided } = card();
    await user.click(screen.getByRole('button', { name: 'Skip' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledOnce());
    expect(posts).toEqual([{ decision: 'skip' }]);
  });

  it('retries with the terms typed, checking them first; the model’s fields are in an advanced part', async () => {
    const user = userEvent.setup();
    const { posts, onDecided } = card();
    const open = screen.getByRole('button', { name: 'Retry with…' });
    await user.click(open);
    expect(open.getAttribute('aria-expanded')).toBe('true');
    const terms = screen.getByRole('group', { name: 'Retry with other terms' });
    expect(open.getAttribute('aria-controls')).toBe(terms.id);
    // Nothing given: said here, not sent.
    await user.click(within(terms).getByRole('button', { name: 'Retry with these terms' }));
    expect((await within(terms).findByTestId('retry-terms-error')).textContent).toBe('Give at least one: memory, CPU seconds, a timeout, or a provider.');
    const memory = within(terms).getByLabelText('Memory (MiB)');
    expect(memory.getAttribute('aria-invalid')).toBe('true');
    expect(posts).toEqual([]);
    await user.type(memory, '256');
    await user.type(within(terms).getByLabelText('Timeout (seconds)'), '90');
    await user.click(within(terms).getByText('Another model (an llm worker)'));
    await user.type(within(terms).getByLabelText('Provider'), 'local');
    await user.type(within(terms).getByLabelText('Model (optional)'), 'small');
    await user.click(within(terms).getByRole('button', { name: 'Retry with these terms' }));
    await waitFor(() => expect(onDecided).toHaveBeenCalledOnce());
    expect(onDecided.mock.calls[0][1]).toBe('retry_with');
    expect(posts).toEqual([{ decision: 'retry_with', input: { memory_mb: 256, timeout_s: 90, provider: 'local', model: 'small' } }]);
    // Sent: the terms are closed and cleared.
    expect(screen.queryByRole('group', { name: 'Retry with other terms' })).toBeNull();
  });

  it('shows the server’s refusal of the terms under them, keeping what was typed', async () => {
    const user = userEvent.setup();
    const { posts, onDecided } = card(escalation(), () => ({ status: 422, body: problem('input', 'retry_with limits are at least 1') }));
    await user.click(screen.getByRole('button', { name: 'Retry with…' }));
    const terms = screen.getByRole('group', { name: 'Retry with other terms' });
    await user.type(within(terms).getByLabelText('CPU (seconds)'), '5');
    await user.click(within(terms).getByRole('button', { name: 'Retry with these terms' }));
    const alert = await within(terms).findByTestId('retry-terms-error');
    expect(alert.textContent).toBe('retry_with limits are at least 1');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(within(terms).getByLabelText('CPU (seconds)').getAttribute('aria-describedby')).toContain(alert.id);
    expect((within(terms).getByLabelText('CPU (seconds)') as HTMLInputElement).value).toBe('5');
    expect(posts).toEqual([{ decision: 'retry_with', input: { cpu_seconds: 5 } }]);
    expect(onDecided).not.toHaveBeenCalled();
    // Nothing above the buttons: the refusal is the terms'.
    expect(screen.queryByTestId('approval-error')).toBeNull();
  });

  it('shows the server’s refusal of a skip’s result under it', async () => {
    const user = userEvent.setup();
    card(escalation(), () => ({ status: 422, body: problem('input', 'too large') }));
    await user.click(screen.getByRole('button', { name: 'Skip' }));
    expect((await screen.findByTestId('escalation-result-error')).textContent).toBe('too large');
  });

  it('shows a refusal of the verdict’s kind above the buttons, by its message', async () => {
    const user = userEvent.setup();
    card(escalation(), () => ({ status: 422, body: problem('decision', 'an escalation is decided with retry, retry_with, skip or fail') }));
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect((await screen.findByTestId('approval-error')).textContent).toBe('an escalation is decided with retry, retry_with, skip or fail');
    expect((screen.getByRole('button', { name: 'Retry' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('offers only Fail to a key that may not let it go on, saying why', () => {
    card(escalation({ may_approve: false }));
    expect(screen.getAllByRole('button').map((b) => b.textContent)).toEqual(['Fail']);
    expect(screen.queryByLabelText('Result if skipped (JSON, optional)')).toBeNull();
    expect(screen.getByTestId('approval-only-stop').textContent).toBe('This key may only let the failure stand; another approver may retry or skip it.');
  });

  it('shows a decided escalation’s history in words, and what its decision did', () => {
    const decisions = [{ decision: 'retry_with' as const, by: 'alice', level: 1, at: '2026-11-21T19:19:41.000Z', comment: 'more memory', source: '10.0.0.7' }];
    const { article, unmount } = card(escalation({ state: 'approved', may_decide: false, may_approve: false, decisions, input: { memory_mb: 256 } }));
    const item = within(article).getByRole('list', { name: 'Decisions' }).querySelector('li');
    expect(item?.textContent).toBe('✓ retried with memory 256 MiB by alice at level 1, 2 min ago (from 10.0.0.7)more memory');
    expect(within(article).getByTestId('approval-state').textContent).toBe('decided: it goes on');
    expect(within(article).queryByRole('button')).toBeNull();
    unmount();
    const later = [
      { decision: 'skip' as const, by: 'bob', level: 1, at: '2026-11-21T19:20:41.000Z', comment: null, source: null },
      { decision: 'fail' as const, by: null, level: 2, at: '2026-11-21T19:21:11.000Z', comment: null, source: null },
    ];
    render(<ApprovalCard approval={escalation({ state: 'rejected', may_decide: false, decisions: later })} now={NOW} onDecided={vi.fn()} />);
    const texts = screen.getAllByTestId('decision-text').map((e) => e.textContent);
    expect(texts).toEqual(['skipped by bob at level 1', 'failed by timeout default at level 2']);
    expect(screen.getByRole('list', { name: 'Decisions' }).textContent).toContain('✗ failed');
    expect(screen.getByTestId('approval-state').textContent).toBe('decided: the failure stands');
  });
});

describe('ApprovalsWaiting with an escalation', () => {
  it('names the kind in words', () => {
    render(<ApprovalsWaiting approvals={[escalation({ prompt: 'broken failed' }), escalation({ id: 'ap-f', node_name: 'only', prompt: null, may_approve: false })]} onSelect={vi.fn()} />);
    expect([...screen.getByRole('region', { name: 'Waiting for approval' }).querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'broken (escalation): broken failed — yours to decide',
      'only (escalation) — yours to fail only',
    ]);
  });
});

describe('NodePanel escalation', () => {
  it('shows a held node’s escalation with its failure, and retries it there', async () => {
    const user = userEvent.setup();
    const model = TreeModel.fromJobTree(JOB, node('root', 0, [node('broken', 1, [], 'awaiting_approval')], 'paused'));
    const onApprovalDecided = vi.fn();
    const decided = escalation({ state: 'approved', may_decide: false, may_approve: false });
    const posts: unknown[] = [];
    renderWithServices(
      <NodePanel
        model={model}
        jobId={JOB}
        nodeId="broken"
        loadResult={async () => undefined}
        onCancelSubtree={() => undefined}
        approvals={[escalation()]}
        onApprovalDecided={onApprovalDecided}
      />,
      (method, url, body) => {
        if (method === 'POST' && url === ROUTE) {
          posts.push(body);
          return { status: 200, body: decided };
        }
        return { status: 404, body: {} };
      },
    );
    const section = screen.getByRole('region', { name: 'Approval' });
    expect(within(section).getByRole('heading', { name: 'Request: escalation' })).toBeTruthy();
    expect(within(section).getByRole('heading', { name: 'What failed' }).tagName).toBe('H4');
    expect(within(section).getByTestId('escalation-error').textContent).toBe('boom');
    await user.click(within(section).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(onApprovalDecided).toHaveBeenCalledWith(decided, 'retry'));
    expect(posts).toEqual([{ decision: 'retry' }]);
  });
});
