// A paused job's question, shown prominently with a form to answer it (`POST …/answer`): the
// answer cannot be blank, the form is disabled while it is sent, and a refusal (409: the job
// no longer waits; 422) is shown under it.
import { useId, useState, type FormEvent } from 'react';
import { describeError } from '../api/client';
import type { JobSummary } from '../api/types';
import { useServices } from '../app/services';

export interface ClarificationFormProps {
  jobId: string;
  /** The question waiting for an answer; null while it is being read. */
  question: string | null;
  /** Why the question could not be read. */
  questionError?: string | null;
  /** The answer was stored: the job goes on. */
  onAnswered: (summary: JobSummary) => void;
}

export function ClarificationForm({ jobId, question, questionError = null, onAnswered }: ClarificationFormProps) {
  const { api } = useServices();
  const headingId = useId();
  const fieldId = useId();
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const answer = draft.trim();
    if (!answer || sending) return;
    setSending(true);
    setError(null);
    try {
      const summary = await api.answerJob(jobId, answer);
      setDraft('');
      onAnswered(summary);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <section className="clarification" aria-labelledby={headingId} data-testid="clarification">
      <h2 id={headingId}>
        <span aria-hidden="true">‖</span> The job is waiting for your answer
      </h2>
      <p className="clarification-question" data-testid="clarification-question">
        {question ?? <span className="muted">{questionError ? `The question could not be read: ${questionError}` : 'Loading the question…'}</span>}
      </p>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor={fieldId}>Your answer</label>
          <textarea
            id={fieldId}
            rows={3}
            value={draft}
            disabled={sending}
            onChange={(e) => setDraft(e.target.value)}
          />
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={sending || !draft.trim()}>
          {sending ? 'Sending…' : 'Send answer'}
        </button>
      </form>
    </section>
  );
}
