// The live tree model shared by the Hierarchy and Job detail views: nodes indexed by id,
// collapse state, incremental roll-up counts, event application, and change notification
// split into "structure changed" (re-layout) and "this node changed" (repaint in place).
import type { BudgetView, DelegationView, HierarchyNode, JsonValue, NodeRetryingData, NodeView, Usage } from '../api/types';
import { readDelegation } from '../app/agents';
import { readBudget, spendBudget } from '../app/budget';
import { addUsage, callUsage, readUsage } from '../app/usage';
import type { EventFrame } from '../live/events';
import { applyFrame, type FrameTarget } from './applyFrame';

/** Past this many nodes, levels deeper than DEFAULT_OPEN_DEPTH start collapsed. */
export const COLLAPSE_THRESHOLD = 500;
/** Deepest depth whose nodes start expanded in a big tree (0 = root). */
export const DEFAULT_OPEN_DEPTH = 1;

export interface TreeNode {
  id: string;
  jobId: string;
  name: string;
  title: string;
  role: string;
  depth: number;
  kind: string;
  status: string;
  attempts: number;
  slots: number;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  result?: JsonValue;
  /** Children the server reported (may exceed `children.length` when truncated). */
  childCount: number;
  parent: TreeNode | null;
  children: TreeNode[];
  /** Statuses of every descendant (the node itself excluded). */
  rollup: Record<string, number>;
  /** What the node's own model calls spent (null: none, or a server that does not say). */
  usage: Usage | null;
  /** The node and its descendants. */
  subtreeUsage: Usage | null;
  /** Its budget envelope (null: it has none of its own, or a server without budgets). */
  budget: BudgetView | null;
  /**
   * Its last `node_retrying` frame while it has not ended (the failed attempt, its class and
   * what follows); null before any, once it has ended, and in a snapshot (which has none).
   */
  retry: NodeRetryingData | null;
  /** Who does its work when the workforce does (null: no agent named or asked for). */
  delegation: DelegationView | null;
  /** Bumped whenever anything shown for this node changes. */
  rev: number;
}

export interface ApplyOutcome {
  /** Nodes whose shown state changed. */
  changed: Set<string>;
  /** Jobs whose tree must be refetched (a frame named a node we do not know). */
  refetch: Set<string>;
}

type NodeListener = () => void;

function bump(counts: Record<string, number>, status: string, by: number): void {
  const next = (counts[status] ?? 0) + by;
  if (next > 0) counts[status] = next;
  else Reflect.deleteProperty(counts, status);
}

function makeNode(
  partial: Omit<TreeNode, 'parent' | 'children' | 'rollup' | 'rev' | 'usage' | 'subtreeUsage' | 'budget' | 'retry' | 'delegation'>,
  parent: TreeNode | null,
  usage: { usage?: unknown; subtree_usage?: unknown; budget?: unknown; delegation?: unknown } = {},
): TreeNode {
  const spend = { usage: readUsage(usage.usage), subtreeUsage: readUsage(usage.subtree_usage), budget: readBudget(usage.budget) };
  return { ...partial, ...spend, retry: null, delegation: readDelegation(usage.delegation), parent, children: [], rollup: {}, rev: 0 };
}

export class TreeModel {
  readonly roots: TreeNode[] = [];
  private readonly byId = new Map<string, TreeNode>();
  private readonly collapsed = new Set<string>();
  private structureListeners = new Set<() => void>();
  private nodeListeners = new Map<string, Set<NodeListener>>();
  private visibleCache: TreeNode[] | null = null;
  /** Bumped when the set of visible nodes changes. */
  structureVersion = 0;
  private changeListeners = new Set<() => void>();
  /** Bumped after each applied batch that changed any node (whole-tree views repaint on it). */
  changeVersion = 0;
  /**
   * Usage is counted from `llm_call` frames after this seq only: the snapshot already holds
   * the calls of every frame seen before it was fetched. Null: this model does not count
   * usage (the hierarchy's snapshot carries none, so live sums would be partial).
   */
  private usageAfterSeq: number | null = null;
  /** What the `llm_call` frames applied to this model added, over the whole job. */
  liveUsage: Usage | null = null;

  /** A model of one job's tree (`GET /recursion/job/{id}`). */
  static fromJobTree(jobId: string, tree: NodeView | null | undefined): TreeModel {
    const model = new TreeModel();
    model.usageAfterSeq = -1;
    if (tree) model.roots.push(model.addView(jobId, tree, null));
    model.finish();
    return model;
  }

