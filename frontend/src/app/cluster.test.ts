// Tests of the cluster's words: the summary line, the table's order, each state's glyph and
// class, heartbeats as relative times, and how often the section reads again.
import { describe, expect, it } from 'vitest';
import { CLUSTER_NOW, fiveReplicas, replica, secondsBefore, singleServer } from '../test/cluster';
import {
  MAX_REFRESH_MS,
  MIN_REFRESH_MS,
  clusterSummary,
  formatAge,
  formatAgo,
  formatShares,
  refreshMs,
  replicaStateClass,
  replicaStateGlyph,
  replicaStateMeaning,
  sharesTitle,
  sortReplicas,
  stateCounts,
} from './cluster';

describe('the summary line', () => {
  it('counts the replicas and each state in table order', () => {
    expect(clusterSummary(fiveReplicas())).toBe('5 replicas: 2 live, 1 lapsed, 1 left, 1 dead');
    const three = { ...fiveReplicas(), replicas: [replica('a'), replica('b', { state: 'lapsed' }), replica('c')] };
    expect(clusterSummary(three)).toBe('3 replicas: 2 live, 1 lapsed');
    expect(clusterSummary({ ...three, replicas: [replica('a')] })).toBe('1 replica: 1 live');
    expect(clusterSummary({ ...three, replicas: [] })).toBe('No replicas listed');
  });

  it('says a server on its own is no cluster', () => {
    expect(clusterSummary(singleServer())).toBe('This server runs on its own (no cluster)');
  });

  it('lists a state it does not know after the others', () => {
    const odd = [replica('x', { state: 'draining' }), replica('y', { state: 'dead' }), replica('z')];
    expect(stateCounts(odd)).toEqual([
      ['live', 1],
      ['dead', 1],
      ['draining', 1],
    ]);
  });
});

describe('the table order', () => {
  it('puts live replicas first, then lapsed, left and dead, keeping the server order within a state', () => {
    expect(sortReplicas(fiveReplicas().replicas).map((r) => `${r.id} ${r.state}`)).toEqual([
      'b live',
      'e live',
      'c lapsed',
      'd left',
      'a dead',
    ]);
  });

  it('does not reorder the list it is given', () => {
    const replicas = fiveReplicas().replicas;
    sortReplicas(replicas);
    expect(replicas.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('states', () => {
  it('has a glyph, a class and a meaning for each state, and a fallback for others', () => {
    expect(['live', 'lapsed', 'left', 'dead'].map(replicaStateGlyph)).toEqual(['●', '⚠', '○', '✗']);
    expect(replicaStateClass('lapsed')).toBe('replica-lapsed');
    expect(replicaStateClass('draining')).toBe('replica-unknown');
    expect(replicaStateGlyph('draining')).toBe('?');
    expect(replicaStateMeaning('lapsed')).toMatch(/older than the lease/);
    expect(replicaStateMeaning('draining')).toMatch(/does not know/);
  });
});

describe('relative times', () => {
  it('says how long ago, in seconds, minutes or hours', () => {
    expect(formatAgo(secondsBefore(0), CLUSTER_NOW)).toBe('just now');
    expect(formatAgo(secondsBefore(2), CLUSTER_NOW)).toBe('2 s ago');
    expect(formatAgo(secondsBefore(59), CLUSTER_NOW)).toBe('59 s ago');
    expect(formatAgo(secondsBefore(60), CLUSTER_NOW)).toBe('1 min ago');
    expect(formatAgo(secondsBefore(3599), CLUSTER_NOW)).toBe('59 min ago');
    expect(formatAgo(secondsBefore(7300), CLUSTER_NOW)).toBe('2 h ago');
  });

  it('reads a time ahead of the clock as just now, and an unknown one as a dash', () => {
    expect(formatAgo(secondsBefore(-3), CLUSTER_NOW)).toBe('just now');
    expect(formatAge(-1)).toBe('just now');
    expect(formatAgo(null, CLUSTER_NOW)).toBe('—');
    expect(formatAgo('not a time', CLUSTER_NOW)).toBe('—');
  });
});

describe('refresh interval', () => {
  it('follows the heartbeat within 1 s and 5 s, and is 5 s before any answer', () => {
    expect(refreshMs(null)).toBe(MAX_REFRESH_MS);
    expect(refreshMs({ ...fiveReplicas(), heartbeat_s: 2 })).toBe(2000);
    expect(refreshMs({ ...fiveReplicas(), heartbeat_s: 30 })).toBe(MAX_REFRESH_MS);
    expect(refreshMs({ ...fiveReplicas(), heartbeat_s: 0 })).toBe(MIN_REFRESH_MS);
    expect(refreshMs({ ...fiveReplicas(), heartbeat_s: Number.NaN })).toBe(MAX_REFRESH_MS);
  });
});

describe('quota shares', () => {
  it('lists each depth\'s share and names each with its demand; none is a dash', () => {
    expect(formatShares([4, 3, 0])).toBe('4 · 3 · 0');
    expect(formatShares([])).toBe('—');
    expect(formatShares(undefined)).toBe('—');
    expect(sharesTitle({ shares: [2, 1], demand: [5] })).toBe(
      "Slots it may hold at once, its share of each depth's quota — depth 0: 2 (wants 5), depth 1: 1 (wants 0)",
    );
    expect(sharesTitle({ shares: [], demand: [] })).toBe('It holds no share');
  });
});
