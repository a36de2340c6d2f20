// One-click Approve and Reject for an approval request the key may decide (`POST
// /approvals/{id}/decision`): an optional comment, and — only when the request has an
// `input_schema` — the schema and a JSON input the node receives when approved. Input that is
// not JSON is not sent; the server's refusal of it (422, `input`) is shown under the field,
// any other (403 not an approver or one's own job, 409 decided meanwhile) above the buttons.
// Both buttons are disabled while a decision is sent.
import { useId, useState } from 'react';
import { describeError } from '../api/client';
import type { ApprovalView, DecisionBody, JsonValue, Verdict } from '../api/types';
import { fieldProblem, parseInput } from '../app/approvals';
import { prettyJson } from '../app/format';
import { useServices } from '../app/services';

export interface ApprovalDecisionFormProps {
  approval: ApprovalView;
  /** The decision was stored: the request as it stands now. */
  onDecided: (view: ApprovalView, verdict: Verdict) => void;
}

export function ApprovalDecisionForm({ approval, onDecided }: ApprovalDecisionFormProps) {
  const { api } = useServices();
  const commentId = useId();
  const inputId = useId();
  const inputHelpId = useId();
  const inputErrorId = useId();
  const [comment, setComment] = useState('');
  const [input, setInput] = useState('');
  const [sending, setSending] = useState<Verdict | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inputError, setInputError] = useState<string | null>(null);
  const schema = approval.input_schema;
  const asksInput = schema !== null && schema !== undefined;

  const send = async (verdict: Verdict) => {
    if (sending) return;
    setError(null);
    setInputError(null);
    let value: JsonValue | undefined;
    if (verdict === 'approve' && asksInput) {
      const parsed = parseInput(input);
      if (!parsed.ok) {
        setInputError(parsed.message);
        return;
      }
      value = parsed.value;
    }
    const body: DecisionBody = { decision: verdict };
    if (comment.trim()) body.comment = comment.trim();
    if (value !== undefined) body.input = value;
    setSending(verdict);
    try {
      const view = await api.decideApproval(approval.id, body);
      setComment('');
      setInput('');
      onDecided(view, verdict);
    } catch (err) {
      const onInput = fieldProblem(err, 'input');
      if (onInput) setInputError(onInput);
      else setError(describeError(err));
    } finally {
      setSending(null);
    }
  };

  return (
    <form className="approval-form" onSubmit={(e) => e.preventDefault()} aria-label={`Decide on ${approval.node_name}`}>
      <div className="field">
        <label htmlFor={commentId}>Comment (optional)</label>
        <textarea id={commentId} rows={2} maxLength={4000} value={comment} disabled={sending !== null} onChange={(e) => setComment(e.target.value)} />
      </div>
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
      {error && (
        <p role="alert" className="error" data-testid="approval-error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="primary" disabled={sending !== null} onClick={() => void send('approve')}>
          {sending === 'approve' ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" className="danger" disabled={sending !== null} onClick={() => void send('reject')}>
          {sending === 'reject' ? 'Rejecting…' : 'Reject'}
        </button>
      </div>
    </form>
  );
}
