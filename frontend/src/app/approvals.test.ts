// Tests of approval display: reading approval frames (absent, malformed), a request's kind,
// level, approvers, approvals and timeouts in words, relative times and deadlines, decisions
// (a person's and a timeout's default), why the key may not decide, an `after` request's held
// result clipped, the approver's JSON input, and a 422's field message.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { approval } from '../test/fixtures';
import {
  approversText,
  clippedJson,
  currentLevel,
  deadlineText,
  decidedNotice,
  decisionText,
  durationText,
  fieldProblem,
  heldResult,
  isApprovalEvent,
  kindText,
  levelText,
  parseInput,
  progressText,
  readApprovalFrame,
  relativeTime,
  stateText,
  timeoutText,
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
    expect(kindText('during')).toBe('during');
    expect(stateText('approved')).toBe('approved');
    expect(stateText('cancelled')).toBe('cancelled (withdrawn: its node was cancelled)');
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

  it('says why the key may not decide a request, and nothing when it may', () => {
    expect(waitingText(approval())).toBeNull();
    expect(waitingText(approval({ may_decide: false, level: 2, levels: [approval().levels[0], RELEASE] }))).toBe(
      'Waiting for group:release or alice (level 2, job owners): this key is not one of them.',
    );
    expect(waitingText(approval({ state: 'rejected', may_decide: false }))).toBe('No longer waiting: rejected.');
  });

  it('announces the outcome of the key’s decision', () => {
    expect(decidedNotice({ state: 'approved', node_name: 'deploy' }, 'approve')).toBe('You approved deploy.');
    expect(decidedNotice({ state: 'rejected', node_name: 'deploy' }, 'reject')).toBe('You rejected deploy.');
    expect(decidedNotice({ state: 'pending', node_name: 'deploy' }, 'approve')).toBe('Your approval of deploy is counted; it waits for more.');
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
  });
});
