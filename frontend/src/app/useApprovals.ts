// A live list of approval requests (`GET /approvals`): fetched, fetched again — debounced, so
// that a burst of frames costs one call — after an approval frame of a job it covers and on a
// resync of the stream (never polled), with its next page on demand and a request replaced
// in place by what a decision answered.
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { ApprovalView } from '../api/types';
import type { EventFrame } from '../live/events';
import { isApprovalEvent } from './approvals';
import { useServices, useStreamEvents } from './services';

/** Wait this long after the last approval frame before fetching the list again. */
export const APPROVALS_REFETCH_MS = 500;

export interface ApprovalsFilter {
  /** Only requests in this state (all states when absent). */
  state?: string;
  /** Only this job's. */
  jobId?: string;
  /** Only those the key may decide now (the server's default: true for pending ones). */
  mine?: boolean;
  limit?: number;
}

export interface LiveApprovals {
  /** Null until the first page is read. */
  approvals: ApprovalView[] | null;
  /** Whether the server has more pages. */
  more: boolean;
  error: string | null;
  /** Reads the next page and adds it. */
  loadMore: () => void;
  /** Schedules a (debounced) fetch of the first page. */
  refresh: () => void;
  /** Shows `view` in place of the request with its id (what a decision answered). */
  replace: (view: ApprovalView) => void;
}

interface Page {
  approvals: ApprovalView[];
  next: string | null;
}

export function useApprovals({ state, jobId, mine, limit }: ApprovalsFilter): LiveApprovals {
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
      .listApprovals({ state, jobId, mine, limit })
      .then((answer) => {
        if (!alive) return;
        setPage({ approvals: answer.approvals ?? [], next: answer.next_cursor ?? null });
        setError(null);
      })
      .catch((err: unknown) => {
        if (alive) setError(describeError(err));
      });
    return () => {
      alive = false;
    };
  }, [api, state, jobId, mine, limit, reloads]);

  const refresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      setReloads((n) => n + 1);
    }, APPROVALS_REFETCH_MS);
  }, []);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  useStreamEvents((frame: EventFrame) => {
    if (isApprovalEvent(frame.type) && (!jobId || frame.job_id === jobId)) refresh();
  });
  useEffect(() => bus.onResync(refresh), [bus, refresh]);

  const next = page?.next ?? null;
  const loadMore = useCallback(() => {
    if (!next) return;
    const asked = generation.current;
    api
      .listApprovals({ state, jobId, mine, limit, cursor: next })
      .then((answer) => {
        if (asked !== generation.current) return;
        setPage((p) => {
          const known = new Set(p?.approvals.map((a) => a.id));
          const added = (answer.approvals ?? []).filter((a) => !known.has(a.id));
          return { approvals: [...(p?.approvals ?? []), ...added], next: answer.next_cursor ?? null };
        });
      })
      .catch((err: unknown) => setError(describeError(err)));
  }, [api, state, jobId, mine, limit, next]);

  const replace = useCallback((view: ApprovalView) => {
    setPage((p) => (p ? { ...p, approvals: p.approvals.map((a) => (a.id === view.id ? view : a)) } : p));
  }, []);

  return { approvals: page?.approvals ?? null, more: next !== null, error, loadMore, refresh, replace };
}
