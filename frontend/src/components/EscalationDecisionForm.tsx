// The decision form of an escalation (a failed attempt its recovery policy put to a person):
// one-click Retry (run the node again as it was) and Fail (let the failure stand); Retry
// with… opens new terms for the next attempt — memory, CPU seconds, a timeout (a command
// worker's limits) and, in an advanced part, another provider and model (an llm worker's:
// a request does not say which kind of worker failed) — sent with "Retry with these terms";
// Skip counts the node as succeeded, with the optional JSON result typed above it. The
// comment is shared by all four. Terms and a result are checked here first (not sent when
// wrong); the server's refusal of them (422, `input`) is shown under the part that sent
// them, any other refusal above the buttons. A key that may only let the failure stand
// gets Fail alone, and a note.
import { useId, useState, type ChangeEvent } from 'react';
import type { JsonValue } from '../api/types';
import { NO_TERMS, parseInput, parseTerms, type TermsFields } from '../app/approvals';
import { useDecision } from '../app/useDecision';
import type { ApprovalDecisionFormProps } from './ApprovalDecisionForm';
import { CommentField, DecisionError, OnlyStopNote } from './ApprovalDecisionParts';

const LIMIT_FIELDS: readonly { key: 'memory_mb' | 'cpu_seconds' | 'timeout_s'; label: string }[] = [
  { key: 'memory_mb', label: 'Memory (MiB)' },
  { key: 'cpu_seconds', label: 'CPU (seconds)' },
  { key: 'timeout_s', label: 'Timeout (seconds)' },
];

export function EscalationDecisionForm({ approval, onDecided }: ApprovalDecisionFormProps) {
  const decision = useDecision(approval, onDecided);
  const { sending } = decision;
  const busy = sending !== null;
  const mayGoOn = approval.may_approve;
  const ids = { result: useId(), resultError: useId(), terms: useId(), termsHelp: useId(), termsError: useId(), fields: useId() };
  const [result, setResult] = useState('');
  const [resultProblem, setResultProblem] = useState<string | null>(null);
  const [termsOpen, setTermsOpen] = useState(false);
  const [terms, setTerms] = useState<TermsFields>(NO_TERMS);
  const [termsProblem, setTermsProblem] = useState<string | null>(null);
  const refused = (verdict: string) => (decision.inputRefusal?.verdict === verdict ? decision.inputRefusal.message : null);
  const resultError = resultProblem ?? refused('skip');
  const termsError = termsProblem ?? refused('retry_with');

  const forget = () => {
    setResultProblem(null);
    setTermsProblem(null);
  };

  const decide = async (verdict: 'retry' | 'fail') => {
    if (busy) return;
    forget();
    await decision.send(verdict);
  };

  const skip = async () => {
    if (busy) return;
    forget();
    const parsed = parseInput(result);
    if (!parsed.ok) {
      decision.clearErrors();
      setResultProblem(parsed.message);
      return;
    }
    if (await decision.send('skip', parsed.value)) setResult('');
  };

  const retryWith = async () => {
    if (busy) return;
    forget();
    const parsed = parseTerms(terms);
    if (!parsed.ok) {
      decision.clearErrors();
      setTermsProblem(parsed.message);
      return;
    }
    if (await decision.send('retry_with', parsed.value as JsonValue)) {
      setTerms(NO_TERMS);
      setTermsOpen(false);
    }
  };

  const field = (key: keyof TermsFields) => ({
    id: `${ids.fields}-${key}`,
    value: terms[key],
    disabled: busy,
    'aria-invalid': termsError ? true : undefined,
    'aria-describedby': termsError ? `${ids.termsHelp} ${ids.termsError}` : ids.termsHelp,
    onChange: (e: ChangeEvent<HTMLInputElement>) => setTerms((t) => ({ ...t, [key]: e.target.value })),
  });

  return (
    <form className="approval-form escalation-form" onSubmit={(e) => e.preventDefault()} aria-label={`Decide on ${approval.node_name}`}>
      <CommentField decision={decision} />
      {mayGoOn && (
        <div className="field">
          <label htmlFor={ids.result}>Result if skipped (JSON, optional)</label>
          <textarea
            id={ids.result}
            className="spec"
            rows={2}
            value={result}
            disabled={busy}
            aria-invalid={resultError ? true : undefined}
            aria-describedby={resultError ? ids.resultError : undefined}
            onChange={(e) => setResult(e.target.value)}
          />
          {resultError && (
            <p id={ids.resultError} role="alert" className="error" data-testid="escalation-result-error">
              {resultError}
            </p>
          )}
        </div>
      )}
      <DecisionError decision={decision} />
      <div className="actions">
        {mayGoOn && (
          <>
            <button type="button" className="primary" disabled={busy} onClick={() => void decide('retry')}>
              {sending === 'retry' ? 'Retrying…' : 'Retry'}
            </button>
            <button
              type="button"
              disabled={busy}
              aria-expanded={termsOpen}
              aria-controls={termsOpen ? ids.terms : undefined}
              onClick={() => {
                setTermsOpen((o) => !o);
                setTermsProblem(null);
              }}
            >
              Retry with…
            </button>
            <button type="button" disabled={busy} onClick={() => void skip()}>
              {sending === 'skip' ? 'Skipping…' : 'Skip'}
            </button>
          </>
        )}
        <button type="button" className="danger" disabled={busy} onClick={() => void decide('fail')}>
          {sending === 'fail' ? 'Failing…' : 'Fail'}
        </button>
      </div>
      <OnlyStopNote approval={approval} />
      {mayGoOn && termsOpen && (
        <fieldset id={ids.terms} className="retry-terms" data-testid="retry-terms">
          <legend>Retry with other terms</legend>
          <p id={ids.termsHelp} className="small muted">
            Blank fields stay as they were; give at least one. The limits apply to a command worker, the provider and model to an llm worker.
          </p>
          <div className="retry-limits">
            {LIMIT_FIELDS.map((f) => (
              <div className="field" key={f.key}>
                <label htmlFor={`${ids.fields}-${f.key}`}>{f.label}</label>
                <input type="number" min={1} step={1} inputMode="numeric" {...field(f.key)} />
              </div>
            ))}
          </div>
          <details className="approval-advanced">
            <summary>Another model (an llm worker)</summary>
            <div className="retry-limits">
              <div className="field">
                <label htmlFor={`${ids.fields}-provider`}>Provider</label>
                <input type="text" autoComplete="off" {...field('provider')} />
              </div>
              <div className="field">
                <label htmlFor={`${ids.fields}-model`}>Model (optional)</label>
                <input type="text" autoComplete="off" {...field('model')} />
              </div>
            </div>
          </details>
          {termsError && (
            <p id={ids.termsError} role="alert" className="error" data-testid="retry-terms-error">
              {termsError}
            </p>
          )}
          <div className="actions">
            <button type="button" className="primary" disabled={busy} onClick={() => void retryWith()}>
              {sending === 'retry_with' ? 'Retrying…' : 'Retry with these terms'}
            </button>
            <button type="button" disabled={busy} onClick={() => setTermsOpen(false)}>
              Cancel
            </button>
          </div>
        </fieldset>
      )}
    </form>
  );
}
