// Tests of the workspace helpers (issue 17): reading the three workspace frames (lenient to
// missing fields), which frames make a node's diff stale, a merge failure in words, git status
// letters, the kind of each diff line (file headers are not added or removed lines), cutting a
// huge diff, and the job's workspace line.
import { describe, expect, it } from 'vitest';
import { frame } from '../test/fixtures';
import {
  concernsDiff,
  diffLineKind,
  diffLines,
  fileStatusText,
  isWorkspaceEvent,
  mergeFailureText,
  readWorkspaceFrame,
  shortSha,
  workspaceText,
} from './workspace';

const failure = { node_id: 'n', name: 'n', branch: 'b', into: 'cadre/j/job', outcome: 'conflict', files: ['a.txt', 'b.txt'], exit_code: null, output_tail: '' };

describe('workspace frames', () => {
  it('knows the three kinds', () => {
    expect(['workspace_created', 'workspace_merged', 'workspace_merge_failed'].every(isWorkspaceEvent)).toBe(true);
    expect(isWorkspaceEvent('message_sent')).toBe(false);
  });

  it('reads each kind, and none without a node', () => {
    expect(readWorkspaceFrame(frame('workspace_created', { node_id: 'n', name: 'w', branch: 'b', parent_branch: 'p', path: '/w' }))).toEqual({
      kind: 'created',
      data: { node_id: 'n', name: 'w', branch: 'b', parent_branch: 'p', path: '/w' },
    });
    expect(readWorkspaceFrame(frame('workspace_merged', { node_id: 'n', name: 'w', branch: 'b', into: 'p', sha: 'abc' }))?.data).toEqual({
      node_id: 'n',
      name: 'w',
      branch: 'b',
      into: 'p',
      sha: 'abc',
    });
    const failed = readWorkspaceFrame(frame('workspace_merge_failed', { node_id: 'n', into: 'p', outcome: 'check_failed', files: ['x', 3], exit_code: 2 }));
    expect(failed).toEqual({
      kind: 'merge_failed',
      data: { node_id: 'n', name: 'n', branch: '', into: 'p', outcome: 'check_failed', files: ['x'], exit_code: 2, output_tail: '' },
    });
    expect(readWorkspaceFrame(frame('workspace_merged', { into: 'p' }))).toBeNull();
    expect(readWorkspaceFrame(frame('node_completed', { node_id: 'n' }))).toBeNull();
  });

  it('makes a node’s diff stale: its own workspace frames and end, a merge into its branch; not another node’s', () => {
    expect(concernsDiff(frame('workspace_created', { node_id: 'n' }), 'n', null)).toBe(true);
    expect(concernsDiff(frame('node_completed', { node_id: 'n', status: 'succeeded' }), 'n', null)).toBe(true);
    expect(concernsDiff(frame('workspace_merged', { node_id: 'child', into: 'cadre/j/n-1' }), 'n', 'cadre/j/n-1')).toBe(true);
    expect(concernsDiff(frame('workspace_merged', { node_id: 'child', into: 'cadre/j/n-1' }), 'n', null)).toBe(false);
    expect(concernsDiff(frame('workspace_merge_failed', { node_id: 'child', into: 'cadre/j/n-1' }), 'n', 'cadre/j/n-1')).toBe(false);
    expect(concernsDiff(frame('node_completed', { node_id: 'other' }), 'n', 'cadre/j/n-1')).toBe(false);
    expect(concernsDiff(frame('worker_started', { worker_id: 'n', node_id: 'n' }), 'n', null)).toBe(false);
  });
});

describe('workspace wording', () => {
  it('says why a merge was not kept', () => {
    expect(mergeFailureText(failure)).toBe('conflict in a.txt, b.txt');
    expect(mergeFailureText({ ...failure, files: [] })).toBe('conflict');
    expect(mergeFailureText({ ...failure, outcome: 'check_failed', exit_code: 1 })).toBe('the check exited 1');
    expect(mergeFailureText({ ...failure, outcome: 'check_failed' })).toBe('the check did not exit (killed or timed out)');
    expect(mergeFailureText({ ...failure, outcome: 'something_new' })).toBe('something_new');
  });

  it('names git status letters and shortens shas', () => {
    expect(['A', 'M', 'D', 'R100', 'X'].map(fileStatusText)).toEqual(['added', 'modified', 'deleted', 'renamed', 'X']);
    expect(shortSha('0123456789abcdef')).toBe('0123456');
  });

  it('writes the job’s workspace on one line, the check only when there is one', () => {
    const ws = { repo: '/srv/r', base: 'main', merge: 'none', check: null, job_branch: 'cadre/ab/job' };
    expect(workspaceText(ws)).toBe('Workspace: /srv/r · base main · merge none · job branch cadre/ab/job');
    expect(workspaceText({ ...ws, check: ['cargo', 'test'] })).toBe('Workspace: /srv/r · base main · merge none · job branch cadre/ab/job · check cargo test');
  });
});

describe('diff lines', () => {
  it('classes each line, file headers before added and removed lines', () => {
    const kinds = ['diff --git a/x b/x', 'new file mode 100644', '--- /dev/null', '+++ b/x', '@@ -0,0 +1 @@', '+added', '-removed', ' same', '', '\\ No newline at end of file'].map(diffLineKind);
    expect(kinds).toEqual(['meta', 'meta', 'meta', 'meta', 'hunk', 'add', 'del', 'context', 'context', 'meta']);
  });

  it('splits a diff into lines (no empty last one), cutting a huge one', () => {
    expect(diffLines('')).toEqual({ lines: [], more: 0 });
    expect(diffLines('a\nb\n')).toEqual({ lines: ['a', 'b'], more: 0 });
    expect(diffLines('a\nb\nc\nd', 2)).toEqual({ lines: ['a', 'b'], more: 2 });
  });
});
