// A live list of alerts (`GET /alerts`): fetched, changed at once by each alert frame it
// covers (a fired alert joins it, a resolved one is marked or leaves it) and fetched again —
// debounced, so that a burst of frames costs one call — after it and on a resync of the
// stream (never polled), with its next page on demand.
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { AlertView } from '../api/types';
import type { EventFrame } from '../live/events';
import { applyAlertFrame, isAlertEvent, type AlertsFilter } from './alerts';
import { useServices, useStreamEvents } from './services';

/** Wait this long after the last alert frame before fetching the list again. */
export const ALERTS_REFETCH_MS = 500;

export interface LiveAlerts {
  /** Null until the first page is read. */
  alerts: readonly AlertView[] | null;
  /** Whether the server has more pages. */
  more: boolean;
  error: string | null;
  /** Reads the next page and adds it. */
  loadMore: () => void;
  /** Schedules a (debounced) fetch of the first page. */
  refresh: () => void;
}

interface Page {
  alerts: readonly AlertView[];
  next: string | null;
}

export function useAlerts({ jobId, rule, open, limit }: AlertsFilter): LiveAlerts {
  const { api, bus } = useServices();
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const timer = useRef<number | null>(null);
  /** Bumped by each first-page fetch: a later page read before it is dropped. */
  const generation = useRef(0);

  useEffect(() => {
    let alive = true;
    generation.current += 1;
    api
      .listAlerts({ jobId, rule, open, limit })
      .then((answer) => {
        if (!alive) return;
        setPage({ alerts: answer.alerts ?? [], next: answer.next_cursor ?? null });
        setError(null);
      })
      .catch((err: unknown) => {
        if (alive) setError(describeError(err));
      });
    return () => {
      alive = false;
    };
  }, [api, jobId, rule, open, limit, reloads]);

  const refresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      setReloads((n) => n + 1);
    }, ALERTS_REFETCH_MS);
  }, []);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  useStreamEvents((frame: EventFrame) => {
    if (!isAlertEvent(frame.type) || (jobId && frame.job_id !== jobId)) return;
    setPage((p) => {
      const alerts = p ? applyAlertFrame(p.alerts, frame, { jobId, rule, open }) : null;
      return p && alerts && alerts !== p.alerts ? { ...p, alerts } : p;
    });
    refresh();
  });
  useEffect(() => bus.onResync(refresh), [bus, refresh]);

  const next = page?.next ?? null;
  const loadMore = useCallback(() => {
    if (!next) return;
    const asked = generation.current;
    api
      .listAlerts({ jobId, rule, open, limit, cursor: next })
      .then((answer) => {
        if (asked !== generation.current) return;
        setPage((p) => {
          const known = new Set(p?.alerts.map((a) => a.id));
          const added = (answer.alerts ?? []).filter((a) => !known.has(a.id));
          return { alerts: [...(p?.alerts ?? []), ...added], next: answer.next_cursor ?? null };
        });
      })
      .catch((err: unknown) => setError(describeError(err)));
  }, [api, jobId, rule, open, limit, next]);

  return { alerts: page?.alerts ?? null, more: next !== null, error, loadMore, refresh };
}
