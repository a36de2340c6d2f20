// Submit view: paste or upload a job (JSON or YAML), validate it (errors at their paths,
// the estimate), and run it, landing on the new job's live page.
import { useId, useState, type ChangeEvent } from 'react';
import { ApiError, describeError } from '../api/client';
import type { FieldError, ValidationReport } from '../api/types';
import { navigate } from '../app/route';
import { useServices } from '../app/services';
import { EXAMPLES } from '../submit/examples';
import { describeParseError, parseSpec } from '../submit/parse';

/** Visible lines of the specification textarea. */
const SPEC_ROWS = 18;

function ErrorList({ title, errors }: { title: string; errors: FieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul className="field-errors">
        {errors.map((e, i) => (
          <li key={`${e.path}-${i}`}>
            <code>{e.path || '(body)'}</code>: {e.message}
          </li>
        ))}
      </ul>
    </>
  );
}

export function Submit() {
  const { api } = useServices();
  const textId = useId();
  const fileId = useId();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const [report, setReport] = useState<ValidationReport | null>(null);

  const reset = () => {
    setProblem(null);
    setFieldErrors([]);
    setReport(null);
  };

  const parsed = (): unknown => {
    const r = parseSpec(text);
    if (!r.ok) {
      setProblem(describeParseError(r));
      return undefined;
    }
    return r.value;
  };

  const validate = async () => {
    reset();
    const spec = parsed();
    if (spec === undefined) return;
    setBusy(true);
    try {
      setReport(await api.validate(spec));
    } catch (err) {
      setProblem(describeError(err));
      if (err instanceof ApiError) setFieldErrors(err.problem?.errors ?? []);
    } finally {
      setBusy(false);
    }
  };

  const run = async () => {
    reset();
    const spec = parsed();
    if (spec === undefined) return;
    setBusy(true);
    try {
      const created = await api.submit(spec);
      navigate(`/jobs/${encodeURIComponent(created.job_id)}`);
    } catch (err) {
      setProblem(describeError(err));
      if (err instanceof ApiError) setFieldErrors(err.problem?.errors ?? []);
      setBusy(false);
    }
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    reset();
    setText(await file.text());
  };

  return (
    <>
      <h1 tabIndex={-1}>Submit a job</h1>
      <div className="examples" role="group" aria-label="Examples">
        <span className="muted">Examples:</span>
        {EXAMPLES.map((ex) => (
          <button
            type="button"
            key={ex.label}
            onClick={() => {
              reset();
              setText(ex.text);
            }}
          >
            {ex.label}
          </button>
        ))}
      </div>
      <div className="field">
        <label htmlFor={textId}>Job specification (JSON or YAML)</label>
        <textarea
          id={textId}
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={SPEC_ROWS}
          spellCheck={false}
          className="spec"
        />
      </div>
      <div className="field">
        <label htmlFor={fileId}>Or upload a .json, .yaml or .yml file</label>
        <input id={fileId} type="file" accept=".json,.yaml,.yml,application/json,application/yaml" onChange={onFile} />
      </div>
      <div className="actions">
        <button type="button" onClick={validate} disabled={busy}>
          Validate
        </button>
        <button type="button" className="primary" onClick={run} disabled={busy}>
          Run
        </button>
      </div>
      <section aria-live="polite" className="submit-output">
        {problem && (
          <div role="alert" className="error">
            <p>{problem}</p>
            <ErrorList title="Errors" errors={fieldErrors} />
          </div>
        )}
        {report && (
          <div className="report" data-valid={report.valid}>
            <h2>{report.valid ? '✓ Valid' : `✗ Invalid: ${report.errors.length} error${report.errors.length === 1 ? '' : 's'}`}</h2>
            <ErrorList title="Errors" errors={report.errors} />
            <ErrorList title="Warnings" errors={report.warnings} />
            <h3>Estimate</h3>
            <dl className="estimate">
              <dt>Nodes</dt>
              <dd data-testid="estimate-nodes">{report.estimate.nodes}</dd>
              <dt>Leaves</dt>
              <dd>{report.estimate.leaves}</dd>
              <dt>Max depth</dt>
              <dd>{report.estimate.max_depth}</dd>
              <dt>Workers by depth</dt>
              <dd>
                {Object.entries(report.estimate.workers_by_depth)
                  .map(([d, n]) => `depth ${d}: ${n}`)
                  .join(', ') || 'none'}
              </dd>
            </dl>
          </div>
        )}
      </section>
    </>
  );
}
