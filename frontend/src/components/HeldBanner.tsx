// Above a job's summary while its failure-rate alert holds it: nothing new starts (running
// nodes finish) until someone resumes it — what the rule saw, and the Resume job button.
import { useId } from 'react';
import type { JobSummary } from '../api/types';
import { heldText, type HeldAlert } from '../app/alerts';
import { ResumeJobButton } from './ResumeJobButton';

export interface HeldBannerProps {
  held: HeldAlert;
  onResumed: (summary: JobSummary) => void;
}

export function HeldBanner({ held, onResumed }: HeldBannerProps) {
  const headingId = useId();
  return (
    <section className="held-banner" aria-labelledby={headingId} data-testid="held-banner" data-alert-id={held.alertId}>
      <h2 id={headingId}>
        <span aria-hidden="true">⚠</span> Job held by an alert
      </h2>
      <p data-testid="held-text">{heldText(held)} Running nodes finish; nothing new starts until someone resumes the job.</p>
      <ResumeJobButton jobId={held.jobId} onResumed={onResumed} />
    </section>
  );
}
