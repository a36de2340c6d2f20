// The Job detail side panel for the selected node: status, the agent doing its work (or that
// it waits for one), timings, attempts, slots, the alerts that concern it (a straggler), its
// approval requests (with Approve and Reject while one waits for the key's decision), its
// mailbox (the messages to it and those it sent; sending it one while it has not ended),
// error (saying so when its budget could not cover a call), how it recovers from its last
// failed attempt (the failure's class and what follows), a decomposing node's plan (read
// while it runs too), a checked worker's validation, result (pretty JSON), what its model
// calls spent, its budget envelope, its branch and diff in the job's git workspace (when the
// job has one), its conversation with the model, and, for workers, the stdout/stderr tails of
// the logs route.
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { describeError } from '../api/client';
import type { AlertView, ApprovalView, JsonValue, NodeLogs, RecoveryView, Verdict, WorkspaceView } from '../api/types';
import { isBudgetRefusal } from '../app/budget';
import { recoveryOf } from '../app/recovery';
import type { WorkspaceEvent } from '../app/workspace';
import { between, formatDuration, formatTime, prettyJson } from '../app/format';
import { useServices } from '../app/services';
import type { TreeModel, TreeNode } from '../tree/model';
import { isTerminal } from '../tree/status';
import { ApprovalSection } from './ApprovalSection';
import { BudgetSection } from './BudgetSection';
import { Conversation } from './Conversation';
import { DelegationFacts } from './DelegationFacts';
import { hasDecomposition, readValidation } from './decomposition';
import { Mailbox } from './Mailbox';
import { NodeAlerts } from './NodeAlerts';
import { PlanSection } from './PlanSection';
import { RecoverySection } from './RecoverySection';
import { Spend } from './Spend';
import { StatusBadge } from './StatusBadge';
import { ValidationSection } from './ValidationSection';
import { WorkspaceSection } from './WorkspaceSection';

export interface NodePanelProps {
  model: TreeModel;
  jobId: string;
  nodeId: string;
  /** Loads a node's result from the job's (cached by the caller; read for ended nodes and started orchestrators). */
  loadResult: (nodeId: string) => Promise<JsonValue | undefined>;
  onCancelSubtree: () => void;
  /** Selects another node (the agents and managers a plan names). */
  onSelect?: (nodeId: string) => void;
  /** The node's approval requests, newest first (none: no section). */
  approvals?: readonly ApprovalView[];
  /** A decision on one of them was stored. */
  onApprovalDecided?: (view: ApprovalView, verdict: Verdict) => void;
  /** The alerts that concern the node (a straggler; none: no section). */
  alerts?: readonly AlertView[];
  /** The job's git workspace (none: no Workspace section). */
  workspace?: WorkspaceView | null;
  /** The node's latest workspace frame (a merge kept or failed) seen while the job is watched. */
  workspaceEvent?: WorkspaceEvent | null;
}

type Loaded<T> = { state: 'idle' } | { state: 'done'; value: T } | { state: 'error'; message: string };

/** The id of the descendant of `node` named `name` (breadth first), if the tree holds one. */
function descendantNamed(node: TreeNode | undefined, name: string): string | undefined {
  const queue = node ? [...node.children] : [];
  for (let next = queue.shift(); next; next = queue.shift()) {
    if (next.name === name) return next.id;
    queue.push(...next.children);
  }
  return undefined;
}

/**
 * The recovery of a node's last failed attempt: while it has not ended, its last
 * `node_retrying` frame's (else its stored result's, when read); once failed, its stored
 * result's. A succeeded or cancelled node shows none: its result is no failed attempt's.
 */
function recoveryShown(node: TreeNode, ended: boolean, result: JsonValue | undefined): RecoveryView | null {
  if (!ended) return node.retry?.recovery ?? recoveryOf(result);
  return node.status === 'failed' ? recoveryOf(result) : null;
}

/**
 * A result is read once the node has ended, and while a started orchestrator runs: a
 * decomposing one keeps its plan and questions there.
 */
function resultReadable(status: string, kind: string): boolean {
  return isTerminal(status) || (kind === 'orchestrator' && status !== 'pending');
}

