// Tests of a job's git workspace in the dashboard (issue 17): the node panel's Workspace section
// (the branch, its parent's, the files changed with their status letters, the diff's lines
// coloured by class; a node with no branch yet (404) said plainly, another error's detail;
// read again after the frames that concern the node, not after another node's; a merge kept
// or failed), and the job page (its workspace line; a merge_failed frame streamed shown as an
// alert in the node's panel, even when it came while another node was selected), and axe.
import { act, screen, waitFor, within } from '@testing-library/react';
import axe from 'axe-core';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { NodeDiff, NodeView, WorkspaceView } from '../api/types';
import type { WorkspaceEvent } from '../app/workspace';
import { TreeModel } from '../tree/model';
import { JobDetail } from '../views/JobDetail';
import { NodePanel } from './NodePanel';
import { frame, JOB, node } from '../test/fixtures';
import { renderWithServices, type Handler } from '../test/services';

const WS: WorkspaceView = { repo: '/srv/repo', base: 'main', merge: 'up', check: ['make', 'test'], job_branch: 'cadre/0123abcd/job' };
const DIFF_ROUTE = (nodeId: string) => `/api/v1/recursion/job/${JOB}/nodes/${nodeId}/diff`;
const A1_BRANCH = 'cadre/0123abcd/a1-1a2b3c4d';
const A_BRANCH = 'cadre/0123abcd/a-9f8e7d6c';

const DIFF: NodeDiff = {
  job_id: JOB,
  node_id: 'a1',
  branch: A1_BRANCH,
  parent_branch: A_BRANCH,
  base: '1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  head: '2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  files: [
    { path: 'notes.txt', status: 'M' },
    { path: 'new.txt', status: 'A' },
  ],
  diff: [
    'diff --git a/notes.txt b/notes.txt',
    'index 3b18e51..a042389 100644',
    '--- a/notes.txt',
    '+++ b/notes.txt',
    '@@ -1,2 +1,2 @@',
    ' keep',
    '-old line',
    '+new line',
    '',
  ].join('\n'),
};

const NO_BRANCH = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'node a1 has no branch yet: it has not run in the workspace' };

/** root → a (a1 running, a2 running) */
function tree(): NodeView {
  return node('root', 0, [node('a', 1, [node('a1', 2, [], 'running'), node('a2', 2, [], 'running')], 'running')], 'running');
}

const failed: WorkspaceEvent = {
  kind: 'merge_failed',
  data: { node_id: 'a1', name: 'a1', branch: A1_BRANCH, into: A_BRANCH, outcome: 'conflict', files: ['a.txt', 'b.txt'], exit_code: null, output_tail: 'CONFLICT (content): Merge conflict in a.txt' },
};

function show(diff: Handler, opts: { workspace?: WorkspaceView | null; latest?: WorkspaceEvent | null } = {}) {
  const diffs: string[] = [];
  const model = TreeModel.fromJobTree(JOB, tree());
  const utils = renderWithServices(
    // In a landmark, as the page shows it (axe wants all content in one).
    <main>
      <NodePanel
        model={model}
        jobId={JOB}
        nodeId="a1"
        loadResult={vi.fn(async () => null)}
        onCancelSubtree={() => undefined}
        workspace={opts.workspace === undefined ? WS : opts.workspace}
        workspaceEvent={opts.latest ?? null}
      />
    </main>,
    (method, url, body) => {
      if (url.endsWith('/diff')) {
        diffs.push(url);
        return diff(method, url, body);
      }
      if (url.includes('/messages')) return { status: 200, body: { messages: [] } };
      return { status: 404, body: { type: 'x', title: 'Not Found', status: 404, detail: url } };
    },
  );
  return { ...utils, reads: () => diffs.length, diffs };
}

const section = () => screen.findByRole('region', { name: 'Workspace' });

