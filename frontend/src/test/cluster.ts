// Test fixtures of the server's replicas, shaped like `GET /cluster`: a cluster of several
// replicas in every state, and a server on its own.
import type { ClusterView, ReplicaView } from '../api/types';

/** The time the fixtures' heartbeats are measured from. */
export const CLUSTER_NOW = Date.parse('2026-12-02T16:05:03.000Z');

/** An ISO time `s` seconds before `CLUSTER_NOW`. */
export function secondsBefore(s: number): string {
  return new Date(CLUSTER_NOW - s * 1000).toISOString();
}

export function replica(id: string, over: Partial<ReplicaView> = {}): ReplicaView {
  return {
    id,
    address: `http://${id}:8080`,
    host: `machine-${id}`,
    pid: 100,
    started_at: secondsBefore(300),
    heartbeat_at: secondsBefore(2),
    ended_at: null,
    state: 'live',
    this: false,
    jobs: 0,
    shares: [4, 3, 2, 1, 1, 0],
    demand: [0, 0, 0, 0, 0, 0],
    ...over,
  };
}

/** Five replicas as the server lists them (oldest first): a, the one answering, lapsed, dead, left. */
export function fiveReplicas(): ClusterView {
  return {
    enabled: true,
    replica_id: 'b',
    heartbeat_s: 1,
    lease_s: 5,
    replicas: [
      replica('a', { pid: 101, state: 'dead', heartbeat_at: secondsBefore(600), ended_at: secondsBefore(590), shares: [] }),
      replica('b', { pid: 102, this: true, heartbeat_at: secondsBefore(1), jobs: 7, demand: [1, 9, 0, 0, 0, 0] }),
      replica('c', { pid: 103, state: 'lapsed', heartbeat_at: secondsBefore(9) }),
      replica('d', { pid: 104, state: 'left', heartbeat_at: secondsBefore(4000), ended_at: secondsBefore(3990) }),
      replica('e', { pid: 105 }),
    ],
  };
}

/** A server on its own: itself, live. */
export function singleServer(): ClusterView {
  return {
    enabled: false,
    replica_id: 'solo',
    heartbeat_s: 1,
    lease_s: 5,
    replicas: [replica('solo', { this: true, pid: 4242, heartbeat_at: secondsBefore(0) })],
  };
}
