// The organisation chart kept live: `GET /agents/org` read once, then again after the frames
// that change it (a delegation, an agent created, changed or deleted, a node starting or
// ending) and on a resync, at most once per ORG_REFETCH_MS however many frames come (never
// polled). `version` counts the reads, for what shows one agent to read it again with them.
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { OrgTree } from '../api/types';
import { isOrgEvent } from '../app/agents';
import { useServices, useStreamEvents } from '../app/services';

/** The chart is read again at most this often. */
export const ORG_REFETCH_MS = 500;

export interface LiveOrg {
  /** Null until first read. */
  org: OrgTree | null;
  error: string | null;
  /** Bumped by each read after the first. */
  version: number;
  /** Schedules a read (throttled). */
  refresh: () => void;
}

export function useOrg(): LiveOrg {
  const { api, bus } = useServices();
  const [org, setOrg] = useState<OrgTree | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const timer = useRef<number | null>(null);

  useEffect(() => {
    let alive = true;
    api
      .agentOrg()
      .then((tree) => {
        if (!alive) return;
        setOrg(tree);
        setError(null);
      })
      .catch((err: unknown) => {
        if (alive) setError(describeError(err));
      });
    return () => {
      alive = false;
    };
  }, [api, version]);

  const refresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      setVersion((n) => n + 1);
    }, ORG_REFETCH_MS);
  }, []);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  useStreamEvents((frame) => {
    if (isOrgEvent(frame.type)) refresh();
  });
  useEffect(() => bus.onResync(refresh), [bus, refresh]);

  return { org, error, version, refresh };
}