export function NodePanel({ model, jobId, nodeId, loadResult, onCancelSubtree, onSelect, approvals = [], onApprovalDecided, alerts = [], workspace, workspaceEvent = null }: NodePanelProps) {
  const { api } = useServices();
  const subscribe = useCallback((cb: () => void) => model.subscribeNode(nodeId, cb), [model, nodeId]);
  useSyncExternalStore(subscribe, () => model.get(nodeId)?.rev ?? -1);
  const node = model.get(nodeId);
  const status = node?.status ?? 'unknown';
  const kind = node?.kind ?? '';
  const ended = isTerminal(status);
  const readable = resultReadable(status, kind);
  const [result, setResult] = useState<Loaded<JsonValue | undefined>>({ state: 'idle' });
  const [logs, setLogs] = useState<Loaded<NodeLogs>>({ state: 'idle' });

  useEffect(() => {
    if (!readable) return;
    let alive = true;
    loadResult(nodeId)
      .then((value) => alive && setResult({ state: 'done', value }))
      .catch((err: unknown) => alive && setResult({ state: 'error', message: describeError(err) }));
    return () => {
      alive = false;
      setResult({ state: 'idle' });
    };
  }, [nodeId, readable, loadResult]);

  useEffect(() => {
    if (!ended || kind !== 'worker') return;
    let alive = true;
    api
      .nodeLogs(jobId, nodeId)
      .then((value) => alive && setLogs({ state: 'done', value }))
      .catch((err: unknown) => alive && setLogs({ state: 'error', message: describeError(err) }));
    return () => {
      alive = false;
      setLogs({ state: 'idle' });
    };
  }, [api, jobId, nodeId, ended, kind]);

  const find = useCallback((name: string) => descendantNamed(model.get(nodeId), name), [model, nodeId]);
  const nameOf = useCallback((id: string) => model.get(id)?.name, [model]);

  if (!node) return <p>That node is no longer in the tree.</p>;
  const loaded = result.state === 'done' ? result.value : undefined;
  const validation = node.kind === 'worker' ? readValidation(loaded) : null;
  const recovery = recoveryShown(node, ended, loaded);
  return (
    <div className="node-panel">
      <h2>
        {node.role} {node.name}
      </h2>
      {node.title !== node.name && <p className="muted">{node.title}</p>}
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={node.status} />
        </dd>
        {node.delegation && <DelegationFacts delegation={node.delegation} />}
        <dt>Kind</dt>
        <dd>{node.kind}</dd>
        <dt>Depth</dt>
        <dd>{node.depth}</dd>
        <dt>Attempts</dt>
        <dd>{node.attempts}</dd>
        <dt>Slots held</dt>
        <dd>{node.slots}</dd>
        <dt>Started</dt>
        <dd>{formatTime(node.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(node.finishedAt)}</dd>
        <dt>Duration</dt>
        <dd>{node.startedAt ? formatDuration(between(node.startedAt, node.finishedAt)) : '—'}</dd>
      </dl>
      {!ended && (
        <button type="button" className="danger" onClick={onCancelSubtree}>
          Cancel subtree
        </button>
      )}
      <NodeAlerts alerts={alerts} />
      {approvals.length > 0 && (
        <ApprovalSection approvals={approvals} onDecided={(view, verdict) => onApprovalDecided?.(view, verdict)} find={find} onSelect={onSelect} />
      )}
      <Mailbox jobId={jobId} nodeId={nodeId} nameOf={nameOf} onSelect={onSelect} canSend={!ended} />
      {(node.usage || node.subtreeUsage) && <Spend usage={node.usage} subtree={node.subtreeUsage} />}
      {node.budget && <BudgetSection budget={node.budget} />}
      {node.error && (
        <>
          <h3>Error</h3>
          {isBudgetRefusal(node.error) && (
            <p data-testid="budget-refusal">Budget exceeded: the budget it draws on could not cover what it asked for (a model call, or its children’s budgets).</p>
          )}
          <pre className="error-text">{node.error}</pre>
        </>
      )}
      {recovery && <RecoverySection recovery={recovery} retry={ended ? null : node.retry} />}
      {hasDecomposition(loaded) && <PlanSection result={loaded} find={find} onSelect={onSelect} />}
      {validation && <ValidationSection validation={validation} attempts={node.attempts} />}
      <h3>Result</h3>
      {!ended && <p className="muted">Shown when the node has ended.</p>}
      {ended && result.state === 'idle' && <p>Loading…</p>}
      {result.state === 'error' && <p className="error">{result.message}</p>}
      {ended && result.state === 'done' && <pre className="json" tabIndex={0}>{prettyJson(result.value ?? null)}</pre>}
      {workspace && <WorkspaceSection jobId={jobId} nodeId={nodeId} latest={workspaceEvent} />}
      {node.usage && node.usage.calls > 0 && <Conversation jobId={jobId} nodeId={nodeId} calls={node.usage.calls} />}
      {node.kind === 'worker' && (
        <>
          <h3>Logs</h3>
          {!ended && <p className="muted">Output tails appear when the process has ended.</p>}
          {logs.state === 'error' && <p className="error">{logs.message}</p>}
          {logs.state === 'done' && !logs.value.available && (
            <p className="muted">No logs: only command workers keep their output.</p>
          )}
          {logs.state === 'done' && logs.value.available && (
            <>
              <p>Exit code: {logs.value.exit_code ?? '—'}</p>
              <h4>stdout</h4>
              <pre className="log" tabIndex={0}>{logs.value.stdout || '(empty)'}</pre>
              <h4>stderr</h4>
              <pre className="log" tabIndex={0}>{logs.value.stderr || '(empty)'}</pre>
            </>
          )}
        </>
      )}
    </div>
  );
}
