// The node panel's Workspace section (issue 17), for a job that declares a git workspace: what
// the last workspace frame of the node says of its merge (a failed one prominently, as an
// alert: the conflicting files or the check's exit code, and the output's tail), then its
// branch and its parent's, the files it changed with git's status letters, and the diff
// (`GET …/nodes/{node}/diff`, read again after the frames that move the branch). A node with
// no branch yet (a 404) says so plainly: that is no error.
import { useId } from 'react';
import type { NodeDiff, WorkspaceMergeFailedData } from '../api/types';
import { useNodeDiff } from '../app/useNodeDiff';
import { fileStatusText, mergeFailureText, shortSha, type WorkspaceEvent } from '../app/workspace';
import { DiffView } from './DiffView';

export interface WorkspaceSectionProps {
  jobId: string;
  nodeId: string;
  /** The node's latest workspace frame seen while the job was watched (null: none). */
  latest: WorkspaceEvent | null;
}

function MergeFailed({ data }: { data: WorkspaceMergeFailedData }) {
  return (
    <div role="alert" className="workspace-merge-failed" data-testid="workspace-merge-failed">
      <p className="workspace-merge-text">
        Merge into <code>{data.into}</code> failed: {mergeFailureText(data)}
      </p>
      {data.output_tail && (
        <pre className="log" role="region" aria-label={data.outcome === 'check_failed' ? 'Check output' : 'Merge output'} tabIndex={0}>
          {data.output_tail}
        </pre>
      )}
    </div>
  );
}

/** What the node's last merge came to; nothing before one (a worktree made says nothing of it). */
function MergeOutcome({ latest }: { latest: WorkspaceEvent | null }) {
  if (latest?.kind === 'merge_failed') return <MergeFailed data={latest.data} />;
  if (latest?.kind !== 'merged') return null;
  return (
    <p className="workspace-merged" data-testid="workspace-merged">
      Merged into <code>{latest.data.into}</code> at <code title={latest.data.sha}>{shortSha(latest.data.sha)}</code>
    </p>
  );
}

function BranchDiff({ diff }: { diff: NodeDiff }) {
  const files = diff.files ?? [];
  return (
    <>
      <dl className="facts">
        <dt>Branch</dt>
        <dd>
          <code data-testid="workspace-branch">{diff.branch}</code>
        </dd>
        <dt>Parent branch</dt>
        <dd>
          <code data-testid="workspace-parent-branch">{diff.parent_branch}</code>
        </dd>
        <dt>Commits</dt>
        <dd>
          <code title={diff.base}>{shortSha(diff.base)}</code> → <code title={diff.head}>{shortSha(diff.head)}</code>
        </dd>
        <dt>Files changed</dt>
        <dd data-testid="workspace-file-count">{files.length}</dd>
      </dl>
      {files.length > 0 && (
        <ul className="workspace-files" aria-label="Changed files">
          {files.map((f) => (
            <li key={f.path} data-testid="workspace-file">
              <abbr className="file-status" title={fileStatusText(f.status)}>
                {f.status}
              </abbr>{' '}
              <code>{f.path}</code>
            </li>
          ))}
        </ul>
      )}
      <DiffView diff={diff.diff ?? ''} label={`Diff of ${diff.branch}`} />
    </>
  );
}

export function WorkspaceSection({ jobId, nodeId, latest }: WorkspaceSectionProps) {
  const headingId = useId();
  const shown = useNodeDiff(jobId, nodeId);
  return (
    <section className="workspace" aria-labelledby={headingId} data-testid="node-workspace">
      <h3 id={headingId}>Workspace</h3>
      <MergeOutcome latest={latest} />
      {shown.state === 'loading' && <p>Loading…</p>}
      {shown.state === 'none' && <p className="muted">No branch yet — this node has not run in the workspace.</p>}
      {shown.state === 'error' && <p className="error">{shown.message}</p>}
      {shown.state === 'done' && <BranchDiff diff={shown.diff} />}
    </section>
  );
}
