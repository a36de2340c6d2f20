// The server's replicas, read while mounted: again after each answer's heartbeat (at least
// every 5 s), one read at a time; a failed read keeps the last answer and says why.
import { useEffect, useState } from 'react';
import { describeError } from '../api/client';
import type { ClusterView } from '../api/types';
import { refreshMs } from './cluster';
import { useServices } from './services';

export interface ClusterState {
  /** The last answer (kept when a later read fails). */
  view: ClusterView | null;
  /** When that answer came (ms). */
  answeredAt: number | null;
  /** Why the latest read failed; null when it did not. */
  error: string | null;
  /** When the latest read ended (ms): what the heartbeats' ages are measured from. */
  now: number;
}

export function useCluster(): ClusterState {
  const { api } = useServices();
  const [state, setState] = useState<ClusterState>(() => ({ view: null, answeredAt: null, error: null, now: Date.now() }));

  useEffect(() => {
    let alive = true;
    let last: ClusterView | null = null;
    let timer: number | undefined;
    const load = () => {
      api
        .cluster()
        .then((view) => {
          last = view;
          const now = Date.now();
          if (alive) setState({ view, answeredAt: now, error: null, now });
        })
        .catch((err: unknown) => {
          if (alive) setState((s) => ({ ...s, error: describeError(err), now: Date.now() }));
        })
        .finally(() => {
          if (alive) timer = window.setTimeout(load, refreshMs(last));
        });
    };
    load();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [api]);

  return state;
}
