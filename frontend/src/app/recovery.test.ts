// Tests of recovery display: reading the `recovery` of a stored result and of a
// `node_retrying` frame (absent, malformed, from an older or a newer server), and putting a
// failure's class, what followed it and a retry in words.
import { describe, expect, it } from 'vitest';
import { classText, outcomeText, readRecovery, readRetrying, recoveryOf, resourcesText, retryingText } from './recovery';
import type { RecoveryView } from '../api/types';

const REALLOCATED = { class: 'memory', action: 'reallocate', level: 2, resources: { memory_mb: 128, cpu_seconds: null, timeout_s: 2 } };
const ESCALATION_NOTE = 'escalation asks a person once approvals exist; until then the node fails';

function recovery(over: Partial<RecoveryView>): RecoveryView {
  return { class: 'process', action: 'retry', level: 1, resources: null, note: null, ...over };
}

describe('reading a recovery', () => {
  it('reads a reallocation with the limits the next attempt gets', () => {
    expect(readRecovery(REALLOCATED)).toEqual({
      class: 'memory',
      action: 'reallocate',
      level: 2,
      resources: { memory_mb: 128, cpu_seconds: null, timeout_s: 2 },
      note: null,
    });
  });

  it('reads a failure with its note, and keeps a class or action a newer server adds', () => {
    expect(readRecovery({ class: 'process', action: 'fail', level: 0, note: ESCALATION_NOTE })).toMatchObject({ action: 'fail', level: 0, note: ESCALATION_NOTE });
    expect(readRecovery({ class: 'quota', action: 'pause', level: 4 })).toMatchObject({ class: 'quota', action: 'pause', level: 4 });
  });

  it('is null without a class and an action, or for anything but an object', () => {
    for (const v of [undefined, null, 'memory', 3, [], {}, { class: 'memory' }, { action: 'retry' }, { class: '', action: 'retry' }, { class: 7, action: 'retry' }]) {
      expect(readRecovery(v)).toBeNull();
    }
  });

  it('tolerates a missing or malformed level, resources and note', () => {
    // No level: the action's, or 0 when a note says nothing follows.
    expect(readRecovery({ class: 'network', action: 'retry' })?.level).toBe(1);
    expect(readRecovery({ class: 'timeout', action: 'reallocate', level: 'two' })?.level).toBe(2);
    expect(readRecovery({ class: 'network', action: 'retry', note: 'the retry policy allows no more attempts' })?.level).toBe(0);
    expect(readRecovery({ class: 'x', action: 'y' })?.level).toBe(0);
    // Resources only for a reallocation, and only numbers in them.
    expect(readRecovery({ class: 'memory', action: 'reallocate', level: 2, resources: 'lots' })?.resources).toBeNull();
    expect(readRecovery({ class: 'memory', action: 'reallocate', level: 2, resources: { memory_mb: '128', timeout_s: 3 } })?.resources).toEqual({ memory_mb: null, cpu_seconds: null, timeout_s: 3 });
    expect(readRecovery({ class: 'network', action: 'retry', level: 1, resources: { memory_mb: 1 } })?.resources).toBeNull();
    expect(readRecovery({ class: 'network', action: 'retry', level: 1, note: 42 })?.note).toBeNull();
  });

  it('finds the recovery in a stored result, and none in one without it', () => {
    expect(recoveryOf({ exit_code: 137, recovery: REALLOCATED })).toMatchObject({ class: 'memory', level: 2 });
    expect(recoveryOf({ exit_code: 0, stdout: 'ok' })).toBeNull();
    expect(recoveryOf('recovery')).toBeNull();
    expect(recoveryOf(null)).toBeNull();
    expect(recoveryOf([{ recovery: REALLOCATED }])).toBeNull();
  });

  it('reads a node_retrying frame, with or without a recovery (an attempt a restart cut short has none)', () => {
    const data = { node_id: 'n1', name: 'build', attempt: 1, max_attempts: 3, delay_ms: 200, error: 'killed', recovery: REALLOCATED };
    expect(readRetrying('node_retrying', data)).toMatchObject({ node_id: 'n1', name: 'build', attempt: 1, max_attempts: 3, delay_ms: 200, error: 'killed', recovery: { class: 'memory' } });
    expect(readRetrying('node_retrying', { node_id: 'n1', attempt: 2, recovery: null })).toEqual({
      node_id: 'n1',
      name: 'n1',
      attempt: 2,
      max_attempts: null,
      delay_ms: null,
      error: null,
      recovery: null,
    });
    expect(readRetrying('node_completed', data)).toBeNull();
    expect(readRetrying('node_retrying', { attempt: 1 })).toBeNull();
  });
});

describe('recovery in words', () => {
  it('names each class with what it means, and a class it does not know as it is', () => {
    expect(classText('memory')).toBe('memory — killed for memory or out of memory');
    for (const cls of ['timeout', 'permission', 'network', 'launch', 'budget', 'validation', 'process']) {
      expect(classText(cls)).toMatch(new RegExp(`^${cls} — .+`));
    }
    expect(classText('quota')).toBe('quota');
  });

  it('says what followed at each level', () => {
    expect(outcomeText(recovery({ class: 'network' }))).toBe('level 1: retried');
    expect(outcomeText(recovery({ action: 'reallocate', level: 2, resources: { memory_mb: 128, cpu_seconds: null, timeout_s: 2 } }))).toBe(
      'level 2: reallocated — next attempt gets 128 MiB, a 2 s timeout',
    );
    expect(outcomeText(recovery({ action: 'reallocate', level: 2, resources: { memory_mb: 2048, cpu_seconds: 90, timeout_s: 3600 } }))).toBe(
      'level 2: reallocated — next attempt gets 2,048 MiB, a 3,600 s timeout, 90 s of CPU',
    );
    expect(outcomeText(recovery({ action: 'escalate', level: 3 }))).toBe('level 3: escalated to a person');
  });

  it('says the node failed when nothing follows, and why in short', () => {
    expect(outcomeText(recovery({ action: 'retry', level: 0, note: 'the retry policy allows no more attempts' }))).toBe('failed: no more attempts');
    expect(outcomeText(recovery({ action: 'reallocate', level: 0 }))).toBe('failed: no more attempts');
    expect(outcomeText(recovery({ class: 'launch', action: 'fail', level: 0 }))).toBe('failed: not retried (its class’s policy)');
    expect(outcomeText(recovery({ action: 'fail', level: 0, note: ESCALATION_NOTE }))).toBe('failed: not retried');
  });

  it('says what a reallocation gives when the worker has no limits to raise, or none are set', () => {
    expect(resourcesText(null)).toBe('the same as before (only a command gets more memory and time)');
    expect(resourcesText({ memory_mb: null, cpu_seconds: null, timeout_s: null })).toBe('no limits');
  });

  it('puts a retry in short', () => {
    const data = readRetrying('node_retrying', { node_id: 'n1', attempt: 1, max_attempts: 3, recovery: REALLOCATED });
    expect(data && retryingText(data)).toBe('attempt 1 of 3 failed (memory) → reallocate');
    expect(retryingText({ attempt: 2, max_attempts: null, recovery: null })).toBe('attempt 2 failed → retry');
  });
});
