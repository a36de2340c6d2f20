// Hierarchy view: the live tree of every active job (`GET /recursion/hierarchy`), or of one
// job (`?job_id=`), updated in place from the stream; new jobs and unknown nodes trigger a
// debounced refetch.
import { useCallback, useId, useState, type FormEvent } from 'react';
import { navigate } from '../app/route';
import { useServices } from '../app/services';
import type { EventFrame } from '../live/events';
import { TreeModel } from '../tree/model';
import { TreeView } from '../tree/TreeView';
import { useLiveTree } from '../tree/useLiveTree';

const acceptsAll = (frame: EventFrame) => frame.job_id !== null;
const isNewJob = (frame: EventFrame) => frame.type === 'job_submitted';

export function Hierarchy({ jobId }: { jobId?: string }) {
  const { api } = useServices();
  const jobFieldId = useId();
  const [jobDraft, setJobDraft] = useState(jobId ?? '');
  const load = useCallback(async () => TreeModel.fromHierarchy(await api.hierarchy(jobId)), [api, jobId]);
  const accepts = useCallback((frame: EventFrame) => (jobId ? frame.job_id === jobId : acceptsAll(frame)), [jobId]);
  const needsReload = useCallback((frame: EventFrame) => !jobId && isNewJob(frame), [jobId]);
  const { model, error, loading, refresh } = useLiveTree({ load, accepts, needsReload });
  const [selected, setSelected] = useState<string | null>(null);
  const showJob = (e: FormEvent) => {
    e.preventDefault();
    const id = jobDraft.trim();
    navigate(id ? `/?job=${encodeURIComponent(id)}` : '/');
  };
  const selectedNode = selected ? model?.get(selected) : undefined;

  return (
    <>
      <div className="title-row">
        <h1 tabIndex={-1}>Hierarchy</h1>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <form className="filters" onSubmit={showJob}>
        <div className="field">
          <label htmlFor={jobFieldId}>Job id (empty: every active job)</label>
          <input id={jobFieldId} value={jobDraft} onChange={(e) => setJobDraft(e.target.value)} autoComplete="off" />
        </div>
        <button type="submit">Show</button>
        {jobId && <a href="#/">All active jobs</a>}
      </form>
      <p className="muted">
        {jobId ? 'One job, live.' : 'Active jobs, live.'} Colour marks the depth; ✓ succeeded, ✗ failed, ● running, ○ pending, ⊘ cancelled, ↻
        retrying, ⚑ awaiting approval. Arrow keys move, Enter expands or collapses.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {loading && !model && <p>Loading…</p>}
      {model && model.size === 0 && jobId && <p>That job has no nodes to show.</p>}
      {model && model.size === 0 && !jobId && (
        <p>
          No active jobs right now. See the <a href="#/jobs">jobs list</a> or <a href="#/submit">submit one</a>.
        </p>
      )}
      {selectedNode && (
        <p className="selection">
          Selected: {selectedNode.role} {selectedNode.name} —{' '}
          <a href={`#/jobs/${encodeURIComponent(selectedNode.jobId)}`}>open its job</a>
        </p>
      )}
      {model && model.size > 0 && (
        <TreeView model={model} label={jobId ? `Job ${jobId}` : 'Active jobs'} selectedId={selected} onSelect={setSelected} />
      )}
    </>
  );
}
