// The first-visit form asking for an API key; the key is checked against the API before
// it is kept for the tab.
import { useId, useState, type FormEvent } from 'react';
import { ApiClient, describeError } from '../api/client';
import { keyProblem } from '../app/session';

export interface KeyPromptProps {
  onConnect: (key: string) => void;
  /** Why the prompt is shown again (a refused key). */
  reason?: string | null;
  fetchImpl?: typeof fetch;
}

export function KeyPrompt({ onConnect, reason = null, fetchImpl }: KeyPromptProps) {
  const inputId = useId();
  const hintId = useId();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const typed = key.trim();
    const problem = keyProblem(typed);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await new ApiClient({ key: typed, fetchImpl }).listJobs({ limit: 1 });
      onConnect(typed);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>Connect to cadre</h1>
      {reason && <p role="alert" className="error">{reason}</p>}
      <form className="key-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={inputId}>API key</label>
          <input
            id={inputId}
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-describedby={hintId}
            aria-invalid={error ? true : undefined}
            required
          />
          <p id={hintId} className="muted small">
            A key starting with sk-orch-. It stays in this tab only (sessionStorage).
          </p>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Connect
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </>
  );
}
