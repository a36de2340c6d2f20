// A job's dead letters (issue 17: `GET …/messages?state=dead`), newest first: each message's
// recipient (selecting its node), why it died (its time to live ran out, or it was delivered
// too many times without an acknowledgement), its deliveries, sender, thread and body. The
// list is kept live by the caller (`useMessages`, read again after `message_dead_lettered`).
import { useId, useMemo } from 'react';
import type { MessageView } from '../api/types';
import { MESSAGES_LISTED, newestFirst } from '../app/messages';
import { useNow } from '../timeline/useNow';
import { APPROVAL_CLOCK_MS } from './ApprovalSection';
import { MessageItem } from './MessageItem';

export interface DeadLettersProps {
  /** The job's dead letters, oldest first; null until read. */
  messages: readonly MessageView[] | null;
  error: string | null;
  nameOf: (nodeId: string) => string | undefined;
  onSelect: (nodeId: string) => void;
}

export function DeadLetters({ messages, error, nameOf, onSelect }: DeadLettersProps) {
  const headingId = useId();
  const shown = useMemo(() => newestFirst(messages ?? [], (m) => m), [messages]);
  const now = useNow(shown.length > 0, APPROVAL_CLOCK_MS);
  return (
    <section className="dead-letters" aria-labelledby={headingId} data-testid="dead-letters">
      <h3 id={headingId}>Dead letters</h3>
      <p className="small muted">
        Messages never acknowledged: their time to live ran out, or they were delivered too many times. The recipient’s parent is sent a notice
        of each.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {messages === null && !error && <p>Loading…</p>}
      {messages?.length === 0 && <p data-testid="dead-letters-none">No dead letters.</p>}
      {messages && messages.length >= MESSAGES_LISTED && <p className="muted">The first {MESSAGES_LISTED.toLocaleString('en')} are shown.</p>}
      {shown.length > 0 && (
        <ol className="message-list">
          {shown.map((m) => (
            <MessageItem key={m.id} message={m} direction="dead" nameOf={nameOf} onSelect={onSelect} now={now} />
          ))}
        </ol>
      )}
    </section>
  );
}
