// Tests of hash parsing.
import { describe, expect, it } from 'vitest';
import { alertsHash, approvalsHash, jobHash, nodeHash, orgHash, pageKey, parseHash } from './route';

describe('parseHash', () => {
  it('maps every route', () => {
    expect(parseHash('')).toEqual({ name: 'hierarchy' });
    expect(parseHash('#/')).toEqual({ name: 'hierarchy' });
    expect(parseHash('#/?job=abc')).toEqual({ name: 'hierarchy', jobId: 'abc' });
    expect(parseHash('#/jobs')).toEqual({ name: 'jobs' });
    expect(parseHash('#/jobs/01a1-ff')).toEqual({ name: 'job', id: '01a1-ff' });
    expect(parseHash('#/submit')).toEqual({ name: 'submit' });
    expect(parseHash('#/resources')).toEqual({ name: 'resources' });
    expect(parseHash('#/approvals')).toEqual({ name: 'approvals' });
    expect(parseHash('#/alerts')).toEqual({ name: 'alerts' });
    expect(parseHash('#/org')).toEqual({ name: 'org' });
    expect(parseHash('#/nope')).toEqual({ name: 'notfound', path: '/nope' });
  });

  it("reads a job page's view, ignoring unknown ones", () => {
    expect(parseHash('#/jobs/j1?view=overview')).toStrictEqual({ name: 'job', id: 'j1', view: 'overview' });
    expect(parseHash('#/jobs/j1?view=timeline')).toStrictEqual({ name: 'job', id: 'j1', view: 'timeline' });
    expect(parseHash('#/jobs/j1?view=dead-letters')).toStrictEqual({ name: 'job', id: 'j1', view: 'dead-letters' });
    expect(parseHash('#/jobs/j1?view=tree')).toStrictEqual({ name: 'job', id: 'j1' });
    expect(parseHash('#/jobs/j1?view=pie')).toStrictEqual({ name: 'job', id: 'j1' });
  });

  it('writes job hashes that parse back, and keys a job page without its view', () => {
    for (const view of ['tree', 'overview', 'timeline', 'dead-letters'] as const) {
      const route = parseHash(`#${jobHash('a b', view)}`);
      expect(route).toMatchObject({ name: 'job', id: 'a b' });
      expect(pageKey(route)).toBe('job:a b');
    }
    expect(jobHash('j1')).toBe('/jobs/j1');
    expect(pageKey(parseHash('#/jobs'))).not.toBe(pageKey(parseHash('#/submit')));
  });

  it("reads the approvals inbox's list, and a job page's node", () => {
    expect(parseHash('#/approvals?show=decided')).toStrictEqual({ name: 'approvals', show: 'decided' });
    expect(parseHash('#/approvals?show=pending')).toStrictEqual({ name: 'approvals', show: 'pending' });
    expect(parseHash('#/approvals?show=mine')).toStrictEqual({ name: 'approvals' });
    expect(parseHash('#/approvals?show=nope')).toStrictEqual({ name: 'approvals' });
    for (const show of ['mine', 'pending', 'decided'] as const) expect(parseHash(`#${approvalsHash(show)}`)).toMatchObject({ name: 'approvals' });
    expect(approvalsHash()).toBe('/approvals');
    expect(approvalsHash('decided')).toBe('/approvals?show=decided');
    expect(pageKey(parseHash('#/approvals?show=decided'))).toBe(pageKey(parseHash('#/approvals')));
    const route = parseHash(`#${nodeHash('j 1', 'n/2')}`);
    expect(route).toStrictEqual({ name: 'job', id: 'j 1', node: 'n/2' });
    expect(pageKey(route)).toBe('job:j 1');
    expect(parseHash('#/jobs/j1?view=timeline&node=n1')).toStrictEqual({ name: 'job', id: 'j1', view: 'timeline', node: 'n1' });
  });

  it("reads the alerts view's list, one page whichever it shows", () => {
    expect(parseHash('#/alerts?show=resolved')).toStrictEqual({ name: 'alerts', show: 'resolved' });
    expect(parseHash('#/alerts?show=open')).toStrictEqual({ name: 'alerts' });
    expect(parseHash('#/alerts?show=nope')).toStrictEqual({ name: 'alerts' });
    for (const show of ['open', 'resolved'] as const) expect(parseHash(`#${alertsHash(show)}`)).toMatchObject({ name: 'alerts' });
    expect(alertsHash()).toBe('/alerts');
    expect(alertsHash('resolved')).toBe('/alerts?show=resolved');
    expect(pageKey(parseHash('#/alerts?show=resolved'))).toBe(pageKey(parseHash('#/alerts')));
    expect(pageKey(parseHash('#/alerts'))).not.toBe(pageKey(parseHash('#/approvals')));
  });

  it('reads the organisation chart’s selected agent, which is no new page', () => {
    expect(parseHash('#/org?agent=dev-a')).toStrictEqual({ name: 'org', agent: 'dev-a' });
    expect(parseHash(`#${orgHash('eng lead')}`)).toStrictEqual({ name: 'org', agent: 'eng lead' });
    expect(orgHash()).toBe('/org');
    expect(orgHash('dev-a')).toBe('/org?agent=dev-a');
    expect(pageKey(parseHash('#/org?agent=dev-a'))).toBe(pageKey(parseHash('#/org')));
  });
});
