// Tests of the Jobs view's live statuses: a job shows paused while it waits for an answer and
// running again once answered; an approval frame of a listed job has the page read again.
import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Jobs } from './Jobs';
import { frame, JOB } from '../test/fixtures';
import { renderWithServices } from '../test/services';

const SUMMARY = { job_id: JOB, status: 'running', request: 'a Twitter-like app', labels: {}, node_count: 1, created_at: '2026-11-21T19:21:41.892Z' };

describe('Jobs view', () => {
  it('shows a job paused while it waits for an answer, and running once answered', async () => {
    const { bus } = renderWithServices(<Jobs />, () => ({ status: 200, body: { jobs: [SUMMARY], next_cursor: null } }));
    const row = () => document.querySelector<HTMLElement>(`tr[data-job-id="${JOB}"]`);
    await waitFor(() => expect(row()?.dataset.status).toBe('running'));
    const data = { node_id: 'root', name: 'root', question: 'Which city?' };
    act(() => bus.emit(frame('clarification_requested', { ...data, timeout_s: 3600 }, { depth: 0 })));
    expect(row()?.dataset.status).toBe('paused');
    expect(row()?.textContent).toContain('‖ paused');
    act(() => bus.emit(frame('clarification_answered', data, { depth: 0 })));
    expect(row()?.dataset.status).toBe('running');
    act(() => bus.emit(frame('clarification_requested', data, { depth: 0, job_id: 'another-job' })));
    expect(row()?.dataset.status).toBe('running');
  });

  it('reads the page again after an approval frame of a listed job, and not for another job', async () => {
    let status = 'running';
    let reads = 0;
    const { bus } = renderWithServices(<Jobs />, () => {
      reads += 1;
      return { status: 200, body: { jobs: [{ ...SUMMARY, status }], next_cursor: null } };
    });
    const row = () => document.querySelector<HTMLElement>(`tr[data-job-id="${JOB}"]`);
    await waitFor(() => expect(row()?.dataset.status).toBe('running'));
    act(() => bus.emit(frame('approval_requested', { approval_id: 'a', node_id: 'x', kind: 'before' }, { job_id: 'another-job' })));
    status = 'paused';
    act(() => bus.emit(frame('approval_requested', { approval_id: 'a', node_id: 'deploy', kind: 'before' })));
    // Generous: the re-read is throttled, and a loaded machine runs timers late (3 s ran out in a CI run).
    await waitFor(() => expect(row()?.dataset.status).toBe('paused'), { timeout: 10_000 });
    expect(reads).toBe(2);
  }, 30_000);
});
