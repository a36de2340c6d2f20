// The node panel's Approval section for a node that has approval requests (issue 15), newest
// first: what each asks and its prompt, where it stands, every level it may climb, the
// result an `after` request holds, the failure an escalation shows or the plan a plan
// approval holds (the children it placed select their nodes), its decisions, and —
// while it is pending — the decision form when the key may decide it (Approve and Reject;
// Retry, Retry with…, Skip and Fail for an escalation), else whose decision it waits for.
import { useId } from 'react';
import type { ApprovalView, Verdict } from '../api/types';
import { kindText, waitingText } from '../app/approvals';
import { useNow } from '../timeline/useNow';
import { ApprovalDecisionForm } from './ApprovalDecisionForm';
import { ApprovalDecisions, ApprovalFacts, ApprovalFailure, ApprovalLevels, ApprovalPlan, ApprovalResult } from './ApprovalDetails';

/** How often relative times (the deadline) are brought up to date. */
export const APPROVAL_CLOCK_MS = 15_000;

export interface ApprovalSectionProps {
  /** The node's requests, newest first. */
  approvals: readonly ApprovalView[];
  onDecided: (view: ApprovalView, verdict: Verdict) => void;
  /** The id of the node a plan's placed child stands for, when the tree holds it. */
  find?: (name: string) => string | undefined;
  /** Selects a node (a plan's children shown as plain text without it). */
  onSelect?: (nodeId: string) => void;
}

export function ApprovalSection({ approvals, onDecided, find, onSelect }: ApprovalSectionProps) {
  const headingId = useId();
  const now = useNow(approvals.some((a) => a.state === 'pending'), APPROVAL_CLOCK_MS);
  return (
    <section className="approval-section" aria-labelledby={headingId} data-testid="node-approval">
      <h3 id={headingId}>Approval</h3>
      {approvals.map((a) => {
        const pending = a.state === 'pending';
        const why = pending ? waitingText(a) : null;
        return (
          <div key={a.id} className="approval-item" data-approval-id={a.id} data-state={a.state} data-kind={a.kind}>
            <h4>Request: {kindText(a.kind)}</h4>
            {a.prompt && (
              <p className="approval-prompt" data-testid="approval-prompt">
                {a.prompt}
              </p>
            )}
            <ApprovalFacts approval={a} now={now} />
            <ApprovalLevels approval={a} />
            <ApprovalResult approval={a} headingLevel={4} />
            <ApprovalFailure approval={a} headingLevel={4} />
            <ApprovalPlan approval={a} headingLevel={4} find={find} onSelect={onSelect} />
            <h4>Decisions</h4>
            <ApprovalDecisions approval={a} now={now} />
            {pending && a.may_decide && <ApprovalDecisionForm approval={a} onDecided={onDecided} />}
            {why && (
              <p className="approval-waiting" data-testid="approval-waiting">
                {why}
              </p>
            )}
          </div>
        );
      })}
    </section>
  );
}
