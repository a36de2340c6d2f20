// How one stream frame changes a job tree: statuses, attempts, slots and times of the node
// it names (and, for a retry, the failed attempt's class and what follows it), the usage of
// a model call (and the budgets it spends), and which jobs must be fetched again (a frame
// that names a node the tree does not hold, a spawn, a decomposition that placed children, a
// cancelled job, an envelope that crossed a warning level, a node with an envelope that
// ended and so gave back what it had left). A question asked or answered changes no node:
// views that show it watch for it. An approval requested (or escalated) makes its node
// `awaiting_approval`; a `before` request approved makes it pending again (its
// `worker_started` follows), while a rejected, withdrawn or accepted one waits for the
// node's own `node_completed`. A `delegation` says which agent the node waits for or went to.
import { delegationFromFrame } from '../app/agents';
import { readApprovalFrame } from '../app/approvals';
import { BUDGET_WARNING } from '../app/budget';
import { readRetrying } from '../app/recovery';
import { num, str, type EventFrame } from '../live/events';
import type { ApplyOutcome, TreeNode } from './model';
import { AWAITING_APPROVAL, isTerminal } from './status';

/** The part of a TreeModel a frame acts on. */
export interface FrameTarget {
  get(id: string): TreeNode | undefined;
  /** True when one of the model's roots belongs to this job. */
  hasJob(jobId: string): boolean;
  setStatus(node: TreeNode, status: string, changed: Set<string>): void;
  /** Counts an `llm_call` frame (node null: a node the tree does not hold yet). */
  addCall(frame: EventFrame, node: TreeNode | null, changed: Set<string>): void;
}

export function applyFrame(model: FrameTarget, frame: EventFrame, out: ApplyOutcome): void {
  const d = frame.data;
  const missing = (id: string | null): TreeNode | null => {
    if (!id) return null;
    const node = model.get(id);
    if (!node && frame.job_id) out.refetch.add(frame.job_id);
    return node ?? null;
  };
  switch (frame.type) {
    case 'worker_started': {
      const node = missing(str(d, 'worker_id'));
      if (!node) return;
      const attempt = num(d, 'attempt') ?? node.attempts;
      // An attempt already started (or a later one) is old news: a replayed frame.
      if (attempt < node.attempts || (attempt === node.attempts && node.status !== 'pending')) return;
      model.setStatus(node, 'running', out.changed);
      node.attempts = Math.max(node.attempts, attempt);
      node.slots = 1;
      node.startedAt ??= frame.ts;
      node.finishedAt = null;
      out.changed.add(node.id);
      return;
    }
    case 'orchestrator_spawned': {
      const node = missing(str(d, 'orchestrator_id'));
      if (!node) return;
      const children = num(d, 'children') ?? num(d, 'spawned');
      if (children !== null && children > node.children.length && frame.job_id) out.refetch.add(frame.job_id);
      if (Array.isArray(d.spawned) && d.spawned.length > 0 && frame.job_id) out.refetch.add(frame.job_id);
      if (!isTerminal(node.status) && node.status !== 'running') {
        model.setStatus(node, 'running', out.changed);
        node.attempts = Math.max(node.attempts, 1);
        node.startedAt ??= frame.ts;
      }
      return;
    }
    case 'decomposition': {
      // A model planned the node's children: they are in the store, not yet in this tree.
      const node = missing(str(d, 'node_id'));
      const children = num(d, 'children');
      if (node && children !== null && children > node.children.length && frame.job_id) out.refetch.add(frame.job_id);
      return;
    }
    case 'node_retrying': {
      const node = missing(str(d, 'node_id'));
      if (!node || isTerminal(node.status)) return;
      const attempt = num(d, 'attempt') ?? node.attempts;
      // What follows the last failure holds while the attempts after it run, also when this
      // frame is replayed over a snapshot that is past it (which carries no retries).
      const retry = readRetrying(frame.type, d);
      if (retry && (!node.retry || attempt > node.retry.attempt)) {
        node.retry = { ...retry, attempt };
        out.changed.add(node.id);
      }
      if (attempt < node.attempts || (node.status === 'retrying' && attempt === node.attempts)) return;
      model.setStatus(node, 'retrying', out.changed);
      node.attempts = attempt;
      node.slots = 0;
      node.error = str(d, 'error') ?? node.error;
      out.changed.add(node.id);
      return;
    }
    case 'node_completed': {
      const node = missing(str(d, 'node_id'));
      const status = str(d, 'status');
      if (!node || !status) return;
      model.setStatus(node, status, out.changed);
      node.slots = 0;
      node.error = str(d, 'error');
      // What followed its last failure is its stored result's to say now.
      node.retry = null;
      node.finishedAt = frame.ts;
      out.changed.add(node.id);
      // Its envelope closed: what it gave back (and its parent's books) are the server's to say.
      if (node.budget && frame.job_id) out.refetch.add(frame.job_id);
      return;
    }
    case 'approval_requested':
    case 'approval_escalated':
    case 'approval_decided': {
      const approval = readApprovalFrame(frame.type, d);
      const node = missing(approval?.nodeId ?? null);
      if (!approval || !node || isTerminal(node.status)) return;
      if (approval.what === 'requested') {
        // A `before` request waits for a node that has not started: a replayed frame over
        // a snapshot that shows it started (approved meanwhile) is old news.
        if (approval.kind === 'before' && node.status !== 'pending' && node.status !== AWAITING_APPROVAL) return;
        model.setStatus(node, AWAITING_APPROVAL, out.changed);
        node.slots = 0;
        out.changed.add(node.id);
      } else if (approval.state === 'approved' && approval.kind === 'before' && node.status === AWAITING_APPROVAL) {
        model.setStatus(node, 'pending', out.changed);
        out.changed.add(node.id);
      } else if (approval.state === 'approved' && approval.kind === 'plan' && node.status === AWAITING_APPROVAL) {
        // Its plan approved, the node goes on running: its children start.
        model.setStatus(node, 'running', out.changed);
        out.changed.add(node.id);
      }
      return;
    }
    case 'delegation': {
      const node = missing(str(d, 'node_id'));
      if (!node) return;
      node.delegation = delegationFromFrame(d, frame.ts, node.delegation);
      out.changed.add(node.id);
      return;
    }
    case 'llm_call':
      model.addCall(frame, missing(str(d, 'node_id')), out.changed);
      return;
    case BUDGET_WARNING:
      // The books of the envelope (and those above) moved past the snapshot's: take the
      // server's word for them. The warning itself is for the views to show.
      if (frame.job_id && model.hasJob(frame.job_id)) out.refetch.add(frame.job_id);
      return;
    case 'job_cancelled':
      // Cancelled nodes may not each get a frame: take the server's word for the tree.
      if (frame.job_id && model.hasJob(frame.job_id)) out.refetch.add(frame.job_id);
      return;
    default:
      return;
  }
}
