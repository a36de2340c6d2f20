// A fixture of `GET …/nodes/{node_id}/llm-calls`: a planner that spawns two children, gets
// their results back, answers JSON that fails its schema, and is repaired; then a second
// attempt whose only call failed with a 429 and a response cut at the size limit.
import type { LlmCall, LlmCalls, Usage } from '../api/types';

export const LONG_PROMPT = `Plan the release notes for version 2.4.\n${'Each change needs a line for users. '.repeat(20)}`;
const SYSTEM = 'You are the planner of a small writing team.';
const prompt = { role: 'user', content: [{ type: 'text' as const, text: LONG_PROMPT }] };
const spawn = {
  type: 'tool_use' as const,
  id: 'tu_1',
  name: 'spawn_children',
  input: {
    children: [
      { name: 'research', title: 'Collect the changes', run: { type: 'llm', prompt: 'List the merged PRs' } },
      { name: 'write', title: 'Write the notes', run: { type: 'llm', prompt: 'Write them' } },
    ],
  },
};
const results = {
  role: 'user',
  content: [{ type: 'tool_result' as const, id: 'tu_1', content: '{"research":"12 PRs","write":"draft"}', is_error: false }],
};
const badJson = { type: 'text' as const, text: '{"notes": "draft"}' };

function call(over: Partial<LlmCall> & Pick<LlmCall, 'id' | 'attempt' | 'turn'>): LlmCall {
  return {
    purpose: 'execute',
    provider: 'local',
    model: 'qwen2.5:7b',
    input_tokens: 1000,
    output_tokens: 100,
    cached_tokens: 0,
    cost: 0.001,
    latency_ms: 850,
    http_status: 200,
    error: null,
    tries: 1,
    request: null,
    request_truncated: false,
    response: null,
    response_truncated: false,
    reply: null,
    created_at: '2026-11-21T19:21:42.000Z',
    ...over,
  };
}

export const LLM_CALLS: LlmCalls = {
  calls: [
    call({
      id: 'c1',
      attempt: 1,
      turn: 0,
      request: { model: 'qwen2.5:7b', system: SYSTEM, messages: [prompt], tools: ['spawn_children'], max_tokens: 1024 },
      reply: [{ type: 'text', text: 'I will split the work.' }, spawn],
      created_at: '2026-11-21T19:21:42.000Z',
    }),
    call({
      id: 'c2',
      attempt: 1,
      turn: 1,
      input_tokens: 1500,
      cached_tokens: 900,
      cost: 0.0012,
      request: { system: SYSTEM, messages: [prompt, { role: 'assistant', content: [spawn] }, results] },
      reply: [badJson],
      created_at: '2026-11-21T19:21:45.000Z',
    }),
    call({
      id: 'c3',
      attempt: 1,
      turn: 1,
      purpose: 'repair',
      request: {
        system: SYSTEM,
        messages: [
          prompt,
          { role: 'assistant', content: [spawn] },
          results,
          { role: 'assistant', content: [badJson] },
          { role: 'user', content: 'Your answer does not match the schema: /title: "title" is a required property' },
        ],
      },
      reply: [{ type: 'text', text: '{"title": "2.4", "notes": "draft"}' }],
      created_at: '2026-11-21T19:21:46.000Z',
    }),
    call({
      id: 'c4',
      attempt: 2,
      turn: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost: 0,
      latency_ms: 61_000,
      http_status: 429,
      error: 'rate limited: slow down',
      tries: 4,
      request: `{"model":"qwen2.5:7b","system":"${SYSTEM}","messages":[…`,
      request_truncated: true,
      response: '{"error": {"message": "slow down"}}',
      created_at: '2026-11-21T19:22:46.000Z',
    }),
  ],
};

/** What the fixture's calls add up to. */
export const LLM_USAGE: Usage = { input_tokens: 3500, output_tokens: 300, cached_tokens: 900, cost: 0.0032, calls: 4 };
