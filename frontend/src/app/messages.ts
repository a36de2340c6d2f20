// Mailboxes (issue 17) for display: the stream frames that concern a job's messages, a node's
// mailbox (the messages to it and those it sent, newest first), a message's priority, sender,
// state and body in words, a dead letter's notice to the recipient's parent, the body the send
// form types (JSON, or else the text as a JSON string), and a refusal's problem detail.
import { ApiError, describeError } from '../api/client';
import type { JsonValue, MessageView } from '../api/types';
import { str, type EventFrame } from '../live/events';

export const MESSAGE_SENT = 'message_sent';
export const MESSAGE_DELIVERED = 'message_delivered';
export const MESSAGE_ACKNOWLEDGED = 'message_acknowledged';
export const MESSAGE_DEAD_LETTERED = 'message_dead_lettered';
const MESSAGE_EVENTS: ReadonlySet<string> = new Set([MESSAGE_SENT, MESSAGE_DELIVERED, MESSAGE_ACKNOWLEDGED, MESSAGE_DEAD_LETTERED]);

/** The most messages the server lists at once. */
export const MESSAGES_LISTED = 1000;
/** 0–9, 9 the most urgent. */
export const PRIORITIES: readonly number[] = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
export const DEFAULT_PRIORITY = 5;
/** From this priority up a message is marked urgent. */
export const URGENT_PRIORITY = 8;
/** How many characters of a body's compact JSON a message shows before "Show all". */
export const BODY_CLIP_CHARS = 120;
/** The sender of the notices the server writes (a dead letter's, to the recipient's parent). */
export const CADRE_SENDER = 'cadre';
const NODE_SENDER = 'node:';

/** True for the frames after which a job's messages are stale. */
export function isMessageEvent(type: string): boolean {
  return MESSAGE_EVENTS.has(type);
}

/** True for the frames after which a job's dead letters are stale. */
export function isDeadLetterEvent(type: string): boolean {
  return type === MESSAGE_DEAD_LETTERED;
}

/** Whether a message frame may change a node's mailbox: one to or from it, or about a message it lists. */
export function concernsNode(frame: EventFrame, nodeId: string, listed: readonly MessageView[] | null): boolean {
  if (!isMessageEvent(frame.type)) return false;
  const d = frame.data;
  if (str(d, 'to') === nodeId || str(d, 'from') === nodeId) return true;
  const id = str(d, 'message_id');
  return id !== null && (listed ?? []).some((m) => m.id === id);
}

/** A message of a node's mailbox: to it (`received`), or sent by it. */
export interface MailboxEntry {
  message: MessageView;
  direction: 'received' | 'sent';
}

/** A node's messages, newest first: those to it, and those it sent. */
export function nodeMailbox(messages: readonly MessageView[], nodeId: string): MailboxEntry[] {
  const entries: MailboxEntry[] = [];
  for (const message of messages) {
    if (message.to === nodeId) entries.push({ message, direction: 'received' });
    else if (message.from === nodeId) entries.push({ message, direction: 'sent' });
  }
  return newestFirst(entries, (e) => e.message);
}

/** Messages newest first (the server lists them oldest first; ties keep the later one first). */
export function newestFirst<T>(items: readonly T[], of: (item: T) => MessageView): T[] {
  return [...items].reverse().sort((a, b) => of(b).created_ms - of(a).created_ms);
}

export function isUrgent(priority: number): boolean {
  return priority >= URGENT_PRIORITY;
}

/** Who sent it, in words: `key e2e`, `node worker` (its name when the tree holds it), `cadre`. */
export function senderText(sender: string, nameOf: (nodeId: string) => string | undefined): string {
  if (sender === CADRE_SENDER) return 'cadre';
  if (sender.startsWith(NODE_SENDER)) {
    const id = sender.slice(NODE_SENDER.length);
    return `node ${nameOf(id) ?? id}`;
  }
  return `key ${sender}`;
}

const REASONS: Record<string, string> = {
  ttl: 'its time to live ran out',
  max_deliveries: 'delivered too many times without an acknowledgement',
};

/** Why a message went to the dead letters, in words (an unknown reason as sent). */
export function reasonText(reason: string | null): string {
  if (!reason) return 'no reason given';
  return REASONS[reason] ?? reason;
}

export function deliveriesText(deliveries: number): string {
  return `${deliveries} ${deliveries === 1 ? 'delivery' : 'deliveries'}`;
}

/** Where a message stands: `pending, 0 deliveries`, `dead (ttl), 0 deliveries`. */
export function stateText(m: MessageView): string {
  const state = m.state === 'dead' ? `dead (${m.dead_reason ?? 'unknown reason'})` : m.state;
  return `${state}, ${deliveriesText(m.deliveries)}`;
}

/** A body on one line, and whether it was clipped to `max` characters. */
export function compactBody(body: JsonValue, max = BODY_CLIP_CHARS): { text: string; clipped: boolean } {
  const text = JSON.stringify(body) ?? 'null';
  return text.length > max ? { text: `${text.slice(0, max)}…`, clipped: true } : { text, clipped: false };
}

/** What a dead letter's notice (cadre's message to the recipient's parent) says, or null for another message. */
export function deadLetterNotice(m: MessageView, nameOf: (nodeId: string) => string | undefined): string | null {
  if (m.sender !== CADRE_SENDER || !m.body || typeof m.body !== 'object' || Array.isArray(m.body)) return null;
  const dead = m.body.dead_letter;
  if (!dead || typeof dead !== 'object' || Array.isArray(dead)) return null;
  const to = typeof dead.to === 'string' ? (nameOf(dead.to) ?? dead.to) : 'a child';
  const reason = typeof dead.reason === 'string' ? dead.reason : null;
  return `A message to ${to} went to the dead letters: ${reasonText(reason)}.`;
}

/** The body the send form sends: the text as JSON when it parses, else the text itself as a JSON string. */
export function readBody(text: string): { body: JsonValue; json: boolean } {
  const trimmed = text.trim();
  try {
    return { body: JSON.parse(trimmed) as JsonValue, json: true };
  } catch {
    return { body: trimmed, json: false };
  }
}

/** What a refusal says: its problem's detail (with the fields a 422 faults), else the error in words. */
export function problemDetail(err: unknown): string {
  if (!(err instanceof ApiError) || !err.problem) return describeError(err);
  const fields = (err.problem.errors ?? []).map((e) => `${e.path}: ${e.message}`);
  return fields.length > 0 ? `${err.problem.detail} (${fields.join('; ')})` : err.problem.detail;
}

/** A message's time as an ISO string (for `<time>` and the relative wording). */
export function messageIso(ms: number): string {
  return new Date(ms).toISOString();
}
