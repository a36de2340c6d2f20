// Tests of alert display: reading alert frames (fired, resolved, malformed), a list changed
// by them at once (a fired alert joins the lists its filter covers once, a resolved one is
// marked or leaves a list of open ones), the rules and what they saw in words, and the hold
// a failure-rate alert puts on its job.
import { describe, expect, it } from 'vitest';
import { alert, frame, JOB, straggler } from '../test/fixtures';
import { alertDetail, applyAlertFrame, heldOf, heldText, holdsJob, isAlertEvent, percentText, readAlertFrame, resolvedByText, ruleText } from './alerts';

const FIRED = frame('alert', { alert_id: 'al-1', rule: 'failure_rate', job_id: JOB, node_id: null, message: alert().message, data: alert().data }, { ts: '2026-11-21T19:21:41.000Z' });
const RESOLVED = frame('alert_resolved', { alert_id: 'al-1', rule: 'failure_rate', job_id: JOB, resolved_by: 'e2e' }, { ts: '2026-11-21T19:22:41.000Z' });

describe('alert frames', () => {
  it('knows the two alert kinds and no other', () => {
    expect(isAlertEvent('alert')).toBe(true);
    expect(isAlertEvent('alert_resolved')).toBe(true);
    expect(isAlertEvent('approval_requested')).toBe(false);
  });

  it('reads a fired alert whole, a resolved one with what its frame says, and nothing of another frame', () => {
    expect(readAlertFrame(FIRED)).toEqual({ ...alert(), created_at: '2026-11-21T19:21:41.000Z' });
    expect(readAlertFrame(RESOLVED)).toMatchObject({ id: 'al-1', open: false, resolved_by: 'e2e', resolved_at: '2026-11-21T19:22:41.000Z', message: '', data: null });
    // The server's own (a busy quota): no job.
    expect(readAlertFrame(frame('alert', { alert_id: 'q', rule: 'quota_busy', job_id: null, message: 'm', data: [] }, { job_id: null }))).toMatchObject({ job_id: null, data: null });
    expect(readAlertFrame(frame('alert', { rule: 'straggler' }))).toBeNull();
    expect(readAlertFrame(frame('node_completed', { alert_id: 'x' }))).toBeNull();
  });

  it('adds a fired alert to the lists it belongs to, once, and marks or drops a resolved one', () => {
    const fired = applyAlertFrame([], FIRED, { open: true });
    expect(fired.map((a) => a.id)).toEqual(['al-1']);
    expect(applyAlertFrame(fired, FIRED, { open: true })).toBe(fired);
    expect(applyAlertFrame([], FIRED, { open: false })).toEqual([]);
    expect(applyAlertFrame([], FIRED, { jobId: 'another-job' })).toEqual([]);
    expect(applyAlertFrame([], FIRED, { rule: 'straggler' })).toEqual([]);
    expect(applyAlertFrame(fired, RESOLVED, { open: true })).toEqual([]);
    expect(applyAlertFrame(fired, RESOLVED, {})).toEqual([{ ...fired[0], open: false, resolved_at: '2026-11-21T19:22:41.000Z', resolved_by: 'e2e' }]);
    // A resolved alert the list does not hold waits for the list to be read again.
    const others = [straggler()];
    expect(applyAlertFrame(others, RESOLVED, { open: false })).toBe(others);
    expect(applyAlertFrame(others, frame('job_completed', {}), {})).toBe(others);
  });
});

describe('alerts in words', () => {
  it('names the rules, and an unknown one as it is', () => {
    expect(ruleText('failure_rate')).toBe('Failure rate too high');
    expect(ruleText('straggler')).toBe('Straggler');
    expect(ruleText('quota_busy')).toBe('Quota busy');
    expect(ruleText('budget')).toBe('Budget running low');
    expect(ruleText('silence')).toBe('silence');
  });

  it('says what each rule saw, tolerating what is missing', () => {
    expect(percentText(0.2)).toBe('20 %');
    expect(percentText(1)).toBe('100 %');
    expect(percentText('x')).toBe('?');
    expect(alertDetail(alert())).toBe('5 of 5 finished workers failed (100 % > 20 %); new starts held until someone resumes the job');
    expect(alertDetail(alert({ open: false }))).toBe('5 of 5 finished workers failed (100 % > 20 %); new starts were held');
    expect(alertDetail(alert({ data: { finished: 10, failed: 3, rate: 0.3, threshold: 0.2, held: false } }))).toBe('3 of 10 finished workers failed (30 % > 20 %)');
    expect(alertDetail(straggler())).toBe('ran 12 s against its siblings’ median of 4 s (more than 2 ×)');
    expect(alertDetail(straggler({ data: { elapsed_ms: 900, median_ms: 300, factor: 2.5 } }))).toBe('ran 900 ms against its siblings’ median of 300 ms (more than 2.5 ×)');
    expect(alertDetail(alert({ rule: 'quota_busy', job_id: null, data: { depth: 3, in_use: 3, quota: 3, percent: 100, for_s: 300 } }))).toBe(
      'depth 3: 3 of 3 slots in use (100 %) for 5 min',
    );
    expect(alertDetail(alert({ rule: 'budget', data: { node: 'lead', percent: 85 } }))).toBe('lead: 85 % of its budget used');
    expect(alertDetail(alert({ rule: 'budget', data: {} }))).toBe('? % of its budget used');
    expect(alertDetail(alert({ rule: 'budget', data: { name: 'agent', node_id: 'n1', percent: 90 } }))).toBe('agent: 90 % of its budget used');
    expect(ruleText('silent_worker')).toBe('Silent worker');
    expect(alertDetail(alert({ rule: 'silent_worker', data: { silent_ms: 120000, limit_s: 60 } }))).toMatch(/^no output and no call back for .+ \(the limit is 60 s\)$/);
    expect(alertDetail(alert({ data: null }))).toBeNull();
    expect(alertDetail(alert({ rule: 'silence' }))).toBeNull();
  });

  it('says who resolved it, or that it passed on its own', () => {
    expect(resolvedByText({ resolved_by: 'alice' })).toBe('by alice');
    expect(resolvedByText({ resolved_by: null })).toBe('on its own (its condition passed)');
  });
});

describe('a job held by its failure rate', () => {
  it('is held by an open failure-rate alert that says so, and by no other', () => {
    expect(holdsJob(alert())).toBe(true);
    expect(holdsJob(alert({ open: false }))).toBe(false);
    expect(holdsJob(alert({ data: { held: false } }))).toBe(false);
    expect(holdsJob(straggler({ data: { held: true } }))).toBe(false);
    expect(holdsJob(alert({ job_id: null }))).toBe(false);
  });

  it('finds the hold among a job’s alerts and puts it in a sentence', () => {
    const held = heldOf([straggler(), alert()]);
    expect(held).toEqual({ alertId: 'al-1', jobId: JOB, finished: 5, failed: 5, rate: 1, threshold: 0.2 });
    expect(held && heldText(held)).toBe('New starts are held: 5 of 5 finished nodes failed (100 % > 20 %).');
    expect(heldOf([straggler()])).toBeNull();
    expect(heldText({ alertId: 'a', jobId: JOB, finished: null, failed: null, rate: null, threshold: null })).toBe('New starts are held: ? of ? finished nodes failed (? > ?).');
  });
});
