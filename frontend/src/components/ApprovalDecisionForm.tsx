// The decision form of a request the key may decide (`POST /approvals/{id}/decision`): an
// escalation's is EscalationDecisionForm; a `before` or `after` request's has one-click
// Approve and Reject, an optional comment, and — only when the request has an
// `input_schema` — the schema and a JSON input the node receives when approved. A key that
// may only reject (it submitted the job, and the request does not allow that) gets Reject
// alone and a note saying why. Input that is not JSON is not sent; the server's refusal of
// it (422, `input`) is shown under the field, any other (403 not an approver or one's own
// job, 409 decided meanwhile) above the buttons. The buttons are disabled while a decision
// is sent.
import { useId, useState } from 'react';
import type { ApprovalView, JsonValue, Verdict } from '../api/types';
import { ESCALATION, parseInput } from '../app/approvals';
import { prettyJson } from '../app/format';
import { useDecision } from '../app/useDecision';
import { CommentField, DecisionError, OnlyStopNote } from './ApprovalDecisionParts';
import { EscalationDecisionForm } from './EscalationDecisionForm';

export interface ApprovalDecisionFormProps {
  approval: ApprovalView;
  /** The decision was stored: the request as it stands now. */
  onDecided: (view: ApprovalView, verdict: Verdict) => void;
}

export function ApprovalDecisionForm(props: ApprovalDecisionFormProps) {
  return props.approval.kind === ESCALATION ? <EscalationDecisionForm {...props} /> : <ApprovalVerdictForm {...props} />;
}

function ApprovalVerdictForm({ approval, onDecided }: ApprovalDecisionFormProps) {
  const decision = useDecision(approval, onDecided);
  const { sending } = decision;
  const inputId = useId();
  const inputHelpId = useId();
  const inputErrorId = useId();
  const [input, setInput] = useState('');
  const [notJson, setNotJson] = useState<string | null>(null);
  const schema = approval.input_schema;
  const mayApprove = approval.may_approve;
  const asksInput = mayApprove && schema !== null && schema !== undefined;
  const inputError = notJson ?? (decision.inputRefusal?.verdict === 'approve' ? decision.inputRefusal.message : null);

  const send = async (verdict: 'approve' | 'reject') => {
    if (sending) return;
    setNotJson(null);
    let value: JsonValue | undefined;
    if (verdict === 'approve' && asksInput) {
      const parsed = parseInput(input);
      if (!parsed.ok) {
        decision.clearErrors();
        setNotJson(parsed.message);
        return;
      }
      value = parsed.value;
    }
    if (await decision.send(verdict, value)) setInput('');
  };

  return (
    <form className="approval-form" onSubmit={(e) => e.preventDefault()} aria-label={`Decide on ${approval.node_name}`}>
      <CommentField decision={decision} />
      {asksInput && (
        <div className="field">
          <label htmlFor={inputId}>Input (JSON, sent when approved)</label>
          <details className="approval-schema">
            <summary id={inputHelpId}>The schema it must follow</summary>
            <pre className="json" tabIndex={0} data-testid="approval-schema">
              {prettyJson(schema)}
            </pre>
          </details>
          <textarea
            id={inputId}
            className="spec"
            rows={4}
            value={input}
            disabled={sending !== null}
            aria-invalid={inputError ? true : undefined}
            aria-describedby={inputError ? `${inputHelpId} ${inputErrorId}` : inputHelpId}
            onChange={(e) => setInput(e.target.value)}
          />
          {inputError && (
            <p id={inputErrorId} role="alert" className="error" data-testid="approval-input-error">
              {inputError}
            </p>
          )}
        </div>
      )}
      <DecisionError decision={decision} />
      <div className="actions">
        {mayApprove && (
          <button type="button" className="primary" disabled={sending !== null} onClick={() => void send('approve')}>
            {sending === 'approve' ? 'Approving…' : 'Approve'}
          </button>
        )}
        <button type="button" className="danger" disabled={sending !== null} onClick={() => void send('reject')}>
          {sending === 'reject' ? 'Rejecting…' : 'Reject'}
        </button>
      </div>
      <OnlyStopNote approval={approval} />
    </form>
  );
}
