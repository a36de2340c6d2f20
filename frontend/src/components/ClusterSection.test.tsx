// Tests of the Resources view's Cluster section: the summary, the rows (live first, the
// answering replica marked, a lapsed one's state in words), a server on its own, the last
// answer kept with a note when a read fails, no reads after unmounting, and axe.
import { screen, waitFor, within } from '@testing-library/react';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterView } from '../api/types';
import { CLUSTER_NOW, fiveReplicas, singleServer } from '../test/cluster';
import { renderWithServices, type Handler } from '../test/services';
import { ClusterSection } from './ClusterSection';

/** axe over a jsdom page takes seconds on a busy machine. */
const AXE_TIMEOUT_MS = 30_000;
/** The section reads again after 1 s (the fixtures' heartbeat): allow a loaded machine. */
const REFRESH_WAIT_MS = 8000;

const PROBLEM = { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the store is down' };

function answering(view: ClusterView): Handler {
  return (_method, url) => (url === '/api/v1/cluster' ? { status: 200, body: view } : { status: 404, body: PROBLEM });
}

function rows(): HTMLElement[] {
  return within(screen.getByRole('table')).getAllByTestId('replica-row');
}

function cells(row: HTMLElement): string[] {
  return within(row)
    .getAllByRole('cell')
    .map((c) => c.textContent ?? '');
}

describe('Cluster section', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the summary and one row per replica, live first, the answering one marked', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(CLUSTER_NOW);
    renderWithServices(<ClusterSection />, answering(fiveReplicas()));
    expect(await screen.findByText('5 replicas: 2 live, 1 lapsed, 1 left, 1 dead')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Cluster' })).toBeTruthy();
    const table = screen.getByRole('table', { name: 'Replicas, live first' });
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual([
      'Address',
      'Host',
      'PID',
      'State',
      'Last heartbeat',
      'Started',
      'Jobs',
      'Quota shares',
    ]);
    expect(rows().map((r) => r.dataset.replicaId)).toEqual(['b', 'e', 'c', 'd', 'a']);
    const [b, , c] = rows();
    expect(cells(b).slice(0, 5)).toEqual(['http://b:8080 (this replica)', 'machine-b', '102', '● live', '1 s ago']);
    expect(screen.getAllByText('(this replica)')).toHaveLength(1);
    expect(within(c).getByText('lapsed').closest('[data-replica-state]')?.className).toBe('badge replica-lapsed');
    expect(cells(c)[4]).toBe('9 s ago');
    // The jobs it owns and its share of each depth's quota, the demand behind them on hover.
    expect(cells(b).slice(6)).toEqual(['7', '4 · 3 · 2 · 1 · 1 · 0']);
    expect(within(b).getByTestId('replica-shares').title).toContain('depth 1: 3 (wants 9)');
    expect(cells(rows()[4]).slice(6)).toEqual(['0', '—']);
    expect(screen.getByText(/Heartbeat every 1 s; a replica lapses after 5 s/)).toBeTruthy();
  });

  it('says a server on its own runs without a cluster, with itself as the one row', async () => {
    renderWithServices(<ClusterSection />, answering(singleServer()));
    expect(await screen.findByText('This server runs on its own (no cluster)')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Server' })).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Cluster' })).toBeNull();
    expect(screen.getByRole('table', { name: 'This server' })).toBeTruthy();
    expect(rows()).toHaveLength(1);
    expect(cells(rows()[0]).slice(0, 4)).toEqual(['http://solo:8080 (this replica)', 'machine-solo', '4242', '● live']);
  });

  it('says why when the first read fails', async () => {
    renderWithServices(<ClusterSection />, () => ({ status: 503, body: PROBLEM }));
    expect((await screen.findByRole('alert')).textContent).toBe('Service Unavailable (503): the store is down');
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('reads again at each heartbeat, keeps the last answer when a read fails, and stops when unmounted', async () => {
    let calls = 0;
    const { unmount } = renderWithServices(<ClusterSection />, () => {
      calls += 1;
      return calls === 1 ? { status: 200, body: fiveReplicas() } : { status: 503, body: PROBLEM };
    });
    expect(await screen.findByText('5 replicas: 2 live, 1 lapsed, 1 left, 1 dead')).toBeTruthy();
    const note = await screen.findByTestId('cluster-stale', {}, { timeout: REFRESH_WAIT_MS });
    expect(note.textContent).toMatch(/^Could not refresh \(Service Unavailable \(503\): the store is down\); showing the answer from /);
    expect(rows()).toHaveLength(5);
    expect(screen.getByText('5 replicas: 2 live, 1 lapsed, 1 left, 1 dead')).toBeTruthy();
    unmount();
    const seen = calls;
    await new Promise((resolve) => window.setTimeout(resolve, 1500));
    expect(calls).toBe(seen);
  }, REFRESH_WAIT_MS + 5000);

  it(
    'passes axe',
    async () => {
      renderWithServices(
        <main>
          <ClusterSection />
        </main>,
        answering(fiveReplicas()),
      );
      await waitFor(() => expect(rows()).toHaveLength(5));
      // jsdom has no layout: contrast is left to the browser runs.
      const report = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
      expect(report.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    },
    AXE_TIMEOUT_MS,
  );
});
