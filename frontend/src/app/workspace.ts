// Workspaces (issue 17) for display: the stream frames about a job's git branches (a worktree
// made for an attempt, a branch merged into its parent's, a merge that was not kept), which of
// them make a node's diff stale, what a merge came to in words, a file's git status letter in
// words, and how a unified diff's lines are coloured.
import type { WorkspaceCreatedData, WorkspaceMergedData, WorkspaceMergeFailedData, WorkspaceView } from '../api/types';
import { num, str, type EventFrame } from '../live/events';

export const WORKSPACE_CREATED = 'workspace_created';
export const WORKSPACE_MERGED = 'workspace_merged';
export const WORKSPACE_MERGE_FAILED = 'workspace_merge_failed';
const WORKSPACE_EVENTS: ReadonlySet<string> = new Set([WORKSPACE_CREATED, WORKSPACE_MERGED, WORKSPACE_MERGE_FAILED]);
/** A node's own end: its last attempt's commits are on its branch by then. */
const NODE_COMPLETED = 'node_completed';

/** How many characters of a commit's sha are shown. */
export const SHORT_SHA = 7;
/** Past this many lines a diff is cut: a huge one (a lockfile, generated code) would stall the panel. */
export const DIFF_LINES_SHOWN = 4000;

/** A workspace frame, read: its kind and its data. */
export type WorkspaceEvent =
  | { kind: 'created'; data: WorkspaceCreatedData }
  | { kind: 'merged'; data: WorkspaceMergedData }
  | { kind: 'merge_failed'; data: WorkspaceMergeFailedData };

export function isWorkspaceEvent(type: string): boolean {
  return WORKSPACE_EVENTS.has(type);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A workspace frame's kind and data, or null for another frame (or one that names no node). */
export function readWorkspaceFrame(frame: EventFrame): WorkspaceEvent | null {
  const d = frame.data;
  const nodeId = str(d, 'node_id');
  if (!isWorkspaceEvent(frame.type) || !nodeId) return null;
  const common = { node_id: nodeId, name: str(d, 'name') ?? nodeId, branch: str(d, 'branch') ?? '' };
  const into = str(d, 'into') ?? '';
  switch (frame.type) {
    case WORKSPACE_CREATED:
      return { kind: 'created', data: { ...common, parent_branch: str(d, 'parent_branch') ?? '', path: str(d, 'path') ?? '' } };
    case WORKSPACE_MERGED:
      return { kind: 'merged', data: { ...common, into, sha: str(d, 'sha') ?? '' } };
    default:
      return {
        kind: 'merge_failed',
        data: {
          ...common,
          into,
          outcome: str(d, 'outcome') ?? 'conflict',
          files: strings(d.files),
          exit_code: num(d, 'exit_code'),
          output_tail: str(d, 'output_tail') ?? '',
        },
      };
  }
}

/**
 * Whether a frame may change a node's diff: a workspace frame or `node_completed` of the node
 * itself, or a merge into its branch (a child's work landing on it: `branch`, when known).
 */
export function concernsDiff(frame: EventFrame, nodeId: string, branch: string | null): boolean {
  if (frame.type !== NODE_COMPLETED && !isWorkspaceEvent(frame.type)) return false;
  if (str(frame.data, 'node_id') === nodeId) return true;
  return branch !== null && branch !== '' && frame.type === WORKSPACE_MERGED && str(frame.data, 'into') === branch;
}

export function shortSha(sha: string): string {
  return sha.slice(0, SHORT_SHA);
}

/** Why a merge was not kept, in words: `conflict in a.txt, b.txt`, `the check exited 2`. */
export function mergeFailureText(data: WorkspaceMergeFailedData): string {
  if (data.outcome === 'check_failed') {
    return data.exit_code === null ? 'the check did not exit (killed or timed out)' : `the check exited ${data.exit_code}`;
  }
  if (data.outcome === 'conflict') return data.files.length > 0 ? `conflict in ${data.files.join(', ')}` : 'conflict';
  return data.outcome;
}

const FILE_STATUSES: Record<string, string> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type changed',
  U: 'unmerged',
};

/** A git status letter in words (`R100` is a rename: only its letter counts); an unknown one as sent. */
export function fileStatusText(status: string): string {
  return FILE_STATUSES[status.charAt(0)] ?? status;
}

export type DiffLineKind = 'add' | 'del' | 'hunk' | 'meta' | 'context';

/**
 * What a unified diff line is: `+`/`-` an added/removed line, `@@` a hunk's header, and the
 * file headers (`diff --git`, `index`, `---`, `+++`, …) meta — checked before `+`/`-`, as
 * `+++ b/x` is no added line.
 */
export function diffLineKind(line: string): DiffLineKind {
  if (line.startsWith('+++ ') || line.startsWith('--- ')) return 'meta';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith(' ') || line === '') return 'context';
  return 'meta';
}

/** A diff's lines (the trailing newline adds none), at most `max`, and how many more were cut. */
export function diffLines(diff: string, max = DIFF_LINES_SHOWN): { lines: string[]; more: number } {
  if (diff === '') return { lines: [], more: 0 };
  const all = diff.endsWith('\n') ? diff.slice(0, -1).split('\n') : diff.split('\n');
  return all.length > max ? { lines: all.slice(0, max), more: all.length - max } : { lines: all, more: 0 };
}

/** The job's workspace on one line: `Workspace: /srv/repo · base main · merge up · job branch cadre/…/job`. */
export function workspaceText(ws: WorkspaceView): string {
  const check = ws.check && ws.check.length > 0 ? ` · check ${ws.check.join(' ')}` : '';
  return `Workspace: ${ws.repo} · base ${ws.base} · merge ${ws.merge} · job branch ${ws.job_branch}${check}`;
}
