// Tests of approval display: reading approval frames (absent, malformed), a request's kind,
// level, approvers, approvals and timeouts in words (an escalation's too), relative times and
// deadlines, decisions (a person's and a timeout's default; an escalation's six verdicts),
// why the key may not decide or may only stop it, an `after` request's held result clipped,
// an escalation's failure, the approver's JSON input, a `retry_with`'s terms, and a 422's
// field message.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { approval, escalation, planApproval } from '../test/fixtures';
import {
  approversText,
  clippedJson,
  clippedText,
  currentLevel,
  deadlineText,
  decidedNotice,
  decisionText,
  durationText,
  escalationOf,
  fieldProblem,
  heldResult,
  isApprovalEvent,
  kindQuestion,
  kindText,
  letsGoOn,
  levelText,
  NO_TERMS,
  onlyStopText,
  parseInput,
  parseTerms,
  planApprovalOf,
  planSummary,
  progressText,
  readApprovalFrame,
  readRetryTerms,
  relativeTime,
  stateText,
  termsText,
  timeoutText,
  verdictText,
  waitingText,
} from './approvals';

const NOW = Date.parse('2026-11-21T19:21:41.000Z');
const RELEASE = { owner: 'job owners', approvers: ['group:release', 'alice'], required: 2, timeout_s: 3600, on_timeout: 'escalate' };

describe('approval frames', () => {
  it('knows the three approval kinds and no other', () => {
    for (const t of ['approval_requested', 'approval_escalated', 'approval_decided']) expect(isApprovalEvent(t)).toBe(true);
    expect(isApprovalEvent('node_completed')).toBe(false);
  });

  it('reads what a frame says of its node, and nothing of a frame without one', () => {
    expect(readApprovalFrame('approval_requested', { approval_id: 'a1', node_id: 'n1', kind: 'after' })).toEqual({
      what: 'requested',
      approvalId: 'a1',
      nodeId: 'n1',
      kind: 'after',
      state: null,
    });
    expect(readApprovalFrame('approval_escalated', { node_id: 'n1' })).toMatchObject({ what: 'requested', kind: 'before', approvalId: null });
    expect(readApprovalFrame('approval_decided', { approval_id: 'a1', node_id: 'n1', kind: 'before', state: 'approved' })).toMatchObject({ what: 'decided', state: 'approved' });
    expect(readApprovalFrame('approval_decided', { approval_id: 'a1', state: 'approved' })).toBeNull();
    expect(readApprovalFrame('node_completed', { node_id: 'n1' })).toBeNull();
  });
});

