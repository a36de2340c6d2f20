// The Resume job button of a job held by its failure-rate alert (`POST …/resume`): disabled
// while it is sent; the job as it stands is handed on, a refusal (409: the job is not held —
// resumed meanwhile, or ended) shown under it.
import { useState } from 'react';
import { describeError } from '../api/client';
import type { JobSummary } from '../api/types';
import { useServices } from '../app/services';

export interface ResumeJobButtonProps {
  jobId: string;
  /** The job was resumed: it as it stands now. */
  onResumed: (summary: JobSummary) => void;
}

export function ResumeJobButton({ jobId, onResumed }: ResumeJobButtonProps) {
  const { api } = useServices();
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const resume = async () => {
    if (sending) return;
    setSending(true);
    setError(null);
    try {
      onResumed(await api.resumeJob(jobId));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <div className="resume-job">
      <button type="button" className="primary" disabled={sending} onClick={() => void resume()}>
        {sending ? 'Resuming…' : 'Resume job'}
      </button>
      {error && (
        <p role="alert" className="error" data-testid="resume-error">
          {error}
        </p>
      )}
    </div>
  );
}
