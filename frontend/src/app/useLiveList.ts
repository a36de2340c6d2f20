// A live paged list read from the server (alerts, approval requests): its first page fetched,
// fetched again — debounced, so that a burst of frames costs one call — after each stream
// frame of the kinds that make it stale (of its job, when it holds one job's) and on a resync
// of the stream (never polled), its next page on demand, an item replaced in place, and
// optionally changed at once by such a frame before it is read again.
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { EventFrame } from '../live/events';
import { useServices, useStreamEvents } from './services';

/** Wait this long after the last frame that made a list stale before fetching it again. */
export const LIVE_LIST_REFETCH_MS = 500;

/** One page of a list as the server answered it. */
export interface LiveListPage<T> {
  items: readonly T[];
  /** The cursor of the next page; null on the last. */
  next: string | null;
}

export interface LiveListSource<T> {
  /**
   * Reads one page: the first without a cursor. A new function (its filter changed) reads the
   * first page again; wrap it in `useCallback`.
   */
  read: (cursor?: string) => Promise<LiveListPage<T>>;
  /** True for the kinds of frame after which the list is stale. */
  isEvent: (type: string) => boolean;
  /** Only this job's frames make it stale (all jobs' when absent). */
  jobId?: string;
  /** What a frame that makes it stale does to it at once: the list itself when nothing. */
  applyFrame?: (items: readonly T[], frame: EventFrame) => readonly T[];
}

export interface LiveList<T> {
  /** Null until the first page is read. */
  items: readonly T[] | null;
  /** Whether the server has more pages. */
  more: boolean;
  error: string | null;
  /** Reads the next page and adds it. */
  loadMore: () => void;
  /** Schedules a (debounced) fetch of the first page. */
  refresh: () => void;
  /** Shows `item` in place of the one with its id. */
  replace: (item: T) => void;
}

export function useLiveList<T extends { id: string }>({ read, isEvent, jobId, applyFrame }: LiveListSource<T>): LiveList<T> {
  const { bus } = useServices();
  const [page, setPage] = useState<LiveListPage<T> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const timer = useRef<number | null>(null);
  /** Bumped by each first-page fetch: a later page read before it is dropped. */
  const generation = useRef(0);

  useEffect(() => {
    let alive = true;
    generation.current += 1;
    read()
      .then((first) => {
        if (!alive) return;
        setPage(first);
        setError(null);
      })
      .catch((err: unknown) => {
        if (alive) setError(describeError(err));
      });
    return () => {
      alive = false;
    };
  }, [read, reloads]);

  const refresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      setReloads((n) => n + 1);
    }, LIVE_LIST_REFETCH_MS);
  }, []);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  useStreamEvents((frame: EventFrame) => {
    if (!isEvent(frame.type) || (jobId && frame.job_id !== jobId)) return;
    if (applyFrame) {
      setPage((p) => {
        const items = p ? applyFrame(p.items, frame) : null;
        return p && items && items !== p.items ? { ...p, items } : p;
      });
    }
    refresh();
  });
  useEffect(() => bus.onResync(refresh), [bus, refresh]);

  const next = page?.next ?? null;
  const loadMore = useCallback(() => {
    if (!next) return;
    const asked = generation.current;
    read(next)
      .then((answer) => {
        if (asked !== generation.current) return;
        setPage((p) => {
          const known = new Set(p?.items.map((a) => a.id));
          const added = answer.items.filter((a) => !known.has(a.id));
          return { items: [...(p?.items ?? []), ...added], next: answer.next };
        });
      })
      .catch((err: unknown) => setError(describeError(err)));
  }, [read, next]);

  const replace = useCallback((item: T) => {
    setPage((p) => (p ? { ...p, items: p.items.map((a) => (a.id === item.id ? item : a)) } : p));
  }, []);

  return { items: page?.items ?? null, more: next !== null, error, loadMore, refresh, replace };
}
