// Tests of the mailbox helpers: a node's mailbox (to it, sent by it, newest first), which
// frames concern it, senders, states and reasons in words, a clipped body, a dead letter's
// notice, the send form's body (JSON, or the text as a string) and a refusal's detail.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { frame, message, MSG_AT } from '../test/fixtures';
import { compactBody, concernsNode, deadLetterNotice, nodeMailbox, problemDetail, readBody, senderText, stateText } from './messages';

const names: Record<string, string> = { a1: 'writer', a2: 'reader' };
const nameOf = (id: string) => names[id];

describe('nodeMailbox', () => {
  it('keeps the messages to the node and those it sent, newest first', () => {
    const list = [
      message({ id: 'old', created_ms: MSG_AT }),
      message({ id: 'other', to: 'a2', created_ms: MSG_AT + 1000 }),
      message({ id: 'sent', to: 'a2', from: 'a1', sender: 'node:a1', created_ms: MSG_AT + 2000 }),
      message({ id: 'new', from: 'a2', sender: 'node:a2', created_ms: MSG_AT + 3000 }),
      message({ id: 'same-ms', created_ms: MSG_AT + 3000 }),
    ];
    expect(nodeMailbox(list, 'a1').map((e) => `${e.message.id}:${e.direction}`)).toEqual(['same-ms:received', 'new:received', 'sent:sent', 'old:received']);
    expect(nodeMailbox(list, 'b1')).toEqual([]);
  });
});

describe('concernsNode', () => {
  it('takes the message frames to or from the node, or about a message it lists', () => {
    const listed = [message({ id: 'm-1' })];
    expect(concernsNode(frame('message_sent', { message_id: 'x', to: 'a1', from: null }), 'a1', null)).toBe(true);
    expect(concernsNode(frame('message_sent', { message_id: 'x', to: 'a2', from: 'a1' }), 'a1', null)).toBe(true);
    expect(concernsNode(frame('message_delivered', { message_id: 'm-1', to: 'a2' }), 'a1', listed)).toBe(true);
    expect(concernsNode(frame('message_delivered', { message_id: 'x', to: 'a2' }), 'a1', listed)).toBe(false);
    expect(concernsNode(frame('worker_started', { worker_id: 'a1', to: 'a1' }), 'a1', listed)).toBe(false);
  });
});

describe('message wording', () => {
  it('names senders: a key, a node by its name, cadre', () => {
    expect(senderText('ops', nameOf)).toBe('key ops');
    expect(senderText('node:a2', nameOf)).toBe('node reader');
    expect(senderText('node:zz', nameOf)).toBe('node zz');
    expect(senderText('cadre', nameOf)).toBe('cadre');
  });

  it('says where a message stands, with its deliveries and a dead one’s reason', () => {
    expect(stateText(message())).toBe('pending, 0 deliveries');
    expect(stateText(message({ state: 'delivered', deliveries: 1 }))).toBe('delivered, 1 delivery');
    expect(stateText(message({ state: 'dead', deliveries: 3, dead_reason: 'max_deliveries' }))).toBe('dead (max_deliveries), 3 deliveries');
  });

  it('clips a long body’s compact JSON', () => {
    expect(compactBody({ a: [1, 2], b: 'x' })).toEqual({ text: '{"a":[1,2],"b":"x"}', clipped: false });
    const long = compactBody({ text: 'y'.repeat(300) }, 20);
    expect(long).toEqual({ text: `{"text":"${'y'.repeat(11)}…`, clipped: true });
    expect(compactBody('plain')).toEqual({ text: '"plain"', clipped: false });
  });

  it('reads a dead letter’s notice to the parent', () => {
    const notice = message({ sender: 'cadre', to: 'a', body: { dead_letter: { message_id: 'm-1', to: 'a1', reason: 'ttl', deliveries: 0 } } });
    expect(deadLetterNotice(notice, nameOf)).toBe('A message to writer went to the dead letters: its time to live ran out.');
    expect(deadLetterNotice(message(), nameOf)).toBeNull();
    expect(deadLetterNotice(message({ sender: 'cadre', body: 'hi' }), nameOf)).toBeNull();
  });
});

describe('readBody', () => {
  it('sends JSON as JSON and anything else as a string', () => {
    expect(readBody(' {"a": 1} ')).toEqual({ body: { a: 1 }, json: true });
    expect(readBody('42')).toEqual({ body: 42, json: true });
    expect(readBody('"quoted"')).toEqual({ body: 'quoted', json: true });
    expect(readBody('  hello {there ')).toEqual({ body: 'hello {there', json: false });
  });
});

describe('problemDetail', () => {
  it('shows a problem’s detail, with the fields a 422 faults', () => {
    const conflict = new ApiError(409, { type: 't', title: 'Conflict', status: 409, detail: 'the job has ended' }, 'x');
    expect(problemDetail(conflict)).toBe('the job has ended');
    const invalid = new ApiError(422, { type: 't', title: 'Unprocessable Entity', status: 422, detail: 'the request is invalid', errors: [{ path: 'priority', message: '0–9' }] }, 'x');
    expect(problemDetail(invalid)).toBe('the request is invalid (priority: 0–9)');
    expect(problemDetail(new Error('offline'))).toBe('offline');
  });
});