  /** A model of the hierarchy's jobs (the synthetic top is dropped). */
  static fromHierarchy(top: HierarchyNode): TreeModel {
    const model = new TreeModel();
    for (const child of top.children) {
      if (child.id && child.job_id) model.roots.push(model.addHierarchy(child, null));
    }
    model.finish();
    return model;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): TreeNode | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  *all(): Iterable<TreeNode> {
    yield* this.byId.values();
  }

  /** Counts of every node by status. */
  totals(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const root of this.roots) {
      bump(out, root.status, 1);
      for (const [s, n] of Object.entries(root.rollup)) bump(out, s, n);
    }
    return out;
  }

  private addView(jobId: string, view: NodeView, parent: TreeNode | null): TreeNode {
    const node = makeNode(
      {
        id: view.id,
        jobId,
        name: view.name,
        title: view.title,
        role: view.role,
        depth: view.depth,
        kind: view.kind,
        status: view.status,
        attempts: view.attempts,
        slots: view.slots ?? 0,
        startedAt: view.started_at ?? null,
        finishedAt: view.finished_at ?? null,
        error: view.error ?? null,
        result: view.result,
        childCount: Math.max(view.child_count, view.children.length),
      },
      parent,
      view,
    );
    this.byId.set(node.id, node);
    for (const child of view.children) node.children.push(this.addView(jobId, child, node));
    return node;
  }

  private addHierarchy(h: HierarchyNode, parent: TreeNode | null): TreeNode {
    const node = makeNode(
      {
        id: h.id ?? '',
        jobId: h.job_id ?? '',
        name: h.name,
        title: h.title ?? h.name,
        role: h.role ?? '',
        depth: h.depth,
        kind: h.kind ?? (h.children.length > 0 ? 'orchestrator' : 'worker'),
        status: h.status ?? 'pending',
        attempts: h.attempts ?? 0,
        slots: h.usage?.slots ?? 0,
        startedAt: null,
        finishedAt: null,
        error: null,
        childCount: h.children.length,
      },
      parent,
      { budget: h.budget },
    );
    this.byId.set(node.id, node);
    for (const child of h.children) {
      if (child.id) node.children.push(this.addHierarchy(child, node));
    }
    return node;
  }

  /** Computes roll-ups and the default collapse state. */
  private finish(): void {
    const fill = (node: TreeNode): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (const child of node.children) {
        bump(counts, child.status, 1);
        for (const [s, n] of Object.entries(fill(child))) bump(counts, s, n);
      }
      node.rollup = counts;
      return counts;
    };
    for (const root of this.roots) fill(root);
    if (this.byId.size > COLLAPSE_THRESHOLD) {
      for (const node of this.byId.values()) {
        if (node.depth > DEFAULT_OPEN_DEPTH && node.children.length > 0) this.collapsed.add(node.id);
      }
    }
  }

  /** Keeps another model's collapse choices for the nodes both know (after a refetch). */
  adoptCollapse(previous: TreeModel): void {
    for (const node of this.byId.values()) {
      const old = previous.byId.get(node.id);
      if (!old) continue;
      if (previous.collapsed.has(node.id)) this.collapsed.add(node.id);
      else this.collapsed.delete(node.id);
    }
    this.structureChanged();
  }

  /** Frames up to `seq` are already counted in this model's snapshot (see `usageAfterSeq`). */
  countUsageAfter(seq: number): void {
    if (this.usageAfterSeq !== null) this.usageAfterSeq = Math.max(this.usageAfterSeq, seq);
  }

  // ---- collapse state -------------------------------------------------------------------

  isCollapsed(id: string): boolean {
    return this.collapsed.has(id);
  }

  setCollapsed(id: string, collapsed: boolean): void {
    const node = this.byId.get(id);
    if (!node || node.children.length === 0 || this.collapsed.has(id) === collapsed) return;
    if (collapsed) this.collapsed.add(id);
    else this.collapsed.delete(id);
    node.rev += 1;
    this.notifyNode(id);
    this.structureChanged();
  }

  toggle(id: string): void {
    this.setCollapsed(id, !this.collapsed.has(id));
  }

  expandAll(): void {
    if (this.collapsed.size === 0) return;
    const ids = [...this.collapsed];
    this.collapsed.clear();
    this.touch(ids);
    this.structureChanged();
  }

  /** Collapses every orchestrator except the roots. */
  collapseAll(): void {
    const ids: string[] = [];
    for (const node of this.byId.values()) {
      if (node.parent && node.children.length > 0 && !this.collapsed.has(node.id)) {
        this.collapsed.add(node.id);
        ids.push(node.id);
      }
    }
    if (ids.length === 0) return;
    this.touch(ids);
    this.structureChanged();
  }

  private touch(ids: string[]): void {
    for (const id of ids) {
      const node = this.byId.get(id);
      if (node) node.rev += 1;
      this.notifyNode(id);
    }
  }

  /** The nodes shown, in depth-first order (a collapsed node's descendants are hidden). */
  visible(): TreeNode[] {
    if (this.visibleCache) return this.visibleCache;
    const out: TreeNode[] = [];
    const walk = (node: TreeNode): void => {
      out.push(node);
      if (this.collapsed.has(node.id)) return;
      for (const child of node.children) walk(child);
    };
    for (const root of this.roots) walk(root);
    this.visibleCache = out;
    return out;
  }

  /** Nearest shown node at or above `id` (where focus goes when its node is hidden). */
  nearestVisible(id: string): TreeNode | undefined {
    let node = this.byId.get(id);
    let shown = node;
    while (node) {
      if (node.parent && this.collapsed.has(node.parent.id)) shown = node.parent;
      node = node.parent ?? undefined;
    }
    return shown;
  }

  // ---- events ---------------------------------------------------------------------------

  /** What `applyFrame` may read and change. */
  private readonly target: FrameTarget = {
    get: (id) => this.byId.get(id),
    hasJob: (jobId) => this.roots.some((r) => r.jobId === jobId),
    setStatus: (node, status, changed) => this.setStatus(node, status, changed),
    addCall: (frame, node, changed) => this.applyCall(frame, node, changed),
  };

  private setStatus(node: TreeNode, status: string, changed: Set<string>): void {
    if (node.status === status) return;
    const old = node.status;
    node.status = status;
    for (let a = node.parent; a; a = a.parent) {
      bump(a.rollup, old, -1);
      bump(a.rollup, status, 1);
      a.rev += 1;
      changed.add(a.id);
    }
    changed.add(node.id);
  }

  /** Applies a batch of frames in order; notifies changed nodes once. */
  applyEvents(frames: EventFrame[]): ApplyOutcome {
    const outcome: ApplyOutcome = { changed: new Set(), refetch: new Set() };
    for (const frame of frames) applyFrame(this.target, frame, outcome);
    for (const id of outcome.changed) {
      const node = this.byId.get(id);
      if (node) node.rev += 1;
      this.notifyNode(id);
    }
    if (outcome.changed.size > 0) {
      this.changeVersion += 1;
      for (const l of this.changeListeners) l();
    }
    return outcome;
  }

  /**
   * Adds a call's tokens and cost to its node and every ancestor's subtree, and to the
   * spending of every envelope on that path (an envelope's spending counts its subtree's),
   * once per frame. Reservations stay as the snapshot had them until the next fetch.
   */
  private applyCall(frame: EventFrame, node: TreeNode | null, changed: Set<string>): void {
    if (this.usageAfterSeq === null || frame.seq <= this.usageAfterSeq) return;
    this.usageAfterSeq = frame.seq;
    const spent = callUsage(frame.data);
    this.liveUsage = addUsage(this.liveUsage, spent);
    if (!node) return;
    node.usage = addUsage(node.usage, spent);
    for (let n: TreeNode | null = node; n; n = n.parent) {
      n.subtreeUsage = addUsage(n.subtreeUsage, spent);
      if (n.budget) n.budget = spendBudget(n.budget, spent);
      changed.add(n.id);
    }
  }

  // ---- subscriptions --------------------------------------------------------------------

  private structureChanged(): void {
    this.visibleCache = null;
    this.structureVersion += 1;
    for (const l of this.structureListeners) l();
  }

  subscribeStructure(listener: () => void): () => void {
    this.structureListeners.add(listener);
    return () => this.structureListeners.delete(listener);
  }

  /** Calls `listener` after each batch of events that changed any node. */
  subscribeChanges(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  subscribeNode(id: string, listener: NodeListener): () => void {
    let set = this.nodeListeners.get(id);
    if (!set) {
      set = new Set();
      this.nodeListeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.nodeListeners.delete(id);
    };
  }

  private notifyNode(id: string): void {
    const set = this.nodeListeners.get(id);
    if (set) for (const l of set) l();
  }
}
