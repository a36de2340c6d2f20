// Positions of the visible nodes: d3.hierarchy over the shown part of the model and the
// d3.tree (tidy) layout, laid out left to right. Recomputed only when the structure changes.
import { hierarchy, tree } from 'd3';
import type { TreeModel, TreeNode } from './model';

/** Node box size in pixels. */
export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 66;
/** Space between rows and between depth columns. */
const ROW_GAP = 14;
const COLUMN_GAP = 56;
/** Space around the drawing. */
export const MARGIN = 16;
/** Separation between cousins, relative to siblings. */
const COUSIN_SEPARATION = 1.2;

export interface PlacedNode {
  node: TreeNode;
  /** Top-left corner of the box. */
  x: number;
  y: number;
}

export interface Link {
  from: PlacedNode;
  to: PlacedNode;
}

export interface Layout {
  placed: PlacedNode[];
  byId: Map<string, PlacedNode>;
  links: Link[];
  width: number;
  height: number;
}

interface Shape {
  node: TreeNode | null;
  children: Shape[];
}

export function layoutTree(model: TreeModel): Layout {
  const shape = (node: TreeNode): Shape => ({
    node,
    children: model.isCollapsed(node.id) ? [] : node.children.map(shape),
  });
  const top: Shape = { node: null, children: model.roots.map(shape) };
  const root = hierarchy<Shape>(top, (s) => s.children);
  tree<Shape>()
    .nodeSize([NODE_HEIGHT + ROW_GAP, NODE_WIDTH + COLUMN_GAP])
    .separation((a, b) => (a.parent === b.parent ? 1 : COUSIN_SEPARATION))(root);

  let minX = Infinity;
  let maxX = -Infinity;
  let maxY = 0;
  root.each((d) => {
    if (!d.data.node) return;
    minX = Math.min(minX, d.x ?? 0);
    maxX = Math.max(maxX, d.x ?? 0);
    maxY = Math.max(maxY, d.y ?? 0);
  });
  if (!Number.isFinite(minX)) return { placed: [], byId: new Map(), links: [], width: 0, height: 0 };

  const columnWidth = NODE_WIDTH + COLUMN_GAP;
  const placed: PlacedNode[] = [];
  const byId = new Map<string, PlacedNode>();
  const links: Link[] = [];
  const place = new Map<unknown, PlacedNode>();
  root.each((d) => {
    const node = d.data.node;
    if (!node) return;
    const p: PlacedNode = {
      node,
      x: (d.y ?? 0) - columnWidth + MARGIN,
      y: (d.x ?? 0) - minX + MARGIN,
    };
    placed.push(p);
    byId.set(node.id, p);
    place.set(d, p);
  });
  root.each((d) => {
    const to = place.get(d);
    const from = d.parent ? place.get(d.parent) : undefined;
    if (from && to) links.push({ from, to });
  });
  return {
    placed,
    byId,
    links,
    width: maxY - columnWidth + NODE_WIDTH + 2 * MARGIN,
    height: maxX - minX + NODE_HEIGHT + 2 * MARGIN,
  };
}
