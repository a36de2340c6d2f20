// Tests of the Resources view: bars from the stats route, the flash on resource_warning,
// a refresh triggered by worker frames, and the cluster's replicas.
import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Resources } from './Resources';
import { renderWithServices } from '../test/services';
import { fiveReplicas } from '../test/cluster';
import { frame } from '../test/fixtures';

function stats(inUse: number) {
  const roles = ['cto', 'pm', 'tech_lead', 'engineer', 'junior', 'intern'];
  const quotas = [10, 8, 5, 3, 2, 1];
  return {
    by_depth: roles.map((role, depth) => ({
      depth,
      role,
      quota: quotas[depth],
      in_use: depth === 1 ? inUse : 0,
      share: quotas[depth],
      peak_in_use: 0,
      active: 0,
      pending: 0,
      waiting_for_slot: 0,
      started_24h: 0,
      succeeded_24h: 0,
      failed_24h: 0,
      p50_ms: 0,
      p95_ms: 0,
    })),
    jobs: { by_status: { running: 1 }, running: 1, queued: 0 },
    history: [
      { ts: '2026-11-21T19:20:00Z', depth: 1, in_use: 0, quota: 8, pending: 0 },
      { ts: '2026-11-21T19:21:00Z', depth: 1, in_use: 2, quota: 8, pending: 0 },
    ],
    api_latency: { p50_ms: 1, p95_ms: 2, p99_ms: 3, samples: 4 },
    event_stream_connections: 1,
    leaks_reclaimed: 0,
  };
}

describe('Resources view', () => {
  it('shows one meter per depth, refreshes on worker frames and flashes on resource_warning', async () => {
    let calls = 0;
    const { bus } = renderWithServices(<Resources />, (_method, url) => {
      if (url === '/api/v1/cluster') return { status: 200, body: fiveReplicas() };
      calls += 1;
      return { status: 200, body: stats(calls === 1 ? 0 : 7) };
    });
    const meters = await screen.findAllByRole('meter');
    expect(meters.map((m) => m.getAttribute('data-depth'))).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(screen.getByRole('meter', { name: 'depth 1 (pm) 0 of 8 slots in use' })).toBeTruthy();
    expect(screen.getByRole('img', { name: /peak 2/ })).toBeTruthy();
    act(() => bus.emit(frame('worker_started', { worker_id: 'w', attempt: 1 })));
    await waitFor(() => expect(screen.getByRole('meter', { name: 'depth 1 (pm) 7 of 8 slots in use' })).toBeTruthy(), {
      timeout: 8000,
    });
    expect(screen.getByTestId('depth-1').className).not.toContain('flash');
    act(() => bus.emit(frame('resource_warning', { depth: 1, usage: 7, quota: 8, level: 80 }, { job_id: null })));
    expect(screen.getByTestId('depth-1').className).toContain('flash');
    expect(screen.getByTestId('depth-2').className).not.toContain('flash');
  });

  it('shows the cluster of server replicas below the stats', async () => {
    renderWithServices(<Resources />, (_method, url) => ({
      status: 200,
      body: url === '/api/v1/cluster' ? fiveReplicas() : stats(0),
    }));
    expect(await screen.findByText('5 replicas: 2 live, 1 lapsed, 1 left, 1 dead')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Cluster' })).toBeTruthy();
    const table = screen.getByRole('table', { name: 'Replicas, live first' });
    expect(within(table).getAllByTestId('replica-row')).toHaveLength(5);
    expect(within(table).getByText('lapsed')).toBeTruthy();
    expect(await screen.findAllByRole('meter')).toHaveLength(6);
  });
});
