// Tests of the REST client: bearer key, problem bodies, 401 callback, 429 Retry-After, the
// label filter's translation, answering a paused job, reading a job's Markdown report, and
// listing and deciding approval requests, and a node's workspace diff.
import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, labelParam } from './client';
import { RateGate } from './rateGate';
import { instantGate, jsonResponse } from '../test/services';

const KEY = 'sk-orch-test-key-0123456789abcdefghij';

describe('ApiClient', () => {
  it('sends the key and parses the answer', async () => {
    const fetchImpl = vi.fn(async () => jsonResponse(200, { jobs: [], next_cursor: null }));
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate() });
    await api.listJobs({ status: 'running', label: 'team=a', limit: 5 });
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/recursion/jobs?status=running&label=team%3Aa&limit=5');
    expect((init.headers as Record<string, string>).Authorization).toBe(`Bearer ${KEY}`);
  });

  it('turns a problem into an ApiError and reports 401s', async () => {
    const onUnauthorized = vi.fn();
    const fetchImpl = vi.fn(async () =>
      jsonResponse(401, { type: 'urn:cadre:problem:unauthorized', title: 'Unauthorized', status: 401, detail: 'a valid API key is required' }),
    );
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate(), onUnauthorized });
    const err = await api.stats().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).problem?.detail).toBe('a valid API key is required');
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('waits Retry-After seconds after a 429, then retries', async () => {
    let now = 0;
    const slept: number[] = [];
    const gate = new RateGate(1000, 1000, () => now, async (ms) => {
      slept.push(ms);
      now += ms;
    });
    const answers = [
      jsonResponse(429, { type: 't', title: 'Too Many Requests', status: 429, detail: 'slow down' }, { 'Retry-After': '2' }),
      jsonResponse(200, { ok: true }),
    ];
    const fetchImpl = vi.fn(async () => answers.shift() as Response);
    const api = new ApiClient({ key: KEY, fetchImpl, gate });
    await expect(api.request('GET', '/recursion/stats')).resolves.toEqual({ ok: true });
    expect(fetchImpl).toHaveBeenCalledTimes(2);
    expect(slept).toEqual([2000]);
  });

  it('paces requests under the server limit', async () => {
    let now = 0;
    const gate = new RateGate(8, 2, () => now, async (ms) => {
      now += ms;
    });
    for (let i = 0; i < 10; i += 1) await gate.take();
    expect(now).toBe(1000);
  });

  it('accepts key=value or key:value label filters', () => {
    expect(labelParam('example=hello')).toBe('example:hello');
    expect(labelParam('example:hello')).toBe('example:hello');
    expect(labelParam('  ')).toBeUndefined();
  });

  it('posts the answer to a paused job, and turns a 409 into an ApiError', async () => {
    const summary = { job_id: 'j1', status: 'running', request: 'r', labels: {}, node_count: 1, created_at: 'now' };
    const answers = [
      jsonResponse(202, summary),
      jsonResponse(409, { type: 'urn:cadre:problem:conflict', title: 'Conflict', status: 409, detail: 'the job is not waiting for an answer' }),
    ];
    const fetchImpl = vi.fn(async () => answers.shift() as Response);
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate() });
    await expect(api.answerJob('j1', 'Lyon')).resolves.toEqual(summary);
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/recursion/job/j1/answer');
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({ answer: 'Lyon' });
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    const err = await api.answerJob('j1', 'again').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).problem?.detail).toBe('the job is not waiting for an answer');
  });

  it('reads the report as text, asking for Markdown, and its problems as ApiErrors', async () => {
    const answers = [
      new Response('# Chirp\n\n**Status:** succeeded\n', { status: 200, headers: { 'content-type': 'text/markdown; charset=utf-8' } }),
      jsonResponse(404, { type: 'urn:cadre:problem:not-found', title: 'Not Found', status: 404, detail: 'job j2' }),
    ];
    const fetchImpl = vi.fn(async () => answers.shift() as Response);
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate() });
    await expect(api.jobReport('j1')).resolves.toBe('# Chirp\n\n**Status:** succeeded\n');
    const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/recursion/job/j1/report');
    const headers = init.headers as Record<string, string>;
    expect(headers.Accept).toContain('text/markdown');
    expect(headers.Authorization).toBe(`Bearer ${KEY}`);
    const err = await api.jobReport('j2').catch((e: unknown) => e);
    expect((err as ApiError).status).toBe(404);
  });

  it('lists approvals with their filters (mine=false kept) and posts a decision', async () => {
    const problem = { type: 'urn:cadre:problem:validation', title: 'Unprocessable Entity', status: 422, detail: 'the input does not follow the schema', errors: [{ path: 'input', message: 'replicas: 0 is less than 1' }] };
    const answers = [jsonResponse(200, { approvals: [], next_cursor: null }), jsonResponse(200, { approvals: [], next_cursor: null }), jsonResponse(422, problem)];
    const fetchImpl = vi.fn(async () => answers.shift() as Response);
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate() });
    await api.listApprovals({ state: 'pending' });
    await api.listApprovals({ jobId: 'j1', mine: false, limit: 50, cursor: '17' });
    const urls = fetchImpl.mock.calls.map((c) => (c as unknown as [string])[0]);
    expect(urls).toEqual(['/api/v1/approvals?state=pending', '/api/v1/approvals?job_id=j1&mine=false&limit=50&cursor=17']);
    const err = await api.decideApproval('a 1', { decision: 'approve', comment: 'ok', input: { replicas: 0 } }).catch((e: unknown) => e);
    const [url, init] = fetchImpl.mock.calls[2] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/approvals/a%201/decision');
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({ decision: 'approve', comment: 'ok', input: { replicas: 0 } });
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).problem?.errors?.[0]).toEqual({ path: 'input', message: 'replicas: 0 is less than 1' });
  });

  it('lists alerts with their filters (open=false kept) and resumes a held job, a 409 as an ApiError', async () => {
    const notHeld = { type: 'urn:cadre:problem:conflict', title: 'Conflict', status: 409, detail: 'the job is not held' };
    const summary = { job_id: 'j1', status: 'running', request: 'r', labels: {}, node_count: 3, created_at: '2026-11-21T19:21:41.892Z' };
    const answers = [jsonResponse(200, { alerts: [], next_cursor: null }), jsonResponse(200, { alerts: [], next_cursor: null }), jsonResponse(202, summary), jsonResponse(409, notHeld)];
    const fetchImpl = vi.fn(async () => answers.shift() as Response);
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate() });
    await api.listAlerts({ open: true, limit: 100 });
    await api.listAlerts({ jobId: 'j1', rule: 'failure_rate', open: false, limit: 50, cursor: '17' });
    await expect(api.resumeJob('j 1')).resolves.toEqual(summary);
    const err = await api.resumeJob('j 1').catch((e: unknown) => e);
    const calls = fetchImpl.mock.calls.map((c) => c as unknown as [string, RequestInit]);
    expect(calls.map(([url]) => url)).toEqual([
      '/api/v1/alerts?open=true&limit=100',
      '/api/v1/alerts?job_id=j1&rule=failure_rate&open=false&limit=50&cursor=17',
      '/api/v1/recursion/job/j%201/resume',
      '/api/v1/recursion/job/j%201/resume',
    ]);
    expect(calls[2][1].method).toBe('POST');
    expect(calls[2][1].body).toBeUndefined();
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).problem?.detail).toBe('the job is not held');
  });

  it('reads a node’s workspace diff, and its 404 (no branch yet) as an ApiError with the detail', async () => {
    const diff = { job_id: 'j1', node_id: 'n1', branch: 'cadre/j1/w-0a1b2c3d', parent_branch: 'cadre/j1/job', base: 'a', head: 'b', files: [{ path: 'x', status: 'M' }], diff: '' };
    const none = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'node n1 has no branch yet' };
    const answers = [jsonResponse(200, diff), jsonResponse(404, none)];
    const fetchImpl = vi.fn(async () => answers.shift() as Response);
    const api = new ApiClient({ key: KEY, fetchImpl, gate: instantGate() });
    await expect(api.nodeDiff('j1', 'n 1')).resolves.toEqual(diff);
    const err = await api.nodeDiff('j1', 'n1').catch((e: unknown) => e);
    const calls = fetchImpl.mock.calls.map((c) => c as unknown as [string, RequestInit]);
    expect(calls.map(([url, init]) => `${init.method} ${url}`)).toEqual(['GET /api/v1/recursion/job/j1/nodes/n%201/diff', 'GET /api/v1/recursion/job/j1/nodes/n1/diff']);
    expect((err as ApiError).status).toBe(404);
    expect((err as ApiError).problem?.detail).toBe('node n1 has no branch yet');
  });
});
