// One message of a mailbox or of the dead letters: its priority (urgent ones marked), who sent
// it (or, sent by the node shown, to whom; a dead letter's recipient too, selecting its node),
// its thread, where it stands (pending, delivered, acknowledged or dead, with its deliveries),
// when it was sent, and its body as compact JSON, clipped, with "Show all" for the whole of it.
import { useId, useState } from 'react';
import type { JsonValue, MessageView } from '../api/types';
import { relativeTime } from '../app/approvals';
import { formatTime, prettyJson } from '../app/format';
import { compactBody, deadLetterNotice, isUrgent, messageIso, reasonText, senderText, stateText } from '../app/messages';
import { NodeLink } from './NodeLink';

/** A message to the node shown, sent by it, or a dead letter of the job. */
export type MessageDirection = 'received' | 'sent' | 'dead';

export interface MessageItemProps {
  message: MessageView;
  direction: MessageDirection;
  nameOf: (nodeId: string) => string | undefined;
  onSelect?: (nodeId: string) => void;
  now: number;
}

function MessageBody({ body }: { body: JsonValue }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const { text, clipped } = compactBody(body);
  return (
    <div className="message-body">
      {open ? (
        <pre className="json" id={id} tabIndex={0} data-testid="message-body">
          {prettyJson(body)}
        </pre>
      ) : (
        <code className="message-compact" id={id} data-testid="message-body">
          {text}
        </code>
      )}
      {clipped && (
        <button type="button" className="link-button small" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
          {open ? 'Show less' : 'Show all'}
        </button>
      )}
    </div>
  );
}

function Who({ message, direction, nameOf, onSelect }: Omit<MessageItemProps, 'now'>) {
  const from = senderText(message.sender, nameOf);
  if (direction === 'received') return <>from {from}</>;
  const to = <NodeLink name={nameOf(message.to) ?? message.to} nodeId={message.to} onSelect={onSelect} />;
  if (direction === 'sent') {
    return (
      <>
        <strong>sent</strong> to {to}
      </>
    );
  }
  return (
    <>
      to {to}, from {from}
    </>
  );
}

export function MessageItem({ message: m, direction, nameOf, onSelect, now }: MessageItemProps) {
  const urgent = isUrgent(m.priority);
  const iso = messageIso(m.created_ms);
  const notice = deadLetterNotice(m, nameOf);
  return (
    <li
      className={`message message-${direction}${urgent ? ' message-urgent' : ''}`}
      data-testid="message"
      data-message-id={m.id}
      data-direction={direction}
      data-state={m.state}
      data-priority={m.priority}
      data-urgent={urgent}
    >
      <p className="message-head">
        <span className={urgent ? 'message-priority message-priority-urgent' : 'message-priority'} data-testid="message-priority">
          {urgent && <span aria-hidden="true">‼ </span>}priority {m.priority}
          {urgent && ' (urgent)'}
        </span>{' '}
        <span className="message-who" data-testid="message-who">
          <Who message={m} direction={direction} nameOf={nameOf} onSelect={onSelect} />
        </span>{' '}
        <time className="muted" dateTime={iso} title={formatTime(iso)}>
          {relativeTime(iso, now)}
        </time>
      </p>
      <p className="message-facts">
        {m.thread_id && (
          <>
            thread <code data-testid="message-thread">{m.thread_id}</code>
            {' · '}
          </>
        )}
        <span className={`message-state message-state-${m.state}`} data-testid="message-state">
          {stateText(m)}
        </span>
        {m.state === 'dead' && (
          <span className="muted" data-testid="message-reason" data-reason={m.dead_reason ?? ''}>
            {' '}
            — {reasonText(m.dead_reason)}
          </span>
        )}
      </p>
      {notice && <p className="message-notice">{notice}</p>}
      <MessageBody body={m.body} />
    </li>
  );
}
