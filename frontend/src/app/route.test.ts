// Tests of hash parsing.
import { describe, expect, it } from 'vitest';
import { jobHash, pageKey, parseHash } from './route';

describe('parseHash', () => {
  it('maps every route', () => {
    expect(parseHash('')).toEqual({ name: 'hierarchy' });
    expect(parseHash('#/')).toEqual({ name: 'hierarchy' });
    expect(parseHash('#/?job=abc')).toEqual({ name: 'hierarchy', jobId: 'abc' });
    expect(parseHash('#/jobs')).toEqual({ name: 'jobs' });
    expect(parseHash('#/jobs/01a1-ff')).toEqual({ name: 'job', id: '01a1-ff' });
    expect(parseHash('#/submit')).toEqual({ name: 'submit' });
    expect(parseHash('#/resources')).toEqual({ name: 'resources' });
    expect(parseHash('#/nope')).toEqual({ name: 'notfound', path: '/nope' });
  });

  it("reads a job page's view, ignoring unknown ones", () => {
    expect(parseHash('#/jobs/j1?view=overview')).toStrictEqual({ name: 'job', id: 'j1', view: 'overview' });
    expect(parseHash('#/jobs/j1?view=timeline')).toStrictEqual({ name: 'job', id: 'j1', view: 'timeline' });
    expect(parseHash('#/jobs/j1?view=tree')).toStrictEqual({ name: 'job', id: 'j1' });
    expect(parseHash('#/jobs/j1?view=pie')).toStrictEqual({ name: 'job', id: 'j1' });
  });

  it('writes job hashes that parse back, and keys a job page without its view', () => {
    for (const view of ['tree', 'overview', 'timeline'] as const) {
      const route = parseHash(`#${jobHash('a b', view)}`);
      expect(route).toMatchObject({ name: 'job', id: 'a b' });
      expect(pageKey(route)).toBe('job:a b');
    }
    expect(jobHash('j1')).toBe('/jobs/j1');
    expect(pageKey(parseHash('#/jobs'))).not.toBe(pageKey(parseHash('#/submit')));
  });
});