describe('approval requests in words', () => {
  it('names the kind and state, and the level it waits at', () => {
    expect(kindText('before')).toBe('before start');
    expect(kindText('after')).toBe('accept result');
    expect(kindText('escalation')).toBe('escalation');
    expect(kindText('plan')).toBe('a model’s plan');
    expect(kindText('during')).toBe('during');
    expect(kindQuestion('plan')).toBe('Approve the plan before any of it runs');
    expect(kindQuestion('before')).toBe('Approve before it starts');
    expect(kindQuestion('escalation')).toBe('Failed — needs a decision: retry, retry with other terms, skip or fail');
    expect(stateText('approved')).toBe('approved');
    expect(stateText('cancelled')).toBe('cancelled (withdrawn: its node was cancelled)');
    expect(stateText('approved', 'escalation')).toBe('decided: it goes on');
    expect(stateText('rejected', 'escalation')).toBe('decided: the failure stands');
    expect(stateText('cancelled', 'escalation')).toBe('cancelled (withdrawn: its node was cancelled)');
    const a = approval({ level: 2, levels: [approval().levels[0], RELEASE] });
    expect(currentLevel(a)?.owner).toBe('job owners');
    expect(currentLevel(approval({ level: 3 }))).toBeNull();
  });

  it('lists approvers, approvals against those required, and what a timeout does', () => {
    expect(approversText(['scope:admin'])).toBe('scope:admin');
    expect(approversText(['alice', 'bob', 'group:release'])).toBe('alice, bob or group:release');
    expect(approversText([])).toBe('no one');
    expect(progressText(approval())).toBe('0 of 1 approval');
    expect(progressText(approval({ levels: [RELEASE], approvals_at_level: 1 }))).toBe('1 of 2 approvals');
    expect(timeoutText(RELEASE)).toBe('waits 1 h, then the next level is asked');
    expect(timeoutText({ timeout_s: 90, on_timeout: 'approve' })).toBe('waits 2 min, then it counts as approved');
    expect(timeoutText({ timeout_s: null, on_timeout: 'reject' })).toBe('no time limit');
    expect(levelText(RELEASE)).toBe('job owners: group:release or alice — 2 required, waits 1 h, then the next level is asked');
    // What a timeout's default does to an escalation.
    expect(timeoutText({ timeout_s: 60, on_timeout: 'approve' }, 'escalation')).toBe('waits 1 min, then the node is retried');
    expect(timeoutText({ timeout_s: 60, on_timeout: 'reject' }, 'escalation')).toBe('waits 1 min, then the failure stands');
    expect(levelText(RELEASE, 'escalation')).toBe('job owners: group:release or alice — 2 required, waits 1 h, then the next level is asked');
  });

  it('puts times relative to now, and a passed deadline as due', () => {
    expect(durationText(45_000)).toBe('45 s');
    expect(durationText(12 * 60_000)).toBe('12 min');
    expect(durationText(125 * 60_000)).toBe('2 h 5 min');
    expect(durationText(2 * 3_600_000)).toBe('2 h');
    expect(durationText(76 * 3_600_000)).toBe('3 d 4 h');
    expect(relativeTime('2026-11-21T19:26:41.000Z', NOW)).toBe('in 5 min');
    expect(relativeTime('2026-11-21T19:18:41.000Z', NOW)).toBe('3 min ago');
    expect(relativeTime('2026-11-21T19:21:43.000Z', NOW)).toBe('just now');
    expect(relativeTime('whenever', NOW)).toBe('whenever');
    expect(deadlineText(null, NOW)).toBe('none');
    expect(deadlineText('2026-11-21T20:21:41.000Z', NOW)).toBe('in 1 h');
    expect(deadlineText('2026-11-21T19:20:41.000Z', NOW)).toBe('due now');
  });

  it('says who decided, or that the timeout’s default did', () => {
    expect(decisionText({ decision: 'approve', by: 'alice', level: 1 })).toBe('approved by alice at level 1');
    expect(decisionText({ decision: 'reject', by: null, level: 2 })).toBe('rejected by timeout default at level 2');
  });

  it('names an escalation’s verdicts, a retry_with with its terms when known', () => {
    expect(decisionText({ decision: 'retry', by: 'bob', level: 1 })).toBe('retried by bob at level 1');
    expect(decisionText({ decision: 'retry_with', by: 'bob', level: 1 }, { memory_mb: 256 })).toBe('retried with memory 256 MiB by bob at level 1');
    expect(decisionText({ decision: 'retry_with', by: 'bob', level: 1 })).toBe('retried with other terms by bob at level 1');
    expect(decisionText({ decision: 'skip', by: 'bob', level: 1 })).toBe('skipped by bob at level 1');
    expect(decisionText({ decision: 'fail', by: null, level: 2 })).toBe('failed by timeout default at level 2');
    expect(verdictText('retry_with', {})).toBe('retried with other terms');
    expect(verdictText('postpone')).toBe('postpone');
    expect(['approve', 'retry', 'retry_with', 'skip'].every(letsGoOn)).toBe(true);
    expect(['reject', 'fail'].some(letsGoOn)).toBe(false);
  });

  it('says why the key may not decide a request, and nothing when it may', () => {
    expect(waitingText(approval())).toBeNull();
    expect(waitingText(approval({ may_decide: false, level: 2, levels: [approval().levels[0], RELEASE] }))).toBe(
      'Waiting for group:release or alice (level 2, job owners): this key is not one of them.',
    );
    expect(waitingText(approval({ state: 'rejected', may_decide: false }))).toBe('No longer waiting: rejected.');
    expect(waitingText(escalation({ state: 'approved', may_decide: false }))).toBe('No longer waiting: decided: it goes on.');
  });

  it('says why the key may only stop a request, and nothing when it may let it go on or not decide it', () => {
    expect(onlyStopText(approval({ may_approve: false }))).toBe('You submitted this job; another approver must approve it.');
    expect(onlyStopText(escalation({ may_approve: false }))).toBe('This key may only let the failure stand; another approver may retry or skip it.');
    expect(onlyStopText(approval())).toBeNull();
    expect(onlyStopText(approval({ may_decide: false, may_approve: false }))).toBeNull();
    expect(onlyStopText(approval({ state: 'rejected', may_approve: false }))).toBeNull();
  });

  it('announces the outcome of the key’s decision', () => {
    expect(decidedNotice({ state: 'approved', node_name: 'deploy' }, 'approve')).toBe('You approved deploy.');
    expect(decidedNotice({ state: 'rejected', node_name: 'deploy' }, 'reject')).toBe('You rejected deploy.');
    expect(decidedNotice({ state: 'pending', node_name: 'deploy' }, 'approve')).toBe('Your approval of deploy is counted; it waits for more.');
    expect(decidedNotice({ state: 'pending', node_name: 'broken' }, 'retry')).toBe('Your decision on broken is counted; it waits for more.');
    expect(decidedNotice({ state: 'approved', node_name: 'broken' }, 'retry')).toBe('You retried broken.');
    expect(decidedNotice({ state: 'approved', node_name: 'broken', input: { memory_mb: 256, timeout_s: 30 } }, 'retry_with')).toBe(
      'You retried broken with memory 256 MiB, timeout 30 s.',
    );
    expect(decidedNotice({ state: 'approved', node_name: 'broken', input: null }, 'retry_with')).toBe('You retried broken with other terms.');
    expect(decidedNotice({ state: 'approved', node_name: 'broken', input: { by: 'hand' } }, 'skip')).toBe('You skipped broken: it counts as succeeded.');
    expect(decidedNotice({ state: 'rejected', node_name: 'broken' }, 'fail')).toBe('You let broken fail.');
    expect(decidedNotice({ state: 'approved', node_name: 'app', kind: 'plan' }, 'approve')).toBe('You approved app’s plan: its children start.');
    expect(decidedNotice({ state: 'rejected', node_name: 'app', kind: 'plan' }, 'reject')).toBe('You rejected app’s plan: its children are cancelled.');
    expect(decidedNotice({ state: 'pending', node_name: 'app', kind: 'plan' }, 'approve')).toBe('Your approval of app’s plan is counted; it waits for more.');
  });
});

