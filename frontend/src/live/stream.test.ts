// Tests of the stream client: reconnect with `since`, de-duplication by seq, 1013 resume,
// backoff, control frames.
import { describe, expect, it } from 'vitest';
import { backoffDelay, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, SILENCE_TIMEOUT_MS, StreamClient, type SocketLike } from './stream';
import type { EventFrame } from './events';

class FakeSocket implements SocketLike {
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  open() {
    this.onopen?.(new Event('open'));
  }
  send(obj: unknown) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(obj) }));
  }
  drop(code = 1006, reason = '') {
    this.onclose?.({ code, reason } as CloseEvent);
  }
  close() {
    this.closed = true;
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; id: number; done: boolean }[] = [];
  const events: EventFrame[] = [];
  const states: string[] = [];
  let resyncs = 0;
  const client = new StreamClient({
    url: (since) => `ws://x/ws/recursion?token=k${since === null ? '' : `&since=${since}`}`,
    onEvent: (f) => events.push(f),
    onState: (s) => states.push(s),
    onResync: () => (resyncs += 1),
    socketFactory: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => {
      const t = { fn, ms, id: timers.length + 1, done: false };
      timers.push(t);
      return t.id;
    },
    clearTimer: (id) => {
      const t = timers.find((x) => x.id === id);
      if (t) t.done = true;
    },
  });
  /** Runs the pending reconnect timer (the one not cleared, shortest delay first is irrelevant here). */
  const runReconnect = () => {
    const t = [...timers].reverse().find((x) => !x.done && x.ms < SILENCE_TIMEOUT_MS);
    if (!t) throw new Error('no reconnect timer');
    t.done = true;
    t.fn();
    return t.ms;
  };
  return { client, sockets, events, states, timers, runReconnect, resyncs: () => resyncs };
}

const ev = (seq: number, type = 'worker_started') => ({ seq, ts: 't', type, job_id: 'j', depth: 1, data: {} });

describe('StreamClient', () => {
  it('connects without since, then reconnects with since = last seq seen', () => {
    const h = harness();
    h.client.start();
    expect(h.sockets[0].url).not.toContain('since');
    h.sockets[0].open();
    expect(h.client.state).toBe('live');
    h.sockets[0].send(ev(5));
    h.sockets[0].send(ev(7));
    h.sockets[0].drop();
    expect(h.client.state).toBe('reconnecting');
    h.runReconnect();
    expect(h.sockets[1].url).toContain('since=7');
  });

  it('drops duplicate and older seqs across a reconnect', () => {
    const h = harness();
    h.client.start();
    h.sockets[0].open();
    h.sockets[0].send(ev(1));
    h.sockets[0].send(ev(2));
    h.sockets[0].send(ev(2));
    h.sockets[0].drop();
    h.runReconnect();
    h.sockets[1].open();
    h.sockets[1].send(ev(2));
    h.sockets[1].send(ev(1));
    h.sockets[1].send(ev(3));
    expect(h.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('passes the decomposer’s frames on with their data (decomposition, questions asked and answered)', () => {
    const h = harness();
    h.client.start();
    h.sockets[0].open();
    const assignments = [{ manager: 'database', title: 'Database manager', agents: [{ agent: 'table_creation-1', tasks: ['Users'] }] }];
    h.sockets[0].send({ ...ev(1, 'decomposition'), data: { node_id: 'r', name: 'root', children: 1, intent: 'project', project: 'Chirp', assignments } });
    h.sockets[0].send({ ...ev(2, 'clarification_requested'), data: { node_id: 'r', name: 'root', question: 'Which city?', timeout_s: 3600 } });
    h.sockets[0].send({ ...ev(3, 'clarification_answered'), data: { node_id: 'r', name: 'root', question: 'Which city?' } });
    expect(h.events.map((e) => e.type)).toEqual(['decomposition', 'clarification_requested', 'clarification_answered']);
    expect(h.events[0].data.assignments).toEqual(assignments);
    expect(h.events[1].data.question).toBe('Which city?');
    expect(h.client.lastSeq).toBe(3);
  });

  it('does not dispatch control frames, but learns the seq they carry', () => {
    const h = harness();
    h.client.start();
    h.sockets[0].open();
    h.sockets[0].send({ seq: 40, ts: 't', type: 'heartbeat', job_id: null, depth: null, data: {} });
    h.sockets[0].send({ seq: 40, ts: 't', type: 'subscribed', job_id: null, depth: null, data: { from_seq: 40 } });
    expect(h.events).toHaveLength(0);
    h.sockets[0].send(ev(40));
    h.sockets[0].send(ev(41));
    expect(h.events.map((e) => e.seq)).toEqual([41]);
    h.sockets[0].drop();
    h.runReconnect();
    expect(h.sockets[1].url).toContain('since=41');
  });

  it('reconnects at once from resume_from after a 1013 close', () => {
    const h = harness();
    h.client.start();
    h.sockets[0].open();
    h.sockets[0].send(ev(10));
    h.sockets[0].drop(1013, JSON.stringify({ resume_from: 12 }));
    expect(h.runReconnect()).toBe(0);
    expect(h.sockets[1].url).toContain('since=12');
  });

  it('backs off exponentially up to the maximum and resets once connected', () => {
    expect(backoffDelay(0)).toBe(BACKOFF_INITIAL_MS);
    expect(backoffDelay(1)).toBe(2 * BACKOFF_INITIAL_MS);
    expect(backoffDelay(100)).toBe(BACKOFF_MAX_MS);
    const h = harness();
    h.client.start();
    h.sockets[0].drop();
    const d1 = h.runReconnect();
    h.sockets[1].drop();
    const d2 = h.runReconnect();
    h.sockets[2].drop();
    const d3 = h.runReconnect();
    expect([d1, d2, d3]).toEqual([500, 1000, 2000]);
    expect(h.client.state).toBe('offline');
    h.sockets[3].open();
    expect(h.client.state).toBe('live');
    h.sockets[3].drop();
    expect(h.runReconnect()).toBe(BACKOFF_INITIAL_MS);
  });

  it('asks for a resync when a reconnect cannot resume (no seq known)', () => {
    const h = harness();
    h.client.start();
    h.sockets[0].open();
    expect(h.resyncs()).toBe(0);
    h.sockets[0].drop();
    h.runReconnect();
    h.sockets[1].open();
    expect(h.resyncs()).toBe(1);
    h.sockets[1].send(ev(3));
    h.sockets[1].drop();
    h.runReconnect();
    h.sockets[2].open();
    expect(h.resyncs()).toBe(1);
  });

  it('stops for good: no reconnect after stop()', () => {
    const h = harness();
    h.client.start();
    h.sockets[0].open();
    h.client.stop();
    expect(h.sockets[0].closed).toBe(true);
    expect(h.client.state).toBe('offline');
    expect(h.timers.filter((t) => !t.done && t.ms < SILENCE_TIMEOUT_MS)).toHaveLength(0);
  });
});