describe('Workspace section', () => {
  it('shows the branch, its parent, the files changed and the diff with its lines classed for colour', async () => {
    const { diffs } = show(() => ({ status: 200, body: DIFF }));
    const ws = await section();
    await waitFor(() => expect(within(ws).getByTestId('workspace-branch').textContent).toBe(A1_BRANCH));
    expect(diffs).toEqual([DIFF_ROUTE('a1')]);
    expect(within(ws).getByTestId('workspace-parent-branch').textContent).toBe(A_BRANCH);
    expect(within(ws).getByTestId('workspace-file-count').textContent).toBe('2');
    expect(ws.textContent).toContain('1111111 → 2222222');
    const files = within(within(ws).getByRole('list', { name: 'Changed files' })).getAllByRole('listitem');
    expect(files.map((li) => li.textContent)).toEqual(['M notes.txt', 'A new.txt']);
    expect(within(files[0]).getByTitle('modified')).toBeTruthy();
    const pre = within(ws).getByRole('region', { name: `Diff of ${A1_BRANCH}` });
    expect(pre.tagName).toBe('PRE');
    expect(pre.textContent).toBe(DIFF.diff);
    const classed = (kind: string) => Array.from(pre.querySelectorAll(`.diff-${kind}`)).map((s) => s.textContent?.trimEnd());
    expect(classed('add')).toEqual(['+new line']);
    expect(classed('del')).toEqual(['-old line']);
    expect(classed('hunk')).toEqual(['@@ -1,2 +1,2 @@']);
    expect(classed('meta')).toEqual(['diff --git a/notes.txt b/notes.txt', 'index 3b18e51..a042389 100644', '--- a/notes.txt', '+++ b/notes.txt']);
  });

  it('says plainly that a node with no branch yet (404) has not run in the workspace', async () => {
    show(() => ({ status: 404, body: NO_BRANCH }));
    const ws = await section();
    expect(await within(ws).findByText('No branch yet — this node has not run in the workspace.')).toBeTruthy();
    expect(ws.querySelector('.error')).toBeNull();
    expect(within(ws).queryByRole('alert')).toBeNull();
  });

  it('shows another error’s problem detail', async () => {
    show(() => ({ status: 500, body: { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'git diff failed: bad object' } }));
    const ws = await section();
    await waitFor(() => expect(ws.querySelector('.error')?.textContent).toBe('git diff failed: bad object'));
  });

  it('is absent, and the diff never read, when the job has no workspace', async () => {
    const { reads } = show(() => ({ status: 200, body: DIFF }), { workspace: null });
    await screen.findByRole('heading', { name: 'tech_lead a1' });
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByRole('region', { name: 'Workspace' })).toBeNull();
    expect(reads()).toBe(0);
  });

  it('is read again, once per burst, after frames for the node (or a merge into its branch), not for another node', async () => {
    let answer: unknown = { status: 404, body: NO_BRANCH };
    const { bus, reads } = show(() => answer as { status: number; body: unknown });
    const ws = await section();
    await within(ws).findByText(/No branch yet/);
    expect(reads()).toBe(1);
    act(() => {
      bus.emit(frame('workspace_created', { node_id: 'a2', name: 'a2', branch: 'cadre/0123abcd/a2-00000000', parent_branch: A_BRANCH, path: '/w/a2' }));
      bus.emit(frame('node_completed', { node_id: 'a2', status: 'succeeded' }));
      bus.emit(frame('workspace_merged', { node_id: 'a2', name: 'a2', branch: 'cadre/0123abcd/a2-00000000', into: A_BRANCH, sha: 'abc' }));
      bus.emit(frame('workspace_created', { node_id: 'a1', name: 'a1', branch: A1_BRANCH, parent_branch: A_BRANCH, path: '/w/a1' }, { job_id: 'another-job' }));
      bus.emit(frame('worker_started', { worker_id: 'a1', attempt: 1 }));
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(reads()).toBe(1);
    answer = { status: 200, body: DIFF };
    act(() => {
      bus.emit(frame('workspace_created', { node_id: 'a1', name: 'a1', branch: A1_BRANCH, parent_branch: A_BRANCH, path: '/w/a1' }));
      bus.emit(frame('node_completed', { node_id: 'a1', status: 'succeeded' }));
    });
    // Generous waits: the re-read is throttled, and a loaded machine runs timers late.
    await waitFor(() => expect(within(ws).getByTestId('workspace-branch').textContent).toBe(A1_BRANCH), { timeout: 8000 });
    expect(reads()).toBe(2);
    // With its branch known, a child's merge into it moves it too.
    act(() => bus.emit(frame('workspace_merged', { node_id: 'child', name: 'child', branch: 'cadre/0123abcd/child-0', into: A1_BRANCH, sha: 'def' })));
    await waitFor(() => expect(reads()).toBe(3), { timeout: 8000 });
  }, 30_000);

  it('shows a failed merge as an alert (conflicting files, output tail), a failed check’s exit code, and a kept merge’s sha', async () => {
    const conflict = show(() => ({ status: 200, body: DIFF }), { latest: failed });
    const alertBox = await screen.findByRole('alert');
    expect(alertBox.querySelector('.workspace-merge-text')?.textContent).toBe(`Merge into ${A_BRANCH} failed: conflict in a.txt, b.txt`);
    expect(within(alertBox).getByRole('region', { name: 'Merge output' }).textContent).toBe('CONFLICT (content): Merge conflict in a.txt');
    conflict.unmount();

    const check: WorkspaceEvent = { kind: 'merge_failed', data: { ...failed.data, outcome: 'check_failed', files: [], exit_code: 2, output_tail: 'FAIL: test_notes' } };
    const checked = show(() => ({ status: 200, body: DIFF }), { latest: check });
    const checkBox = await screen.findByRole('alert');
    expect(checkBox.querySelector('.workspace-merge-text')?.textContent).toBe(`Merge into ${A_BRANCH} failed: the check exited 2`);
    expect(within(checkBox).getByRole('region', { name: 'Check output' }).textContent).toBe('FAIL: test_notes');
    checked.unmount();

    const merged: WorkspaceEvent = { kind: 'merged', data: { node_id: 'a1', name: 'a1', branch: A1_BRANCH, into: A_BRANCH, sha: '9abcdef0123456789' } };
    show(() => ({ status: 200, body: DIFF }), { latest: merged });
    expect((await screen.findByTestId('workspace-merged')).textContent).toBe(`Merged into ${A_BRANCH} at 9abcdef`);
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

function jobView(workspace: WorkspaceView | null) {
  return {
    job_id: JOB,
    status: 'running',
    request: 'edit the notes',
    labels: {},
    created_at: '2026-11-21T19:21:41.892Z',
    started_at: '2026-11-21T19:21:41.892Z',
    finished_at: null,
    counts: { by_status: { running: 4 }, by_depth: { '0': 1, '1': 1, '2': 2 } },
    result: null,
    error: null,
    tree: tree(),
    workspace,
  };
}

/** The job page, a1's panel open; the page's other reads answered empty. */
function showJob(workspace: WorkspaceView | null, nodeId = 'a1') {
  return renderWithServices(<JobDetail id={JOB} node={nodeId} />, (method, url) => {
    if (url.startsWith('/api/v1/approvals?')) return { status: 200, body: { approvals: [], next_cursor: null } };
    if (url.startsWith('/api/v1/alerts?')) return { status: 200, body: { alerts: [], next_cursor: null } };
    if (url.includes('/messages')) return { status: 200, body: { messages: [] } };
    if (url.endsWith('/diff')) return { status: 200, body: { ...DIFF, node_id: url.includes('/a2/') ? 'a2' : 'a1' } };
    if (method === 'GET' && url.startsWith(`/api/v1/recursion/job/${JOB}?`)) return { status: 200, body: jobView(workspace) };
    return { status: 404, body: { type: 'x', title: 'Not Found', status: 404, detail: url } };
  });
}

describe('a job’s workspace on its page', () => {
  it('shows the workspace line, and a merge_failed frame of the node as an alert in its panel, also when it came while another was selected', async () => {
    const user = userEvent.setup();
    const { bus } = showJob(WS, 'a2');
    expect((await screen.findByTestId('job-workspace')).textContent).toBe(
      'Workspace: /srv/repo · base main · merge up · job branch cadre/0123abcd/job · check make test',
    );
    await screen.findByRole('heading', { name: 'tech_lead a2' });
    act(() => {
      bus.emit(frame('workspace_merge_failed', { ...failed.data }));
      // Another job's, and an older replayed one of a1, change nothing.
      bus.emit(frame('workspace_merged', { node_id: 'a1', name: 'a1', branch: A1_BRANCH, into: A_BRANCH, sha: 'abc' }, { job_id: 'another-job' }));
      bus.emit(frame('workspace_created', { node_id: 'a1', name: 'a1', branch: A1_BRANCH, parent_branch: A_BRANCH, path: '/w/a1' }, { seq: 1 }));
    });
    expect(screen.queryByRole('alert')).toBeNull();
    await user.click(document.querySelector<HTMLElement>('[data-node-id="a1"]') as HTMLElement);
    await screen.findByRole('heading', { name: 'tech_lead a1' });
    const alertBox = await screen.findByRole('alert');
    expect(alertBox.textContent).toContain(`Merge into ${A_BRANCH} failed: conflict in a.txt, b.txt`);
    // A later attempt's worktree: the failure is no longer the latest word.
    act(() => bus.emit(frame('workspace_created', { node_id: 'a1', name: 'a1', branch: A1_BRANCH, parent_branch: A_BRANCH, path: '/w/a1' })));
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull());
  });

  it('shows neither line nor section for a job without a workspace', async () => {
    showJob(null);
    await screen.findByRole('heading', { name: 'tech_lead a1' });
    expect(screen.queryByTestId('job-workspace')).toBeNull();
    expect(screen.queryByRole('region', { name: 'Workspace' })).toBeNull();
  });
});

/** axe over a jsdom page takes seconds on a busy machine. */
const AXE_TIMEOUT_MS = 30_000;

describe('Workspace accessibility', () => {
  it(
    'passes axe with a diff and a failed merge',
    async () => {
      show(() => ({ status: 200, body: DIFF }), { latest: failed });
      const ws = await section();
      await within(ws).findByRole('region', { name: `Diff of ${A1_BRANCH}` });
      // jsdom has no layout: contrast is left to the browser runs.
      const report = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
      expect(report.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    },
    AXE_TIMEOUT_MS,
  );
});
