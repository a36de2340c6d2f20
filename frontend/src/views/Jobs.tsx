// Jobs view: a filterable, paginated table of jobs whose statuses follow the stream (read
// again when an approval is requested or decided, or an alert fires or is resolved, which
// pauses or resumes a job).
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { describeError } from '../api/client';
import type { JobSummary } from '../api/types';
import { isAlertEvent } from '../app/alerts';
import { isApprovalEvent } from '../app/approvals';
import { between, formatDuration, formatLabels, formatTime } from '../app/format';
import { useServices, useStreamEvents } from '../app/services';
import { StatusBadge } from '../components/StatusBadge';
import type { EventFrame } from '../live/events';

export const PAGE_SIZE = 20;
/** Debounce of the refetch a new job triggers on the first page. */
const NEW_JOB_REFETCH_MS = 1000;
const JOB_STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
const COLUMNS = ['Status', 'Request', 'Labels', 'Created', 'Duration', 'Nodes'] as const;

interface Filter {
  status: string;
  label: string;
}

export function Jobs() {
  const { api } = useServices();
  const statusId = useId();
  const labelId = useId();
  const [filter, setFilter] = useState<Filter>({ status: '', label: '' });
  const [labelDraft, setLabelDraft] = useState('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const refetchTimer = useRef<number | null>(null);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let alive = true;
    api
      .listJobs({ status: filter.status, label: filter.label, limit: PAGE_SIZE, cursor })
      .then((page) => {
        if (!alive) return;
        setJobs(page.jobs);
        setNext(page.next_cursor ?? null);
        setError(null);
      })
      .catch((err: unknown) => {
        if (alive) setError(describeError(err));
      });
    return () => {
      alive = false;
    };
  }, [api, filter, cursor, reloads]);

  useEffect(
    () => () => {
      if (refetchTimer.current !== null) window.clearTimeout(refetchTimer.current);
    },
    [],
  );

  const scheduleRefetch = useCallback(() => {
    if (refetchTimer.current !== null) return;
    refetchTimer.current = window.setTimeout(() => {
      refetchTimer.current = null;
      setReloads((n) => n + 1);
    }, NEW_JOB_REFETCH_MS);
  }, []);

  const setStatus = (jobId: string, status: string) =>
    setJobs((list) => (list ? list.map((j) => (j.job_id === jobId ? { ...j, status } : j)) : list));

  useStreamEvents((frame: EventFrame) => {
    if (frame.type === 'job_submitted' && cursor === null) {
      scheduleRefetch();
      return;
    }
    const asked = frame.type === 'clarification_requested';
    if ((asked || frame.type === 'clarification_answered') && frame.job_id) {
      setStatus(frame.job_id, asked ? 'paused' : 'running');
      return;
    }
    if (isApprovalEvent(frame.type) || isAlertEvent(frame.type)) {
      // A request made or decided, or a failure-rate alert holding its job or resolved by its
      // resume, moves the job between running and paused: read the page again.
      if (frame.job_id && jobs?.some((j) => j.job_id === frame.job_id)) scheduleRefetch();
      return;
    }
    if (frame.type !== 'job_completed' && frame.type !== 'job_cancelled') return;
    const status = typeof frame.data.status === 'string' ? frame.data.status : frame.type === 'job_cancelled' ? 'cancelled' : null;
    if (!status || !frame.job_id) return;
    setJobs((list) =>
      list
        ? list.map((j) =>
            j.job_id === frame.job_id
              ? { ...j, status, finished_at: frame.ts, duration_ms: between(j.started_at ?? j.created_at, frame.ts) }
              : j,
          )
        : list,
    );
  });

  const applyLabel = (e: FormEvent) => {
    e.preventDefault();
    setFilter((f) => ({ ...f, label: labelDraft.trim() }));
    setCursors([null]);
  };

  return (
    <>
      <h1 tabIndex={-1}>Jobs</h1>
      <form className="filters" onSubmit={applyLabel}>
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={filter.status}
            onChange={(e) => {
              setFilter((f) => ({ ...f, status: e.target.value }));
              setCursors([null]);
            }}
          >
            <option value="">any</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={labelId}>Label (key=value)</label>
          <input
            id={labelId}
            value={labelDraft}
            onChange={(e) => setLabelDraft(e.target.value)}
            placeholder="example=hello"
            autoComplete="off"
          />
        </div>
        <button type="submit">Apply filter</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!jobs && !error && <p>Loading…</p>}
      {jobs && (
        <div className="table-scroll">
          <table className="jobs-table">
            <caption className="visually-hidden">Jobs, newest first</caption>
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {jobs.length === 0 && (
                <tr>
                  <td colSpan={COLUMNS.length}>No jobs match.</td>
                </tr>
              )}
              {jobs.map((j) => (
                <tr key={j.job_id} data-job-id={j.job_id} data-status={j.status}>
                  <td>
                    <StatusBadge status={j.status} />
                  </td>
                  <td>
                    <a href={`#/jobs/${encodeURIComponent(j.job_id)}`}>{j.request}</a>
                  </td>
                  <td>{formatLabels(j.labels) || '—'}</td>
                  <td>{formatTime(j.created_at)}</td>
                  <td>{formatDuration(j.duration_ms)}</td>
                  <td>{j.node_count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <span className="muted">Page {cursors.length}</span>
        <button type="button" disabled={!next} onClick={() => next && setCursors((c) => [...c, next])}>
          Next page
        </button>
      </nav>
    </>
  );
}
