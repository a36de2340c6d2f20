// One alert, as a card: the rule in words, its message, what the rule saw in words, the job
// and the node it concerns (links to the job page, with the node's panel open), when it
// fired, and when and by whom it was resolved; for a job its failure-rate alert holds, the
// Resume job button.
import { useId } from 'react';
import type { AlertView, JobSummary } from '../api/types';
import { relativeTime } from '../app/approvals';
import { alertDetail, holdsJob, resolvedByText, ruleText } from '../app/alerts';
import { formatTime } from '../app/format';
import { jobHash, nodeHash } from '../app/route';
import { ResumeJobButton } from './ResumeJobButton';

export interface AlertCardProps {
  alert: AlertView;
  /** For relative times. */
  now: number;
  /** Its job was resumed. */
  onResumed: (alert: AlertView, summary: JobSummary) => void;
}

export function AlertCard({ alert, now, onResumed }: AlertCardProps) {
  const headingId = useId();
  const detail = alertDetail(alert);
  const jobId = alert.job_id;
  return (
    <article
      className={`edge-card alert-card alert-card-${alert.open ? 'open' : 'resolved'} alert-card-rule-${alert.rule}`}
      aria-labelledby={headingId}
      data-alert-id={alert.id}
      data-rule={alert.rule}
      data-open={alert.open}
      data-job-id={jobId ?? ''}
    >
      <h2 id={headingId}>
        <span aria-hidden="true" className="alert-glyph">
          ⚠
        </span>{' '}
        <span data-testid="alert-rule">{ruleText(alert.rule)}</span>{' '}
        <span className={`badge alert-state alert-state-${alert.open ? 'open' : 'resolved'}`} data-testid="alert-state">
          {alert.open ? 'open' : 'resolved'}
        </span>
      </h2>
      <p className="alert-message" data-testid="alert-message">
        {alert.message}
      </p>
      <dl className="facts">
        {detail && (
          <>
            <dt>Saw</dt>
            <dd data-testid="alert-detail">{detail}</dd>
          </>
        )}
        <dt>Job</dt>
        <dd>
          {jobId ? (
            <a href={`#${jobHash(jobId)}`} data-testid="alert-job">
              <code>{jobId}</code>
            </a>
          ) : (
            <span className="muted">none: the server’s</span>
          )}
        </dd>
        {jobId && alert.node_id && (
          <>
            <dt>Node</dt>
            <dd>
              <a href={`#${nodeHash(jobId, alert.node_id)}`} data-testid="alert-node">
                <code>{alert.node_id}</code>
              </a>
            </dd>
          </>
        )}
        <dt>Fired</dt>
        <dd>
          <time dateTime={alert.created_at} title={formatTime(alert.created_at)}>
            {relativeTime(alert.created_at, now)}
          </time>
        </dd>
        {!alert.open && (
          <>
            <dt>Resolved</dt>
            <dd data-testid="alert-resolved">
              {alert.resolved_at && (
                <>
                  <time dateTime={alert.resolved_at} title={formatTime(alert.resolved_at)}>
                    {relativeTime(alert.resolved_at, now)}
                  </time>{' '}
                </>
              )}
              <span data-testid="alert-resolved-by" data-by={alert.resolved_by ?? ''}>
                {resolvedByText(alert)}
              </span>
            </dd>
          </>
        )}
      </dl>
      {holdsJob(alert) && jobId && (
        <>
          <p className="alert-held">New starts of this job are held until someone resumes it.</p>
          <ResumeJobButton jobId={jobId} onResumed={(summary) => onResumed(alert, summary)} />
        </>
      )}
    </article>
  );
}