describe('what an approver sees and gives', () => {
  it('finds the result an after request holds, and none for a before one', () => {
    expect(heldResult(approval({ kind: 'after', context: { result: { pages: 3 }, attempts: 1 } }))).toEqual({ pages: 3 });
    expect(heldResult(approval({ kind: 'after', context: { result: null, attempts: 1 } }))).toBeNull();
    expect(heldResult(approval({ kind: 'after', context: {} }))).toBeUndefined();
    expect(heldResult(approval({ kind: 'before', context: { result: 1 } }))).toBeUndefined();
    expect(heldResult(approval({ kind: 'after', context: null }))).toBeUndefined();
  });

  it('reads the failure an escalation shows, tolerating what is missing, and none for another kind', () => {
    expect(escalationOf(escalation())).toEqual({ error: 'boom', class: 'process', attempts: 1 });
    expect(escalationOf(escalation({ context: {} }))).toEqual({ error: null, class: null, attempts: null });
    expect(escalationOf(escalation({ context: { error: 'x', attempts: 'two', class: 7 } }))).toEqual({ error: 'x', class: null, attempts: null });
    expect(escalationOf(escalation({ context: null }))).toEqual({ error: null, class: null, attempts: null });
    expect(escalationOf(approval({ context: { error: 'x' } }))).toBeNull();
  });

  it('reads the plan a plan approval holds, tolerating what is missing, and none for another kind', () => {
    const held = planApprovalOf(planApproval());
    expect(held?.plan?.project_name).toBe('Chirp');
    expect(held?.plan?.components?.map((c) => `${c.type}:${c.name}`)).toEqual(['database:Posts store', 'backend:API']);
    expect(held?.plan?.success_criteria).toEqual(['A post can be created', 'Posts list newest first']);
    expect(held?.assignments.map((g) => [g.manager, g.agents.map((a) => a.agent)])).toEqual([
      ['database', ['table_creation']],
      ['backend', ['api_endpoints']],
    ]);
    expect(held?.children).toEqual(['database', 'backend']);
    expect(planApprovalOf(planApproval({ context: { plan: null, assignments: null, children: ['w', 3] } }))).toEqual({ plan: null, assignments: [], children: ['w'] });
    expect(planApprovalOf(planApproval({ context: null }))).toEqual({ plan: null, assignments: [], children: [] });
    // Flat assignments (no room for managers): one group without one.
    expect(planApprovalOf(planApproval({ context: { assignments: [{ agent: 'w1' }], children: ['w1'] } }))?.assignments).toEqual([
      { manager: null, title: null, agents: [{ agent: 'w1', title: undefined, tasks: [] }] },
    ]);
    expect(planApprovalOf(approval())).toBeNull();
  });

  it('sums a plan approval up in a line', () => {
    expect(planSummary(planApproval())).toBe('project Chirp, 2 components; places database, backend');
    expect(planSummary(planApproval({ context: { plan: { components: [{ name: 'x' }] }, children: [] } }))).toBe('1 component; places no children');
    expect(planSummary(planApproval({ context: { children: ['a', 'b', 'c'] } }), 2)).toBe('places a, b and 1 more');
    expect(planSummary(escalation())).toBeNull();
  });

  it('clips a long error and says how much it left out', () => {
    expect(clippedText('short')).toBe('short');
    expect(clippedText('e'.repeat(30), 10)).toBe(`${'e'.repeat(10)}… (20 more characters)`);
  });

  it('reads a retry_with’s stored terms and puts them in words', () => {
    expect(readRetryTerms({ memory_mb: 256, cpu_seconds: 'lots', provider: 'local', model: 'small', extra: 1 })).toEqual({ memory_mb: 256, provider: 'local', model: 'small' });
    expect(readRetryTerms({ by: 'hand' })).toBeNull();
    expect(readRetryTerms([1])).toBeNull();
    expect(readRetryTerms(null)).toBeNull();
    expect(termsText({ memory_mb: 2048, cpu_seconds: 30, timeout_s: 60, provider: 'local', model: 'small' })).toBe(
      'memory 2,048 MiB, CPU 30 s, timeout 60 s, provider local, model small',
    );
    expect(termsText({})).toBe('');
  });

  it('takes a retry_with’s terms as typed: whole limits of at least 1, a model only with its provider, at least one', () => {
    expect(parseTerms({ ...NO_TERMS, memory_mb: ' 256 ' })).toEqual({ ok: true, value: { memory_mb: 256 } });
    expect(parseTerms({ memory_mb: '', cpu_seconds: '30', timeout_s: '60', provider: ' local ', model: 'small' })).toEqual({
      ok: true,
      value: { cpu_seconds: 30, timeout_s: 60, provider: 'local', model: 'small' },
    });
    expect(parseTerms(NO_TERMS)).toEqual({ ok: false, message: 'Give at least one: memory, CPU seconds, a timeout, or a provider.' });
    expect(parseTerms({ ...NO_TERMS, memory_mb: '0' })).toEqual({ ok: false, message: 'Memory (MiB) must be a whole number of at least 1.' });
    expect(parseTerms({ ...NO_TERMS, timeout_s: '1.5' })).toEqual({ ok: false, message: 'Timeout (seconds) must be a whole number of at least 1.' });
    expect(parseTerms({ ...NO_TERMS, cpu_seconds: '-3' })).toEqual({ ok: false, message: 'CPU (seconds) must be a whole number of at least 1.' });
    expect(parseTerms({ ...NO_TERMS, model: 'small' })).toEqual({ ok: false, message: 'A model needs its provider.' });
  });

  it('clips a long result and says how much it left out', () => {
    expect(clippedJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    const long = clippedJson('x'.repeat(30), 10);
    expect(long).toBe(`"${'x'.repeat(9)}\n… (22 more characters)`);
  });

  it('reads the input as JSON, blank as none, and says what is wrong with the rest', () => {
    expect(parseInput('  ')).toEqual({ ok: true, value: undefined });
    expect(parseInput('{"replicas": 3}')).toEqual({ ok: true, value: { replicas: 3 } });
    expect(parseInput('0')).toEqual({ ok: true, value: 0 });
    const bad = parseInput('{replicas: 3}');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message.startsWith('Not JSON: ')).toBe(true);
  });

  it('finds the field message of a 422 for the input, and none for other refusals', () => {
    const problem = { type: 't', title: 'Unprocessable Entity', status: 422, detail: 'invalid', errors: [{ path: 'input', message: 'the input does not follow the input_schema: 0 is less than 1' }] };
    expect(fieldProblem(new ApiError(422, problem, 'invalid'), 'input')).toBe('the input does not follow the input_schema: 0 is less than 1');
    expect(fieldProblem(new ApiError(422, { ...problem, errors: [{ path: 'comment', message: 'too long' }] }, 'x'), 'input')).toBeNull();
    expect(fieldProblem(new ApiError(403, null, 'forbidden'), 'input')).toBeNull();
    expect(fieldProblem(new Error('offline'), 'input')).toBeNull();
    const wrongKind = { ...problem, errors: [{ path: 'decision', message: 'an escalation is decided with retry, retry_with, skip or fail' }] };
    expect(fieldProblem(new ApiError(422, wrongKind, 'invalid'), 'decision')).toBe('an escalation is decided with retry, retry_with, skip or fail');
  });
});
