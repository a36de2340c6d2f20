// A node's conversation with its model, from the calls of the llm-calls route: grouped by
// attempt, each call a turn with what was sent before it (the messages after the model's
// last answer), its reply, and the children a spawn_children tool call asked for. No React
// here: the components render what this returns.
import type { ContentBlock, JsonValue, LlmCall, LlmMessage, LlmRequest } from '../api/types';

/** A block of a message, with the role of the message it came from. */
export interface SentBlock {
  role: string;
  block: ContentBlock;
}

export interface Turn {
  call: LlmCall;
  /** The system text, with the first call of an attempt (and whenever it changes). */
  system: string | null;
  /** What was added to the conversation before this call. */
  sent: SentBlock[];
  /** The request as stored when it was too long to keep whole. */
  truncatedRequest: string | null;
  /** The model's answer, or null (a failed call). */
  reply: ContentBlock[] | null;
  /** The stored response when no reply was read from it. */
  rawResponse: string | null;
}

export interface AttemptTurns {
  attempt: number;
  turns: Turn[];
}

const BLOCK_TYPES: ReadonlySet<string> = new Set(['text', 'tool_use', 'tool_result']);

function isBlock(v: unknown): v is ContentBlock {
  return !!v && typeof v === 'object' && BLOCK_TYPES.has(String((v as { type?: unknown }).type));
}

/** A message's content as blocks (a bare string is one text block; unknown blocks are dropped). */
export function blocksOf(content: LlmMessage['content'] | null | undefined): ContentBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isBlock) : [];
}

function requestOf(call: LlmCall): LlmRequest | null {
  return call.request && typeof call.request === 'object' ? call.request : null;
}

/** The system text of a request as the provider's protocol writes it. */
export function systemOf(request: LlmRequest | null): string | null {
  const system = request?.system;
  if (typeof system === 'string') return system;
  if (Array.isArray(system)) return system.map((b) => b?.text ?? '').join('') || null;
  const first = Array.isArray(request?.messages) ? request.messages[0] : undefined;
  return first?.role === 'system' && typeof first.content === 'string' ? first.content : null;
}

/** What this call added: the stored `input` (one form for every protocol), else the messages
 * of the request after the last assistant message. */
function sentBefore(call: LlmCall, request: LlmRequest | null): SentBlock[] {
  const stored = Array.isArray(call.input) ? call.input : null;
  const messages = stored ?? (Array.isArray(request?.messages) ? request.messages : []);
  let start = 0;
  messages.forEach((m, i) => {
    if (m.role === 'assistant') start = i + 1;
  });
  return messages
    .slice(start)
    .filter((m) => m.role !== 'system')
    .flatMap((m) => blocksOf(m.content).map((block) => ({ role: m.role, block })));
}

function rawText(value: JsonValue | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function byOrder(a: LlmCall, b: LlmCall): number {
  return a.attempt - b.attempt || a.turn - b.turn || a.created_at.localeCompare(b.created_at);
}

/** The calls as turns, grouped by attempt, oldest first. */
export function conversation(calls: readonly LlmCall[]): AttemptTurns[] {
  const groups: AttemptTurns[] = [];
  let lastSystem: string | null = null;
  for (const call of [...calls].sort(byOrder)) {
    let group = groups.at(-1);
    if (!group || group.attempt !== call.attempt) {
      group = { attempt: call.attempt, turns: [] };
      groups.push(group);
      lastSystem = null;
    }
    const request = requestOf(call);
    const system = systemOf(request);
    const reply = Array.isArray(call.reply) ? call.reply.filter(isBlock) : null;
    group.turns.push({
      call,
      system: system && system !== lastSystem ? system : null,
      sent: sentBefore(call, request),
      truncatedRequest: typeof call.request === 'string' ? call.request : null,
      reply,
      rawResponse: reply ? null : rawText(call.response),
    });
    if (system) lastSystem = system;
  }
  return groups;
}

/** The names of the children a spawn_children call asked for (null: not such a call). */
export function spawnedNames(block: ContentBlock): string[] | null {
  if (block.type !== 'tool_use' || block.name !== 'spawn_children') return null;
  const input = block.input;
  const children = input && typeof input === 'object' && !Array.isArray(input) ? input.children : null;
  if (!Array.isArray(children)) return [];
  return children.map((c, i) =>
    c && typeof c === 'object' && !Array.isArray(c) && typeof c.name === 'string' ? c.name : `#${i + 1}`,
  );
}

/** Texts longer than this many characters, or lines, are folded. */
export const FOLD_CHARS = 320;
export const FOLD_LINES = 6;
/** Characters of a folded text shown in its summary. */
export const PREVIEW_CHARS = 90;

/** Whether a text is folded, and the start of it shown while it is. */
export function fold(text: string): { folded: boolean; preview: string } {
  const folded = text.length > FOLD_CHARS || text.split('\n').length > FOLD_LINES;
  if (!folded) return { folded, preview: text };
  const firstLine = text.trimStart().split('\n')[0];
  return { folded, preview: `${firstLine.slice(0, PREVIEW_CHARS).trimEnd()}…` };
}
