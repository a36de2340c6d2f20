// A job's messages kept live (`GET /recursion/job/{id}/messages`, in one state or all; never
// the receive route, which would deliver them): read once, then again after the message frames
// of the job that concern the list (only `message_dead_lettered` for the dead letters) and on
// a resync, at most once per MESSAGES_REFETCH_MS however many frames come (never polled).
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api/client';
import type { MessageState, MessageView } from '../api/types';
import type { EventFrame } from '../live/events';
import { isDeadLetterEvent, isMessageEvent } from './messages';
import { useServices, useStreamEvents } from './services';

/** The list is read again at most this often. */
export const MESSAGES_REFETCH_MS = 500;

export interface MessagesSource {
  jobId: string;
  /** Only messages in this state (all when absent). */
  state?: MessageState;
  /** Of the job's message frames, those that make the list stale (all when absent). */
  concerns?: (frame: EventFrame, listed: readonly MessageView[] | null) => boolean;
}

export interface LiveMessages {
  /** Oldest first, as the server lists them; null until first read. */
  messages: readonly MessageView[] | null;
  error: string | null;
  /** Schedules a read (throttled). */
  refresh: () => void;
  /** Shows a message the dashboard just sent, until the next read. */
  add: (message: MessageView) => void;
}

type Read = { key: string; messages: readonly MessageView[] | null; error: string | null };

export function useMessages({ jobId, state, concerns }: MessagesSource): LiveMessages {
  const { api, bus } = useServices();
  const key = `${jobId}:${state ?? ''}`;
  const [read, setRead] = useState<Read>({ key, messages: null, error: null });
  const [version, setVersion] = useState(0);
  const timer = useRef<number | null>(null);

  useEffect(() => {
    let alive = true;
    api
      .listMessages(jobId, state)
      .then((answer) => alive && setRead({ key, messages: answer.messages ?? [], error: null }))
      .catch((err: unknown) => alive && setRead((r) => ({ key, messages: r.key === key ? r.messages : null, error: describeError(err) })));
    return () => {
      alive = false;
    };
  }, [api, jobId, state, key, version]);

  const refresh = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = window.setTimeout(() => {
      timer.current = null;
      setVersion((n) => n + 1);
    }, MESSAGES_REFETCH_MS);
  }, []);

  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = null;
    },
    [],
  );

  const current = read.key === key ? read : { messages: null, error: null };
  useStreamEvents((frame) => {
    if (frame.job_id !== jobId) return;
    if (!(state === 'dead' ? isDeadLetterEvent(frame.type) : isMessageEvent(frame.type))) return;
    if (!concerns || concerns(frame, current.messages)) refresh();
  });
  useEffect(() => bus.onResync(refresh), [bus, refresh]);

  const add = useCallback(
    (message: MessageView) => {
      if (state && message.state !== state) return;
      setRead((r) => (r.key === key && r.messages && !r.messages.some((m) => m.id === message.id) ? { ...r, messages: [...r.messages, message] } : r));
      refresh();
    },
    [key, state, refresh],
  );

  return { messages: current.messages, error: current.error, refresh, add };
}
