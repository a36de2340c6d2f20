// Keeps a TreeModel live: loads a snapshot, applies stream frames in per-frame batches,
// and refetches (debounced) when a frame names an unknown node, on request, or on resync.
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import { useServices } from '../app/services';
import { FrameBatcher } from '../live/batcher';
import type { EventFrame } from '../live/events';
import type { TreeModel } from './model';

/** Wait this long after the last request for a refetch before doing it. */
export const REFETCH_DEBOUNCE_MS = 300;
/**
 * Frames kept and re-applied on top of each fresh snapshot, so a snapshot read before the
 * latest frames (or one that raced them) cannot roll a node back. Re-applying is safe: the
 * model ignores frames older than what it shows.
 */
export const RECENT_FRAMES = 256;

export interface LiveTreeOptions {
  /** Fetches a fresh model (must be stable: wrap in useCallback). */
  load: () => Promise<TreeModel>;
  /** Which frames concern this tree. */
  accepts: (frame: EventFrame) => boolean;
  /** Frames that make a refetch necessary whatever the model says. */
  needsReload?: (frame: EventFrame) => boolean;
  /** Called after each applied batch. */
  onFrames?: (frames: EventFrame[]) => void;
}

export interface LiveTree {
  model: TreeModel | null;
  error: string | null;
  loading: boolean;
  /** Schedules a (debounced) refetch. */
  refresh: () => void;
}

export function useLiveTree({ load, accepts, needsReload, onFrames }: LiveTreeOptions): LiveTree {
  const { bus } = useServices();
  const [model, setModel] = useState<TreeModel | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const modelRef = useRef<TreeModel | null>(null);
  const duringFetch = useRef<EventFrame[] | null>(null);
  const recent = useRef<EventFrame[]>([]);
  /** The highest seq of a frame for this tree received so far (batched or not). */
  const lastSeq = useRef(-1);
  const again = useRef(false);
  const timer = useRef<number | null>(null);
  const alive = useRef(true);
  const options = useRef({ accepts, needsReload, onFrames });
  useEffect(() => {
    options.current = { accepts, needsReload, onFrames };
  });

  const fetchAgain = useRef<() => void>(() => undefined);
  const fetchNow = useCallback((): void => {
    if (duringFetch.current) {
      again.current = true;
      return;
    }
    again.current = false;
    duringFetch.current = [];
    // Every frame received before the fetch was stored before it: the snapshot counts its
    // model call, so re-applying it must not count it again. A call whose frame arrives
    // while the fetch is in flight may be counted twice until the next fetch.
    const counted = lastSeq.current;
    load()
      .then(
        (next) => {
          if (!alive.current) return;
          const previous = modelRef.current;
          if (previous) next.adoptCollapse(previous);
          next.countUsageAfter(counted);
          next.applyEvents(recent.current);
          modelRef.current = next;
          setModel(next);
          setError(null);
        },
        (err: unknown) => {
          if (alive.current) setError(describeError(err));
        },
      )
      .finally(() => {
        duringFetch.current = null;
        if (!alive.current) return;
        if (again.current) fetchAgain.current();
        else setLoading(false);
      });
  }, [load]);
  useEffect(() => {
    fetchAgain.current = fetchNow;
  });

  const refresh = useCallback(() => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => {
      timer.current = null;
      fetchNow();
    }, REFETCH_DEBOUNCE_MS);
  }, [fetchNow]);

  useEffect(() => {
    alive.current = true;
    modelRef.current = null;
    fetchNow();
    return () => {
      alive.current = false;
    };
  }, [fetchNow]);

  useEffect(() => {
    const batcher = new FrameBatcher((frames) => {
      duringFetch.current?.push(...frames);
      recent.current = recent.current.concat(frames).slice(-RECENT_FRAMES);
      const current = modelRef.current;
      let reload = false;
      if (current) reload = current.applyEvents(frames).refetch.size > 0;
      const { needsReload: must, onFrames: after } = options.current;
      if (must && frames.some(must)) reload = true;
      if (reload) refresh();
      after?.(frames);
    });
    const off = bus.subscribe((frame) => {
      if (!options.current.accepts(frame)) return;
      lastSeq.current = Math.max(lastSeq.current, frame.seq);
      batcher.push(frame);
    });
    const offResync = bus.onResync(refresh);
    return () => {
      off();
      offResync();
      batcher.close();
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    };
  }, [bus, refresh]);

  return { model, error, loading, refresh };
}
