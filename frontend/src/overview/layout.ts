// Positions for the overview: every node of the model (collapse ignored) placed by the d3
// tidy-tree layout with small gaps, root on top or on the left, depths spread to fill the
// panel, and the bounding box of what is drawn (circles and their selection ring included).
import { hierarchy, tree } from 'd3';
import type { TreeModel, TreeNode } from '../tree/model';
import { FIT_MAX_SCALE, type Box, type Orientation } from './fit';

/** Distance between neighbouring leaves, in drawing units. */
export const BREADTH_GAP = 14;
/** Distance between depths, in drawing units (at least; see `spreadDepths`). */
export const DEPTH_GAP = 80;
/** The most the depths are spread apart to fill a panel. */
export const MAX_DEPTH_GAP = 240;
/** Radius of a node's circle. */
export const NODE_RADIUS = 5;
/** Room around a circle for its selection ring. */
const RING = 4;
/** Gap between cousins (children of different parents), relative to siblings. */
const COUSIN_SEPARATION = 1.5;

export interface OverviewPoint {
  node: TreeNode;
  x: number;
  y: number;
}

export interface OverviewLayout {
  orientation: Orientation;
  points: OverviewPoint[];
  links: { from: OverviewPoint; to: OverviewPoint }[];
  bounds: Box;
}

interface Shape {
  node: TreeNode | null;
  children: Shape[];
}

function shapeOf(node: TreeNode): Shape {
  return { node, children: node.children.map(shapeOf) };
}

function boundsOf(points: OverviewPoint[]): Box {
  if (points.length === 0) return { x0: 0, y0: 0, x1: 0, y1: 0 };
  const margin = NODE_RADIUS + RING;
  let box = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  for (const p of points) {
    box = { x0: Math.min(box.x0, p.x), y0: Math.min(box.y0, p.y), x1: Math.max(box.x1, p.x), y1: Math.max(box.y1, p.y) };
  }
  return { x0: box.x0 - margin, y0: box.y0 - margin, x1: box.x1 + margin, y1: box.y1 + margin };
}

/** The whole tree, root on top (x across the breadth, y down the depths). */
export function layoutOverview(model: TreeModel): OverviewLayout {
  const top: Shape = { node: null, children: model.roots.map(shapeOf) };
  const root = hierarchy<Shape>(top, (s) => s.children);
  tree<Shape>()
    .nodeSize([BREADTH_GAP, DEPTH_GAP])
    .separation((a, b) => (a.parent === b.parent ? 1 : COUSIN_SEPARATION))(root);
  const points: OverviewPoint[] = [];
  const placed = new Map<unknown, OverviewPoint>();
  const links: OverviewLayout['links'] = [];
  root.each((d) => {
    if (!d.data.node) return;
    // The synthetic top takes the first depth: move everything up by one gap.
    const p = { node: d.data.node, x: d.x ?? 0, y: (d.y ?? 0) - DEPTH_GAP };
    points.push(p);
    placed.set(d, p);
    const from = d.parent ? placed.get(d.parent) : undefined;
    if (from) links.push({ from, to: p });
  });
  return { orientation: 'down', points, links, bounds: boundsOf(points) };
}

function mapPoints(layout: OverviewLayout, orientation: Orientation, move: (p: OverviewPoint) => OverviewPoint): OverviewLayout {
  const moved = new Map<OverviewPoint, OverviewPoint>();
  const points = layout.points.map((p) => {
    const q = move(p);
    moved.set(p, q);
    return q;
  });
  const links = layout.links.map(({ from, to }) => ({ from: moved.get(from) ?? from, to: moved.get(to) ?? to }));
  return { orientation, points, links, bounds: boundsOf(points) };
}

/** The same layout turned so the root is on the left. */
export function turnRight(layout: OverviewLayout): OverviewLayout {
  return mapPoints(layout, 'right', (p) => ({ node: p.node, x: p.y, y: p.x }));
}

/**
 * A root-on-top layout with its depths spread (between DEPTH_GAP and MAX_DEPTH_GAP apart) to
 * use the room a fit leaves along the depths: `across` pixels for the breadth, `along` for the
 * depths. The breadth fixes the fit's scale, so spreading never makes the drawing smaller.
 */
export function spreadDepths(layout: OverviewLayout, across: number, along: number): OverviewLayout {
  const breadth = Math.max(layout.bounds.x1 - layout.bounds.x0, 1);
  const levels = layout.points.reduce((most, p) => Math.max(most, p.y / DEPTH_GAP), 0);
  if (levels === 0) return layout;
  const k = Math.min(Math.max(across, 1) / breadth, FIT_MAX_SCALE);
  const margin = NODE_RADIUS + RING;
  const wanted = (Math.max(along, 1) / k - 2 * margin) / levels;
  const gap = Math.min(MAX_DEPTH_GAP, Math.max(DEPTH_GAP, wanted));
  if (gap === DEPTH_GAP) return layout;
  const factor = gap / DEPTH_GAP;
  return mapPoints(layout, layout.orientation, (p) => ({ node: p.node, x: p.x, y: p.y * factor }));
}
