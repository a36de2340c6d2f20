// A node's diff in the job's workspace (`GET …/nodes/{node}/diff`) kept live: read when the
// node is shown, then again after the frames that may move its branch (its own workspace
// frames and `node_completed`, a merge into its branch) and on a resync of the stream, at
// most once per DIFF_REFETCH_MS however many frames come (never polled). A 404 is no error:
// the node has no branch yet (it has not run in the workspace).
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import type { NodeDiff } from '../api/types';
import { problemDetail } from './messages';
import { useServices, useStreamEvents } from './services';
import { concernsDiff } from './workspace';

/** The diff is read again at most this often. */
export const DIFF_REFETCH_MS = 500;
const HTTP_NOT_FOUND = 404;

export type DiffState = { state: 'loading' } | { state: 'done'; diff: NodeDiff } | { state: 'none' } | { state: 'error'; message: string };

type Read = { key: string; shown: Exclude<DiffState, { state: 'loading' }> };

export function useNodeDiff(jobId: string, nodeId: string): DiffState {
  const { api, bus } = useServices();
  const key = `${jobId}:${nodeId}`;
  const [read, setRead] = useState<Read | null>(null);
  const [version, setVersion] = useState(0);
  const timer = useRef<number | null>(null);

  useEffect(() => {
    let alive = true;
    api
      .nodeDiff(jobId, nodeId)
      .then((diff) => alive && setRead({ key, shown: { state: 'done', diff } }))
      .catch((err: unknown) => {
        if (!alive) return;
        const none = err instanceof ApiError && err.status === HTTP_NOT_FOUND;
        setRead({ key, shown: none ? { state: 'none' } : { state: 'error', message: problemDetail(err) } });
      });
    return () => {
      alive = false;
    };
  }, [api, jobId, nodeId, key, version]);

  const refresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      setVersion((n) => n + 1);
    }, DIFF_REFETCH_MS);
  }, []);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  // Another node's diff is never shown for this one; this node's last stays while it is read again.
  const current: DiffState = read && read.key === key ? read.shown : { state: 'loading' };
  const branch = current.state === 'done' ? current.diff.branch : null;
  useStreamEvents((frame) => {
    if (frame.job_id === jobId && concernsDiff(frame, nodeId, branch)) refresh();
  });
  useEffect(() => bus.onResync(refresh), [bus, refresh]);
  return current;
}
