// Tests of the timeline's rows: only started nodes get a bar, grouping by depth (headers,
// start order) and by branch (depth-first, indented), open bars, and the time span.
import { describe, expect, it } from 'vitest';
import type { NodeView } from '../api/types';
import { TreeModel } from '../tree/model';
import { JOB, node } from '../test/fixtures';
import { barOf, MIN_SPAN_MS, timelineRows, timeSpan, type TimelineRow } from './rows';

const T0 = Date.parse('2026-11-21T19:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function timed(view: NodeView, start: number | null, end: number | null, status: string): NodeView {
  return { ...view, status, started_at: start === null ? null : at(start), finished_at: end === null ? null : at(end) };
}

/** root → a (a1 ended, a2 running), b (b1 not started); a2 started before a1. */
function timedTree(): TreeModel {
  const tree = timed(
    node('root', 0, [
      timed(node('a', 1, [timed(node('a1', 2), 300, 900, 'succeeded'), timed(node('a2', 2), 200, null, 'running')]), 100, null, 'running'),
      timed(node('b', 1, [timed(node('b1', 2), null, null, 'pending')]), 150, null, 'running'),
    ]),
    0,
    null,
    'running',
  );
  return TreeModel.fromJobTree(JOB, tree);
}

const describeRow = (r: TimelineRow) => (r.kind === 'header' ? `#${r.label}(${r.count})` : `${r.node.id}@${r.indent}`);

describe('timelineRows', () => {
  it('by branch: depth-first order, indented by level, unstarted nodes left out', () => {
    const rows = timelineRows(timedTree(), 'branch');
    expect(rows.rows.map(describeRow)).toEqual(['root@0', 'a@1', 'a1@2', 'a2@2', 'b@1']);
    expect(rows).toMatchObject({ bars: 5, waiting: 1, open: true, latest: T0 + 900 });
  });

  it('by depth: a header per depth, bars in start order within it', () => {
    const rows = timelineRows(timedTree(), 'depth');
    expect(rows.rows.map(describeRow)).toEqual([
      '#depth 0 · cto(1)',
      'root@0',
      '#depth 1 · pm(2)',
      'a@0',
      'b@0',
      '#depth 2 · tech_lead(2)',
      'a2@0',
      'a1@0',
    ]);
  });

  it('keeps depth-first order for bars that start together', () => {
    const tree = node('root', 0, ['x', 'y', 'z'].map((id) => timed(node(id, 1), 50, 60, 'succeeded')));
    const rows = timelineRows(TreeModel.fromJobTree(JOB, timed(tree, 0, 100, 'succeeded')), 'depth');
    expect(rows.rows.filter((r) => r.kind === 'bar').map(describeRow)).toEqual(['root@0', 'x@0', 'y@0', 'z@0']);
    expect(rows.open).toBe(false);
  });

  it('follows live events: a started worker gets an open bar, a completed one closes', () => {
    const model = timedTree();
    model.applyEvents([{ seq: 1, ts: at(1000), type: 'worker_started', job_id: JOB, depth: 2, data: { worker_id: 'b1', attempt: 1 } }]);
    const started = timelineRows(model, 'branch');
    expect(started.bars).toBe(6);
    expect(started.rows.find((r) => r.kind === 'bar' && r.node.id === 'b1')).toMatchObject({ start: T0 + 1000, end: null });
    model.applyEvents([{ seq: 2, ts: at(1500), type: 'node_completed', job_id: JOB, depth: 2, data: { node_id: 'b1', status: 'failed' } }]);
    const ended = timelineRows(model, 'branch');
    expect(ended.rows.find((r) => r.kind === 'bar' && r.node.id === 'b1')).toMatchObject({ end: T0 + 1500 });
    expect(ended.latest).toBe(T0 + 1500);
  });
});

describe('barOf', () => {
  it('draws an ended node without a finish time as an instant, never backwards', () => {
    const model = TreeModel.fromJobTree(JOB, timed(node('x', 0), 500, 400, 'succeeded'));
    expect(barOf(model.roots[0], 0)).toMatchObject({ start: T0 + 500, end: T0 + 500 });
    const cancelled = TreeModel.fromJobTree(JOB, timed(node('y', 0), 500, null, 'cancelled'));
    expect(barOf(cancelled.roots[0], 0)).toMatchObject({ start: T0 + 500, end: T0 + 500 });
    const waiting = TreeModel.fromJobTree(JOB, timed(node('z', 0), null, null, 'pending'));
    expect(barOf(waiting.roots[0], 0)).toBeNull();
  });
});

describe('timeSpan', () => {
  it('runs from the first start to now while bars are open', () => {
    const rows = timelineRows(timedTree(), 'depth');
    expect(timeSpan(rows, T0 + 5000)).toEqual({ start: T0, end: T0 + 5000, openEnd: T0 + 5000 });
  });

  it('never lets now fall behind the latest known time (clock skew)', () => {
    const rows = timelineRows(timedTree(), 'depth');
    expect(timeSpan(rows, T0 + 10)).toEqual({ start: T0, end: T0 + MIN_SPAN_MS, openEnd: T0 + 900 });
  });

  it('ends at the last finish once everything ended, with a minimum span', () => {
    const ended = TreeModel.fromJobTree(JOB, timed(node('x', 0, [timed(node('y', 1), 20, 80, 'succeeded')]), 10, 90, 'succeeded'));
    const rows = timelineRows(ended, 'branch');
    expect(timeSpan(rows, T0 + 99999)).toMatchObject({ start: T0 + 10, end: T0 + 10 + MIN_SPAN_MS });
    expect(timeSpan(timelineRows(TreeModel.fromJobTree(JOB, null), 'depth'), T0)).toBeNull();
  });
});
