// The latest workspace frame of each node of a job (a worktree made, a merge kept or not), as
// streamed while the job is watched: kept by the job's view rather than the node panel, so that
// a merge that failed while another node was selected still shows when this one is. (The diff
// route says nothing of merges: a page opened later shows none until the next frame.)
import { useState } from 'react';
import { useStreamEvents } from './services';
import { readWorkspaceFrame, type WorkspaceEvent } from './workspace';

type Entry = { seq: number; event: WorkspaceEvent };
type Latest = { jobId: string; byNode: ReadonlyMap<string, Entry> };

const NONE: ReadonlyMap<string, Entry> = new Map();

export function useWorkspaceFrames(jobId: string): (nodeId: string) => WorkspaceEvent | null {
  const [latest, setLatest] = useState<Latest>({ jobId, byNode: new Map() });
  useStreamEvents((frame) => {
    if (frame.job_id !== jobId) return;
    const event = readWorkspaceFrame(frame);
    if (!event) return;
    setLatest((l) => {
      const byNode = l.jobId === jobId ? l.byNode : new Map<string, Entry>();
      const known = byNode.get(event.data.node_id);
      // A replayed older frame does not undo a newer one.
      if (known && known.seq >= frame.seq) return l;
      return { jobId, byNode: new Map(byNode).set(event.data.node_id, { seq: frame.seq, event }) };
    });
  });
  const byNode = latest.jobId === jobId ? latest.byNode : NONE;
  return (nodeId: string) => byNode.get(nodeId)?.event ?? null;
}
