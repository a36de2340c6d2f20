// Test fixtures: job trees and event frames shaped like the server's (see samples.md).
import type { NodeView } from '../api/types';
import type { EventFrame } from '../live/events';

export const JOB = 'job-1';

export function node(id: string, depth: number, children: NodeView[] = [], status = 'pending'): NodeView {
  const roles = ['cto', 'pm', 'tech_lead', 'engineer', 'junior', 'intern'];
  return {
    id,
    name: id,
    title: id,
    role: roles[depth] ?? 'intern',
    depth,
    kind: children.length > 0 ? 'orchestrator' : 'worker',
    status,
    attempts: 0,
    slots: 0,
    child_count: children.length,
    children,
  };
}

/** root → a (a1, a2), b (b1) */
export function smallTree(): NodeView {
  return node('root', 0, [node('a', 1, [node('a1', 2), node('a2', 2)]), node('b', 1, [node('b1', 2)])]);
}

/** A tree with `fanout` children per node down to `depth` levels below the root. */
export function wideTree(fanout: number, depth: number): NodeView {
  let counter = 0;
  const build = (d: number): NodeView => {
    const id = d === 0 ? 'root' : `n${(counter += 1)}`;
    return node(id, d, d < depth ? Array.from({ length: fanout }, () => build(d + 1)) : []);
  };
  return build(0);
}

let seq = 100;

export function frame(type: string, data: Record<string, unknown>, over: Partial<EventFrame> = {}): EventFrame {
  seq += 1;
  return { seq, ts: '2026-11-21T19:21:41.893Z', type, job_id: JOB, depth: 1, data, ...over };
}
