// Tests of the workforce's words: load and success rate on a card, durations, what a card
// reads out, an executor in a line, which frames change the chart, and a node's delegation
// read from a job view and moved on by a `delegation` frame.
import { describe, expect, it } from 'vitest';
import { orgNode } from '../test/agents';
import {
  delegationFromFrame,
  delegationStateText,
  executorText,
  formatLoad,
  formatMs,
  formatSuccessRate,
  isOrgEvent,
  loadShare,
  orgCardLabel,
  readDelegation,
} from './agents';

describe('load and success rate', () => {
  it('formats the load and its share of the slots', () => {
    expect(formatLoad(1, 1)).toBe('1/1');
    expect(formatLoad(0, 2)).toBe('0/2');
    expect(loadShare(1, 2)).toBe(0.5);
    expect(loadShare(3, 2)).toBe(1);
    expect(loadShare(0, 0)).toBe(0);
    expect(loadShare(1, 0)).toBe(1);
    expect(loadShare(-1, 2)).toBe(0);
  });

  it('shows a success rate as a whole percentage, a dash before anything finished', () => {
    expect(formatSuccessRate(1)).toBe('100 %');
    expect(formatSuccessRate(0.666)).toBe('67 %');
    expect(formatSuccessRate(0)).toBe('0 %');
    expect(formatSuccessRate(null)).toBe('—');
    expect(formatSuccessRate(undefined)).toBe('—');
  });

  it('shows durations, a dash when unknown', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(1_010)).toBe('1.0 s');
  });

  it('reads a card out in one label', () => {
    expect(orgCardLabel(orgNode('ceo', [], { title: 'Chief Executive', department: 'board', running: 1, concurrency: 2, success_rate: 1 }))).toBe(
      'Chief Executive, ceo, active, board, load 1/2, success 100 %',
    );
    expect(orgCardLabel(orgNode('dev-a', [], { status: 'paused' }))).toBe('dev-a, paused, load 0/1, success —');
  });
});

describe('executors and frames', () => {
  it('says how an agent runs its work', () => {
    expect(executorText({ type: 'command', argv: ['sleep', '1'] })).toBe('command: sleep 1');
    expect(executorText({ type: 'http', url: 'https://agents.example/run' })).toBe('http: https://agents.example/run');
    expect(executorText({ type: 'llm', provider: 'anthropic', model: 'claude' })).toBe('llm: anthropic / claude');
    expect(executorText({ type: 'llm' })).toBe('llm');
    expect(executorText({ type: 'grpc' })).toBe('grpc');
  });

  it('reads the chart again after delegations, agent changes and nodes starting or ending', () => {
    for (const t of ['delegation', 'agent_changed', 'worker_started', 'node_completed', 'job_completed', 'job_cancelled']) expect(isOrgEvent(t)).toBe(true);
    for (const t of ['llm_call', 'heartbeat', 'alert']) expect(isOrgEvent(t)).toBe(false);
  });
});

describe('delegations', () => {
  it('reads a node’s delegation, none when absent or malformed', () => {
    const d = { state: 'assigned', agent: 'dev-a', reason: 'requires lang=rust', requested_ms: 5, assigned_ms: 9 };
    expect(readDelegation(d)).toEqual(d);
    expect(readDelegation({ state: 'waiting', reason: 'all busy', requested_ms: 5 })).toEqual({
      state: 'waiting',
      agent: null,
      reason: 'all busy',
      requested_ms: 5,
      assigned_ms: null,
    });
    expect(readDelegation(null)).toBeNull();
    expect(readDelegation({ agent: 'x' })).toBeNull();
  });

  it('moves a waiting delegation on to its agent with a frame', () => {
    const ts = '2026-11-21T19:21:41.893Z';
    const waiting = delegationFromFrame({ node_id: 'n', outcome: 'waiting', agent: null, reason: 'dev-a is busy' }, ts, null);
    expect(waiting).toEqual({ state: 'waiting', agent: null, reason: 'dev-a is busy', requested_ms: Date.parse(ts), assigned_ms: null });
    const later = '2026-11-21T19:21:43.000Z';
    const assigned = delegationFromFrame({ node_id: 'n', outcome: 'assigned', agent: 'dev-a', reason: 'requires lang=rust' }, later, waiting);
    expect(assigned).toEqual({ state: 'assigned', agent: 'dev-a', reason: 'requires lang=rust', requested_ms: Date.parse(ts), assigned_ms: Date.parse(later) });
    expect(delegationFromFrame({ node_id: 'n' }, later, assigned)).toBe(assigned);
    expect(delegationStateText('timed_out')).toBe('timed out waiting for an agent');
  });
});
