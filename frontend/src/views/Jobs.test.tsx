// Tests of the Jobs view's live statuses: a job shows paused while it waits for an answer and
// running again once answered.
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
});
