// The parts every decision form has: the optional comment, a refusal that is not of the
// input (above the buttons), and why the key may only stop the request (under them).
import { useId } from 'react';
import type { ApprovalView } from '../api/types';
import { onlyStopText } from '../app/approvals';
import type { Decision } from '../app/useDecision';

/** The optional comment every decision may carry. */
export function CommentField({ decision }: { decision: Decision }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>Comment (optional)</label>
      <textarea id={id} rows={2} maxLength={4000} value={decision.comment} disabled={decision.sending !== null} onChange={(e) => decision.setComment(e.target.value)} />
    </div>
  );
}

/** A refusal that is not of the input, above the buttons. */
export function DecisionError({ decision }: { decision: Decision }) {
  if (!decision.error) return null;
  return (
    <p role="alert" className="error" data-testid="approval-error">
      {decision.error}
    </p>
  );
}

/** Why the key may only stop the request, under its buttons. */
export function OnlyStopNote({ approval }: { approval: ApprovalView }) {
  const note = onlyStopText(approval);
  if (!note) return null;
  return (
    <p className="approval-waiting" data-testid="approval-only-stop">
      {note}
    </p>
  );
}
