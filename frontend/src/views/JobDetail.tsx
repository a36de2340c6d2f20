// Job detail view: status, timings, labels, counts, what its model calls spent (the
// snapshot's total plus the calls streamed since), its budget (spent against allocated,
// grown live the same way), the budget warnings streamed while it is watched, the live tree
// (as cards, an overview or a timeline), the selected node's panel, cancelling the job or one
// subtree behind a confirmation dialog, a paused job's question with a form to answer it,
// its nodes waiting for a person's approval (decided in their panels), the hold its
// failure-rate alert puts on its new starts (with Resume job), the alerts of a node (a
// straggler) in its panel, the job's report, and its git workspace (a line under the title;
// each node's branch, diff and last merge in its panel). A `?node=` in the URL opens that
// node's panel.
import { useCallback, useId, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { ApprovalView, BudgetWarningData, JobSummary, JobView, JsonValue, NodeView, Verdict } from '../api/types';
import { heldOf, isAlertEvent } from '../app/alerts';
import { decidedNotice, isApprovalEvent } from '../app/approvals';
import { budgetShort, mergeWarning, readBudget, readBudgetWarning } from '../app/budget';
import { between, formatDuration, formatLabels, formatTime } from '../app/format';
import { addUsage, formatCost, formatCount, readUsage, tokensLong } from '../app/usage';
import type { JobViewName } from '../app/route';
import { useServices } from '../app/services';
import { useAlerts } from '../app/useAlerts';
import { useApprovals } from '../app/useApprovals';
import { useWorkspaceFrames } from '../app/useWorkspaceFrames';
import { workspaceText } from '../app/workspace';
import { ApprovalsWaiting } from '../components/ApprovalsWaiting';
import { BudgetBar } from '../components/BudgetBar';
import { BudgetWarnings } from '../components/BudgetWarnings';
import { ClarificationForm } from '../components/ClarificationForm';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { HeldBanner } from '../components/HeldBanner';
import { JobReport } from '../components/JobReport';
import { NodePanel } from '../components/NodePanel';
import { StatusBadge } from '../components/StatusBadge';
import { str, type EventFrame } from '../live/events';
import { TreeModel } from '../tree/model';
import { isTerminal, NODE_STATUSES, statusText } from '../tree/status';
import { useLiveTree } from '../tree/useLiveTree';
import { JobNodes } from './JobNodes';
import { usePendingQuestion } from './usePendingQuestion';

const JOB_END_TYPES: ReadonlySet<string> = new Set(['job_completed', 'job_cancelled']);
const NODE_ACTIVITY_TYPES: ReadonlySet<string> = new Set(['worker_started', 'orchestrator_spawned']);
/** Frames after which a decomposing node's result (plan, questions) and the job's status change. */
const ASKED = 'clarification_requested';
const ANSWERED = 'clarification_answered';
const DECOMPOSITION_TYPES: ReadonlySet<string> = new Set(['decomposition', ASKED, ANSWERED]);
const RELOAD_TYPES: ReadonlySet<string> = new Set([...JOB_END_TYPES, ...DECOMPOSITION_TYPES]);
/** The most requests of one job read at once (the server's largest page). */
const JOB_APPROVALS_LIMIT = 500;
/** The most open alerts of one job read at once (the server's largest page). */
const JOB_ALERTS_LIMIT = 500;

type Confirming = { what: 'job' } | { what: 'node'; nodeId: string } | null;

function collectResults(view: NodeView | null | undefined, into: Map<string, JsonValue | undefined>): void {
  if (!view) return;
  into.set(view.id, view.result);
  for (const child of view.children) collectResults(child, into);
}

function endedCount(totals: Record<string, number>): number {
  return (totals.succeeded ?? 0) + (totals.failed ?? 0) + (totals.cancelled ?? 0);
}

export function JobDetail({ id, view = 'tree', node }: { id: string; view?: JobViewName; node?: string }) {
  const { api } = useServices();
  const [job, setJob] = useState<JobView | null>(null);
  const [selected, setSelected] = useState<string | null>(node ?? null);
  const [linkedNode, setLinkedNode] = useState(node);
  if (node !== linkedNode) {
    // Another node's link followed while this job is shown.
    setLinkedNode(node);
    if (node) setSelected(node);
  }
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [, setTick] = useState(0);
  /** Bumped by each frame that changes a decomposing node's result: cached results go stale. */
  const [planRev, setPlanRev] = useState(0);
  /** The question of the last `clarification_requested` frame, until it is answered. */
  const [asked, setAsked] = useState<string | null>(null);
  const [reportOpen, setReportOpen] = useState(false);
  /** The `budget_warning` frames received: one per envelope, its highest level. */
  const [warnings, setWarnings] = useState<BudgetWarningData[]>([]);
  const reportId = useId();
  const results = useRef<{ key: string; map: Map<string, JsonValue | undefined> } | null>(null);

  const load = useCallback(async () => {
    const view = await api.getJob(id, { results: false });
    setJob(view);
    return TreeModel.fromJobTree(id, view.tree);
  }, [api, id]);
  const accepts = useCallback((frame: EventFrame) => frame.job_id === id, [id]);
  // An approval requested or decided, or an alert holding the job or resolved by its resume,
  // moves the job between running and paused, which no frame of its own says: the job is
  // read again.
  const needsReload = useCallback((frame: EventFrame) => RELOAD_TYPES.has(frame.type) || isApprovalEvent(frame.type) || isAlertEvent(frame.type), []);
  const onFrames = useCallback((frames: EventFrame[]) => {
    for (const f of frames) {
      const warning = readBudgetWarning(f.type, f.data);
      if (warning) setWarnings((shown) => mergeWarning(shown, warning));
      if (DECOMPOSITION_TYPES.has(f.type)) setPlanRev((n) => n + 1);
      if (f.type === ASKED || f.type === ANSWERED) {
        const paused = f.type === ASKED;
        setAsked(paused ? str(f.data, 'question') : null);
        setJob((j) => (j && !isTerminal(j.status) ? { ...j, status: paused ? 'paused' : 'running' } : j));
      } else if (JOB_END_TYPES.has(f.type)) {
        const status = typeof f.data.status === 'string' ? f.data.status : 'cancelled';
        const error = typeof f.data.error === 'string' ? f.data.error : null;
        setJob((j) => (j ? { ...j, status, finished_at: j.finished_at ?? f.ts, error } : j));
      } else if (NODE_ACTIVITY_TYPES.has(f.type)) {
        setJob((j) => (j && (j.status === 'queued' || j.status === 'pending') ? { ...j, status: 'running', started_at: j.started_at ?? f.ts } : j));
      }
    }
    setTick((t) => t + 1);
  }, []);
  const { model, error, loading, refresh } = useLiveTree({ load, accepts, needsReload, onFrames });

  const loadResult = useCallback(
    async (nodeId: string): Promise<JsonValue | undefined> => {
      const key = `${model ? endedCount(model.totals()) : 0}:${planRev}`;
      if (!results.current || results.current.key !== key || !results.current.map.has(nodeId)) {
        const view = await api.getJob(id, { results: true });
        const map = new Map<string, JsonValue | undefined>();
        collectResults(view.tree, map);
        results.current = { key, map };
      }
      return results.current.map.get(nodeId);
    },
    [api, id, model, planRev],
  );

  const jobApprovals = useApprovals({ jobId: id, mine: false, limit: JOB_APPROVALS_LIMIT });
  const onApprovalDecided = (view: ApprovalView, verdict: Verdict) => {
    jobApprovals.replace(view);
    setNotice(decidedNotice(view, verdict));
    refresh();
  };

  const jobAlerts = useAlerts({ jobId: id, open: true, limit: JOB_ALERTS_LIMIT });
  const workspaceEventOf = useWorkspaceFrames(id);
  const held = heldOf(jobAlerts.alerts ?? []);
  const onResumed = (summary: JobSummary) => {
    setJob((j) => (j && !isTerminal(j.status) ? { ...j, status: summary.status ?? 'running' } : j));
    setNotice('Job resumed: new nodes start again.');
    jobAlerts.refresh();
    refresh();
  };

  const paused = job?.status === 'paused';
  // A job is also paused while nothing but approvals can move it, or while an alert holds
  // it: no question to answer then (nor one to look for). A node awaiting approval in the tree
  // says so before the job's requests are read; until both lists are read the form waits.
  const approvalsWaiting = (model?.totals().awaiting_approval ?? 0) > 0 || (jobApprovals.approvals?.some((a) => a.state === 'pending') ?? false);
  const holdsKnown = jobApprovals.approvals !== null && jobAlerts.alerts !== null;
  const pending = usePendingQuestion(paused && !held, model?.roots[0]?.id ?? null, loadResult, asked);
  const questionShown = paused && (asked !== null || pending.question !== null || (holdsKnown && !approvalsWaiting && !held));
  const onAnswered = (summary: JobSummary) => {
    setAsked(null);
    setPlanRev((n) => n + 1);
    setJob((j) => (j ? { ...j, status: summary.status ?? 'running' } : j));
    setNotice('Answer sent: the job goes on.');
    refresh();
  };

  const doCancel = async () => {
    const what = confirming;
    setConfirming(null);
    setActionError(null);
    setNotice(null);
    if (!what) return;
    try {
      if (what.what === 'job') {
        const view = await api.cancelJob(id);
        setJob((j) => (j ? { ...j, status: view.status ?? j.status } : j));
        setNotice('Cancellation requested for the job.');
      } else {
        await api.cancelNode(id, what.nodeId);
        setNotice('Cancellation requested for the subtree.');
      }
      refresh();
    } catch (err) {
      setActionError(describeError(err));
    }
  };

  const totals = model?.totals() ?? job?.counts.by_status ?? {};
  const jobEnded = job ? isTerminal(job.status) : false;
  const selectedNode = selected ? model?.get(selected) : undefined;
  const snapshotUsage = readUsage(job?.usage);
  const live = model?.liveUsage ?? null;
  const jobUsage = live ? addUsage(snapshotUsage, live) : snapshotUsage;
  // The root's envelope is the job's; the model's copy grows with the calls streamed since.
  const jobBudget = model?.roots[0]?.budget ?? readBudget(job?.budget);

  return (
    <>
      <div className="title-row">
        <h1 tabIndex={-1}>Job {job ? <span className="muted">{job.request}</span> : id}</h1>
        {job && (
          <div className="title-actions">
            <button type="button" aria-expanded={reportOpen} aria-controls={reportId} onClick={() => setReportOpen((o) => !o)}>
              Report
            </button>
            <button type="button" className="danger" disabled={jobEnded} onClick={() => setConfirming({ what: 'job' })}>
              Cancel job
            </button>
          </div>
        )}
      </div>
      {job?.workspace && (
        <p className="workspace-line small" data-testid="job-workspace">
          {workspaceText(job.workspace)}
        </p>
      )}
      {(error || actionError) && (
        <div role="alert" className="error">
          {error && <p>{error}</p>}
          {actionError && <p>{actionError}</p>}
        </div>
      )}
      {notice && <p role="status">{notice}</p>}
      <BudgetWarnings
        warnings={warnings}
        nameOf={(nodeId) => model?.get(nodeId)?.name}
        onSelect={setSelected}
        onDismiss={() => setWarnings([])}
      />
      {loading && !job && <p>Loading…</p>}
      {held && <HeldBanner held={held} onResumed={onResumed} />}
      {jobApprovals.approvals && <ApprovalsWaiting approvals={jobApprovals.approvals} onSelect={setSelected} />}
      {questionShown && <ClarificationForm jobId={id} question={pending.question} questionError={pending.error} onAnswered={onAnswered} />}
      {job && (
        <section className="job-summary" aria-label="Job summary">
          <dl className="facts">
            <dt>Status</dt>
            <dd data-testid="job-status" data-status={job.status}>
              <StatusBadge status={job.status} />
            </dd>
            <dt>Job id</dt>
            <dd>
              <code>{job.job_id}</code>
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(job.created_at)}</dd>
            <dt>Started</dt>
            <dd>{formatTime(job.started_at)}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(job.finished_at)}</dd>
            <dt>Duration</dt>
            <dd>{job.started_at ? formatDuration(between(job.started_at, job.finished_at)) : '—'}</dd>
            <dt>Labels</dt>
            <dd>{formatLabels(job.labels) || '—'}</dd>
            {jobUsage && (
              <>
                <dt>Tokens</dt>
                <dd data-testid="job-tokens">{tokensLong(jobUsage)}</dd>
                <dt>Cost</dt>
                <dd data-testid="job-cost">{formatCost(jobUsage.cost)}</dd>
                <dt>Model calls</dt>
                <dd>{formatCount(jobUsage.calls)}</dd>
              </>
            )}
            {jobBudget && (
              <>
                <dt>Budget</dt>
                <dd>
                  <span data-testid="job-budget">{budgetShort(jobBudget)}</span>
                  <BudgetBar budget={jobBudget} label="Job budget used" className="budget-bar-inline" />
                </dd>
              </>
            )}
            {job.error && (
              <>
                <dt>Error</dt>
                <dd className="error-text">{job.error}</dd>
              </>
            )}
          </dl>
          <div className="counts">
            <table>
              <caption>Nodes by status</caption>
              <tbody>
                {NODE_STATUSES.map((s) => (
                  <tr key={s}>
                    <th scope="row">{statusText(s)}</th>
                    <td data-count={s}>{totals[s] ?? 0}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table>
              <caption>Nodes by depth</caption>
              <tbody>
                {Object.entries(job.counts.by_depth).map(([d, n]) => (
                  <tr key={d}>
                    <th scope="row">depth {d}</th>
                    <td>{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {reportOpen && <JobReport jobId={id} id={reportId} onClose={() => setReportOpen(false)} />}
      <div className="detail-grid">
        <JobNodes jobId={id} model={model} view={view} selectedId={selected} onSelect={setSelected} />
        <aside aria-label="Selected node" className="detail-panel">
          {model && selectedNode ? (
            <NodePanel
              model={model}
              jobId={id}
              nodeId={selectedNode.id}
              loadResult={loadResult}
              onSelect={setSelected}
              approvals={jobApprovals.approvals?.filter((a) => a.node_id === selectedNode.id)}
              onApprovalDecided={onApprovalDecided}
              alerts={jobAlerts.alerts?.filter((a) => a.node_id === selectedNode.id)}
              workspace={job?.workspace}
              workspaceEvent={workspaceEventOf(selectedNode.id)}
              onCancelSubtree={() => setConfirming({ what: 'node', nodeId: selectedNode.id })}
            />
          ) : (
            <p className="muted">Select a node (click, or Space) to see its result, error, logs and model calls.</p>
          )}
        </aside>
      </div>
      {confirming && (
        <ConfirmDialog
          title={confirming.what === 'job' ? 'Cancel this job?' : 'Cancel this subtree?'}
          onConfirm={doCancel}
          onCancel={() => setConfirming(null)}
        >
          <p>
            {confirming.what === 'job'
              ? 'Every node that has not ended is cancelled; running commands are stopped.'
              : `The node ${model?.get(confirming.nodeId)?.name ?? ''} and everything under it are cancelled.`}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
