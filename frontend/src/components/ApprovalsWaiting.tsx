// Above a job's summary, its nodes that wait for a person's approval (or, escalated, for a
// decision on a failure, or to approve a model's plan): each node (selecting it opens its
// panel, where it is decided), what it asks and its prompt (a plan's project, components and
// the children it places when it has none), and whether the key may decide it (or only stop
// it) or whose decision it waits for. Nothing while no request of the job waits.
import { useId } from 'react';
import type { ApprovalView } from '../api/types';
import { approversText, currentLevel, ESCALATION, kindText, planSummary } from '../app/approvals';
import { NodeLink } from './NodeLink';

export interface ApprovalsWaitingProps {
  /** The job's requests (any state: only pending ones are listed). */
  approvals: readonly ApprovalView[];
  onSelect: (nodeId: string) => void;
}

function whose(a: ApprovalView): string {
  if (a.may_decide && !a.may_approve) return a.kind === ESCALATION ? 'yours to fail only' : 'yours to reject only (you submitted the job)';
  if (a.may_decide) return 'yours to decide';
  const level = currentLevel(a);
  return level ? `waiting for ${approversText(level.approvers)}` : 'waiting for its approvers';
}

/** What the list says of a request: its prompt, and what a plan approval holds in a line. */
function prompt(a: ApprovalView): string | null {
  const plan = planSummary(a);
  if (a.prompt && plan) return `${a.prompt} (${plan})`;
  return a.prompt ?? plan;
}

export function ApprovalsWaiting({ approvals, onSelect }: ApprovalsWaitingProps) {
  const headingId = useId();
  const pending = approvals.filter((a) => a.state === 'pending');
  if (pending.length === 0) return null;
  return (
    <section className="approvals-waiting" aria-labelledby={headingId} data-testid="approvals-waiting">
      <h2 id={headingId}>
        <span aria-hidden="true">⚑</span> Waiting for approval
      </h2>
      <ul>
        {pending.map((a) => (
          <li key={a.id} data-approval-id={a.id}>
            <NodeLink name={a.node_name} nodeId={a.node_id} onSelect={onSelect} /> ({kindText(a.kind)}){prompt(a) && `: ${prompt(a)}`} —{' '}
            <strong>{whose(a)}</strong>
          </li>
        ))}
      </ul>
    </section>
  );
}
