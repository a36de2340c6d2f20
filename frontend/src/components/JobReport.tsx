// A job's final report (`GET …/report`, Markdown, behind the bearer key): fetched through the
// client when opened, shown as preformatted text, and offered as a `.md` download.
import { useEffect, useState } from 'react';
import { describeError } from '../api/client';
import { useServices } from '../app/services';

export interface JobReportProps {
  jobId: string;
  /** The element's id (the Report button's `aria-controls`). */
  id?: string;
  onClose: () => void;
}

type Shown = { state: 'loading' } | { state: 'done'; text: string } | { state: 'error'; message: string };

function downloadHref(text: string): string {
  return `data:text/markdown;charset=utf-8,${encodeURIComponent(text)}`;
}

export function JobReport({ jobId, id, onClose }: JobReportProps) {
  const { api } = useServices();
  const [shown, setShown] = useState<Shown>({ state: 'loading' });

  useEffect(() => {
    let alive = true;
    api
      .jobReport(jobId)
      .then((text) => alive && setShown({ state: 'done', text }))
      .catch((err: unknown) => alive && setShown({ state: 'error', message: describeError(err) }));
    return () => {
      alive = false;
    };
  }, [api, jobId]);

  return (
    <section id={id} className="job-report" aria-labelledby="job-report-heading">
      <div className="title-row">
        <h2 id="job-report-heading">Report</h2>
        <div className="title-actions">
          {shown.state === 'done' && (
            <a className="button-link" href={downloadHref(shown.text)} download={`cadre-job-${jobId}.md`}>
              Download .md
            </a>
          )}
          <button type="button" onClick={onClose}>
            Close report
          </button>
        </div>
      </div>
      {shown.state === 'loading' && <p>Loading…</p>}
      {shown.state === 'error' && <p className="error">{shown.message}</p>}
      {shown.state === 'done' && (
        <pre className="report-text" tabIndex={0} data-testid="job-report-text">
          {shown.text}
        </pre>
      )}
    </section>
  );
}
