// Tests of a paused job's answer form: it posts the answer, is disabled while sending, shows
// a refusal (409) and keeps the draft, and cannot send a blank answer.
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../api/client';
import { ServicesContext } from '../app/services';
import { EventBus } from '../live/bus';
import { ClarificationForm } from './ClarificationForm';
import { instantGate, jsonResponse, renderWithServices } from '../test/services';
import { JOB } from '../test/fixtures';

const ROUTE = `/api/v1/recursion/job/${JOB}/answer`;
const SUMMARY = { job_id: JOB, status: 'running', request: 'r', labels: {}, node_count: 1, created_at: '2026-11-21T19:21:41.892Z' };
const CONFLICT = { type: 'urn:cadre:problem:conflict', title: 'Conflict', status: 409, detail: 'the job is not waiting for an answer' };

describe('ClarificationForm', () => {
  it('shows the question and posts the answer, disabled while it is sent', async () => {
    const user = userEvent.setup();
    let release: (r: Response) => void = () => undefined;
    const fetchImpl = vi.fn(() => new Promise<Response>((resolve) => (release = resolve)));
    const api = new ApiClient({ key: 'k', fetchImpl, gate: instantGate() });
    const onAnswered = vi.fn();
    render(
      <ServicesContext.Provider value={{ api, bus: new EventBus() }}>
        <ClarificationForm jobId={JOB} question="Which city?" onAnswered={onAnswered} />
      </ServicesContext.Provider>,
    );
    expect(screen.getByTestId('clarification-question').textContent).toBe('Which city?');
    const send = screen.getByRole('button', { name: 'Send answer' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    await user.type(screen.getByLabelText('Your answer'), '  Lyon ');
    await user.click(send);
    const sending = screen.getByRole('button', { name: 'Sending…' }) as HTMLButtonElement;
    expect(sending.disabled).toBe(true);
    expect((screen.getByLabelText('Your answer') as HTMLTextAreaElement).disabled).toBe(true);
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(ROUTE);
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({ answer: 'Lyon' });
    release(jsonResponse(202, SUMMARY));
    await waitFor(() => expect(onAnswered).toHaveBeenCalledWith(SUMMARY));
    expect((screen.getByLabelText('Your answer') as HTMLTextAreaElement).value).toBe('');
  });

  it('shows a 409 as an alert and keeps the draft', async () => {
    const user = userEvent.setup();
    const onAnswered = vi.fn();
    const posts: unknown[] = [];
    renderWithServices(<ClarificationForm jobId={JOB} question="Which city?" onAnswered={onAnswered} />, (method, url, body) => {
      if (method === 'POST' && url === ROUTE) posts.push(body);
      return { status: 409, body: CONFLICT };
    });
    await user.type(screen.getByLabelText('Your answer'), 'Lyon');
    await user.click(screen.getByRole('button', { name: 'Send answer' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Conflict (409): the job is not waiting for an answer');
    expect(posts).toEqual([{ answer: 'Lyon' }]);
    expect(onAnswered).not.toHaveBeenCalled();
    expect((screen.getByLabelText('Your answer') as HTMLTextAreaElement).value).toBe('Lyon');
    expect((screen.getByRole('button', { name: 'Send answer' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('says so while the question is read, and when it could not be', () => {
    const refuse = () => ({ status: 500, body: {} });
    const first = renderWithServices(<ClarificationForm jobId={JOB} question={null} onAnswered={() => undefined} />, refuse);
    expect(screen.getByTestId('clarification-question').textContent).toBe('Loading the question…');
    first.unmount();
    renderWithServices(<ClarificationForm jobId={JOB} question={null} questionError="HTTP 500" onAnswered={() => undefined} />, refuse);
    expect(screen.getByTestId('clarification-question').textContent).toBe('The question could not be read: HTTP 500');
  });
});
