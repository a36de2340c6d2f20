// Tests of the overview layout: every node placed once (collapse ignored), parents a depth
// above their children, links parent to child, bounds around every circle, turning sideways.
import { describe, expect, it } from 'vitest';
import { TreeModel } from '../tree/model';
import { JOB, smallTree, wideTree } from '../test/fixtures';
import { DEPTH_GAP, layoutOverview, MAX_DEPTH_GAP, NODE_RADIUS, spreadDepths, turnRight } from './layout';
import { fitTransform } from './fit';

describe('layoutOverview', () => {
  it('places every node once, depths a gap apart, with a link per child', () => {
    const model = TreeModel.fromJobTree(JOB, smallTree());
    model.setCollapsed('a', true);
    const layout = layoutOverview(model);
    expect(layout.points.map((p) => p.node.id).sort()).toEqual(['a', 'a1', 'a2', 'b', 'b1', 'root']);
    for (const p of layout.points) expect(p.y).toBe(p.node.depth * DEPTH_GAP);
    expect(layout.links).toHaveLength(5);
    for (const { from, to } of layout.links) expect(to.node.parent).toBe(from.node);
  });

  it('bounds every circle, and turning swaps the axes', () => {
    const model = TreeModel.fromJobTree(JOB, wideTree(4, 2));
    const down = layoutOverview(model);
    for (const p of down.points) {
      expect(p.x - NODE_RADIUS).toBeGreaterThanOrEqual(down.bounds.x0);
      expect(p.x + NODE_RADIUS).toBeLessThanOrEqual(down.bounds.x1);
      expect(p.y - NODE_RADIUS).toBeGreaterThanOrEqual(down.bounds.y0);
      expect(p.y + NODE_RADIUS).toBeLessThanOrEqual(down.bounds.y1);
    }
    const right = turnRight(down);
    expect(right.orientation).toBe('right');
    expect(right.points[3]).toMatchObject({ x: down.points[3].y, y: down.points[3].x });
    expect(right.bounds).toEqual({ x0: down.bounds.y0, y0: down.bounds.x0, x1: down.bounds.y1, y1: down.bounds.x1 });
    expect(right.links[0].from).toBe(right.points.find((p) => p.node.id === right.links[0].from.node.id));
  });

  it('spreads the depths into spare room without shrinking the fit, within limits', () => {
    const down = layoutOverview(TreeModel.fromJobTree(JOB, wideTree(8, 2)));
    const fitted = fitTransform(down.bounds, 1000, 800);
    const spread = spreadDepths(down, 1000 - 24, 800 - 24);
    const gaps = new Set(spread.points.map((p) => p.y / p.node.depth).filter(Number.isFinite));
    expect(gaps.size).toBe(1);
    const [gap] = gaps;
    expect(gap).toBeGreaterThan(DEPTH_GAP);
    expect(gap).toBeLessThanOrEqual(MAX_DEPTH_GAP);
    expect(spread.points.map((p) => p.x)).toEqual(down.points.map((p) => p.x));
    expect(fitTransform(spread.bounds, 1000, 800).k).toBeCloseTo(fitted.k);
    expect(spread.bounds.y1 - spread.bounds.y0).toBeGreaterThan(down.bounds.y1 - down.bounds.y0);
    expect(spreadDepths(down, 1000, 10)).toBe(down);
    const huge = spreadDepths(down, 1000, 100000);
    expect(Math.max(...huge.points.map((p) => p.y))).toBe(2 * MAX_DEPTH_GAP);
  });

  it('lays out nothing for an empty model', () => {
    const layout = layoutOverview(TreeModel.fromJobTree(JOB, null));
    expect(layout.points).toHaveLength(0);
    expect(layout.links).toHaveLength(0);
  });
});
