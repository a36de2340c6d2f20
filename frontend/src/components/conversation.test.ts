// Tests of how model calls become a conversation: turns by attempt, what each call sent,
// the system text once, spawned children's names, and folding long texts.
import { describe, expect, it } from 'vitest';
import { blocksOf, conversation, fold, FOLD_CHARS, spawnedNames, systemOf } from './conversation';
import { LLM_CALLS, LONG_PROMPT } from '../test/llmCalls';

describe('conversation', () => {
  it('groups calls by attempt in turn order, whatever order they came in', () => {
    const groups = conversation([...LLM_CALLS.calls].reverse());
    expect(groups.map((g) => [g.attempt, g.turns.map((t) => t.call.id)])).toEqual([
      [1, ['c1', 'c2', 'c3']],
      [2, ['c4']],
    ]);
  });

  it('shows for each call only what was added after the model last answered', () => {
    const [first] = conversation(LLM_CALLS.calls);
    const sent = first.turns.map((t) => t.sent.map((s) => `${s.role}:${s.block.type}`));
    expect(sent).toEqual([['user:text'], ['user:tool_result'], ['user:text']]);
    expect(first.turns[0].sent[0].block).toEqual({ type: 'text', text: LONG_PROMPT });
    expect(first.turns.map((t) => t.system !== null)).toEqual([true, false, false]);
    expect(first.turns[2].reply).toEqual([{ type: 'text', text: '{"title": "2.4", "notes": "draft"}' }]);
  });

  it('keeps a cut request and a failed call’s response as text', () => {
    const [, second] = conversation(LLM_CALLS.calls);
    const turn = second.turns[0];
    expect(turn.truncatedRequest).toContain('"messages":[');
    expect(turn.sent).toEqual([]);
    expect(turn.reply).toBeNull();
    expect(turn.rawResponse).toBe('{"error": {"message": "slow down"}}');
  });

  it('reads the stored input whatever the protocol, and the system text of either protocol', () => {
    const openai = {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'task' },
        { role: 'assistant', content: '' },
        { role: 'tool', content: '{"children":[]}' },
      ],
    };
    const input = [{ role: 'user', content: [{ type: 'tool_result' as const, id: 'call_1', content: '{"children":[]}', is_error: false }] }];
    const [group] = conversation([{ ...LLM_CALLS.calls[0], request: openai, input, reply: [] }]);
    expect(group.turns[0].system).toBe('Be brief.');
    expect(group.turns[0].sent.map((s) => `${s.role}:${s.block.type}`)).toEqual(['user:tool_result']);
    expect(systemOf({ system: [{ text: 'Cached ' }, { text: 'prefix' }] })).toBe('Cached prefix');
    expect(systemOf({ messages: [{ role: 'user', content: 'no system' }] })).toBeNull();
  });

  it('names the children a spawn asked for, and nothing for other blocks', () => {
    const reply = LLM_CALLS.calls[0].reply ?? [];
    expect(reply.map(spawnedNames)).toEqual([null, ['research', 'write']]);
    expect(spawnedNames({ type: 'tool_use', id: 'x', name: 'spawn_children', input: { children: [{}, 3] } })).toEqual(['#1', '#2']);
    expect(spawnedNames({ type: 'tool_use', id: 'x', name: 'search', input: {} })).toBeNull();
  });

  it('reads bare strings as text and drops blocks it does not know', () => {
    expect(blocksOf('hi')).toEqual([{ type: 'text', text: 'hi' }]);
    expect(blocksOf([{ type: 'image' } as never, { type: 'text', text: 'a' }])).toEqual([{ type: 'text', text: 'a' }]);
    expect(blocksOf(null)).toEqual([]);
  });

  it('folds long texts and many lines, previewing the first line', () => {
    expect(fold('short')).toEqual({ folded: false, preview: 'short' });
    expect(fold('x'.repeat(FOLD_CHARS + 1)).folded).toBe(true);
    expect(fold('a\nb\nc\nd\ne\nf\ng')).toEqual({ folded: true, preview: 'a…' });
    expect(fold(LONG_PROMPT).preview).toBe('Plan the release notes for version 2.4.…');
  });
});
