// One approval request of the inbox, as a card: its node (a link to the job page with the
// node's panel open) and kind, the prompt, the job, where it stands, an `after` request's
// result, an escalation's failure or a plan approval's plan, its other levels and its
// decisions; the decision form when the key may decide it now (Approve and Reject; Retry,
// Retry with…, Skip and Fail for an escalation), else — while it is pending — whose
// decision it waits for.
import { useId } from 'react';
import type { ApprovalView, Verdict } from '../api/types';
import { kindQuestion, kindText, waitingText } from '../app/approvals';
import { jobHash, nodeHash } from '../app/route';
import { ApprovalDecisionForm } from './ApprovalDecisionForm';
import { ApprovalDecisions, ApprovalFacts, ApprovalFailure, ApprovalLevels, ApprovalPlan, ApprovalResult } from './ApprovalDetails';

export interface ApprovalCardProps {
  approval: ApprovalView;
  /** For relative times. */
  now: number;
  onDecided: (view: ApprovalView, verdict: Verdict) => void;
}

export function ApprovalCard({ approval, now, onDecided }: ApprovalCardProps) {
  const headingId = useId();
  const pending = approval.state === 'pending';
  const why = pending ? waitingText(approval) : null;
  return (
    <article
      className={`edge-card approval-card approval-card-${approval.state} approval-card-kind-${approval.kind}`}
      aria-labelledby={headingId}
      data-approval-id={approval.id}
      data-node-name={approval.node_name}
      data-state={approval.state}
      data-kind={approval.kind}
    >
      <h2 id={headingId}>
        <span aria-hidden="true" className="approval-glyph">
          ⚑
        </span>{' '}
        <a href={`#${nodeHash(approval.job_id, approval.node_id)}`}>{approval.node_name}</a>{' '}
        <span className={`approval-kind approval-kind-${approval.kind}`} data-testid="approval-kind">
          {kindText(approval.kind)}
        </span>
      </h2>
      <p className="approval-prompt" data-testid="approval-prompt">
        {approval.prompt ?? <span className="muted">{kindQuestion(approval.kind)} (no prompt given).</span>}
      </p>
      <p className="small">
        Job{' '}
        <a href={`#${jobHash(approval.job_id)}`} data-testid="approval-job">
          <code>{approval.job_id}</code>
        </a>
      </p>
      <ApprovalFacts approval={approval} now={now} />
      <ApprovalResult approval={approval} />
      <ApprovalFailure approval={approval} />
      <ApprovalPlan approval={approval} />
      {approval.levels.length > 1 && (
        <details className="approval-more">
          <summary>All {approval.levels.length} levels</summary>
          <ApprovalLevels approval={approval} />
        </details>
      )}
      {approval.decisions.length > 0 && (
        <>
          <h3>Decisions</h3>
          <ApprovalDecisions approval={approval} now={now} />
        </>
      )}
      {pending && approval.may_decide && <ApprovalDecisionForm approval={approval} onDecided={onDecided} />}
      {pending && why && (
        <p className="approval-waiting" data-testid="approval-waiting">
          {why}
        </p>
      )}
    </article>
  );
}
