// Tests of hash parsing.
import { describe, expect, it } from 'vitest';
import { parseHash } from './route';

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
});
