// The timeline's rows and time span, from the tree model: one bar per node that has started,
// grouped by depth (a header per depth, bars in start order) or by branch (depth-first order,
// indented by depth, so a subtree's rows sit together). Open bars (not ended) end at "now".
import type { TreeModel, TreeNode } from '../tree/model';
import { isTerminal } from '../tree/status';

export type Grouping = 'depth' | 'branch';

export interface BarRow {
  kind: 'bar';
  node: TreeNode;
  /** Start, epoch milliseconds. */
  start: number;
  /** End, epoch milliseconds; null while the node has not ended. */
  end: number | null;
  /** Levels below the job's root (the indentation by branch; 0 by depth). */
  indent: number;
}

export interface HeaderRow {
  kind: 'header';
  depth: number;
  label: string;
  /** Bars in this group. */
  count: number;
}

export type TimelineRow = BarRow | HeaderRow;

export interface TimelineRows {
  rows: TimelineRow[];
  /** Number of bars. */
  bars: number;
  /** Nodes with no start yet (not drawn). */
  waiting: number;
  /** Whether any bar is still open (the timeline keeps growing). */
  open: boolean;
  /** The latest timestamp the rows know of (a floor for "now" when the clocks disagree). */
  latest: number;
}

export interface TimeSpan {
  start: number;
  end: number;
  /** Where open bars end. */
  openEnd: number;
}

/** The shortest span shown, so one instant still gets a readable axis. */
export const MIN_SPAN_MS = 1000;

function parseTime(iso: string | null): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** The node's bar, or null when it has not started. */
export function barOf(node: TreeNode, indent: number): BarRow | null {
  const start = parseTime(node.startedAt);
  if (start === null) return null;
  const finished = parseTime(node.finishedAt);
  // An ended node the server gave no finish time draws as an instant rather than growing.
  const end = finished ?? (isTerminal(node.status) ? start : null);
  return { kind: 'bar', node, start, end: end === null ? null : Math.max(end, start), indent };
}

/** Every node with its level below its root, depth-first, collapse ignored. */
function depthFirst(model: TreeModel): [TreeNode, number][] {
  const out: [TreeNode, number][] = [];
  const walk = (node: TreeNode, level: number) => {
    out.push([node, level]);
    for (const child of node.children) walk(child, level + 1);
  };
  for (const root of model.roots) walk(root, 0);
  return out;
}

function byDepth(bars: BarRow[]): TimelineRow[] {
  const groups = new Map<number, BarRow[]>();
  for (const bar of bars) {
    const group = groups.get(bar.node.depth) ?? [];
    group.push({ ...bar, indent: 0 });
    groups.set(bar.node.depth, group);
  }
  const rows: TimelineRow[] = [];
  for (const depth of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(depth) ?? [];
    // A stable sort: bars starting together keep their depth-first order.
    group.sort((a, b) => a.start - b.start);
    const role = group[0]?.node.role ?? '';
    rows.push({ kind: 'header', depth, label: `depth ${depth}${role ? ` · ${role}` : ''}`, count: group.length });
    rows.push(...group);
  }
  return rows;
}

export function timelineRows(model: TreeModel, grouping: Grouping): TimelineRows {
  const bars: BarRow[] = [];
  for (const [node, level] of depthFirst(model)) {
    const bar = barOf(node, level);
    if (bar) bars.push(bar);
  }
  let latest = -Infinity;
  for (const bar of bars) latest = Math.max(latest, bar.end ?? bar.start);
  return {
    rows: grouping === 'depth' ? byDepth(bars) : bars,
    bars: bars.length,
    waiting: model.size - bars.length,
    open: bars.some((b) => b.end === null),
    latest,
  };
}

/** The time span the axis shows, with open bars running to `now` (or the latest known time). */
export function timeSpan(rows: TimelineRows, now: number): TimeSpan | null {
  let start = Infinity;
  let end = -Infinity;
  const openEnd = Math.max(now, rows.latest);
  for (const row of rows.rows) {
    if (row.kind !== 'bar') continue;
    start = Math.min(start, row.start);
    end = Math.max(end, row.end ?? openEnd);
  }
  if (!Number.isFinite(start)) return null;
  return { start, end: Math.max(end, start + MIN_SPAN_MS), openEnd };
}
