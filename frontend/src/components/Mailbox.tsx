// The node panel's Mailbox (issue 17): the messages to the node and those it sent ("sent"),
// newest first, from the job's list (`GET …/messages`, which only lists: the receive route
// would deliver them), read again — at most every half second — after the job's message frames
// that concern the node. Hidden while the node has none. Below it, while the node has not
// ended, "Send a message" to the node.
import { useCallback, useId, useMemo } from 'react';
import type { MessageView } from '../api/types';
import { concernsNode, MESSAGES_LISTED, nodeMailbox } from '../app/messages';
import { useMessages } from '../app/useMessages';
import type { EventFrame } from '../live/events';
import { useNow } from '../timeline/useNow';
import { APPROVAL_CLOCK_MS } from './ApprovalSection';
import { MessageItem } from './MessageItem';
import { SendMessageForm } from './SendMessageForm';

export interface MailboxProps {
  jobId: string;
  nodeId: string;
  nameOf: (nodeId: string) => string | undefined;
  onSelect?: (nodeId: string) => void;
  /** Whether the form to send the node a message is offered (the node has not ended). */
  canSend: boolean;
}

export function Mailbox({ jobId, nodeId, nameOf, onSelect, canSend }: MailboxProps) {
  const headingId = useId();
  const concerns = useCallback((frame: EventFrame, listed: readonly MessageView[] | null) => concernsNode(frame, nodeId, listed), [nodeId]);
  const { messages, error, add } = useMessages({ jobId, concerns });
  const entries = useMemo(() => nodeMailbox(messages ?? [], nodeId), [messages, nodeId]);
  const now = useNow(entries.length > 0, APPROVAL_CLOCK_MS);
  const received = entries.filter((e) => e.direction === 'received').length;
  const name = nameOf(nodeId) ?? nodeId;
  return (
    <>
      {entries.length > 0 && (
        <section className="mailbox" aria-labelledby={headingId} data-testid="mailbox">
          <h3 id={headingId}>Mailbox</h3>
          <p className="small muted" data-testid="mailbox-counts">
            {received} received, {entries.length - received} sent
            {(messages?.length ?? 0) >= MESSAGES_LISTED && ` (among the job’s first ${MESSAGES_LISTED.toLocaleString('en')} messages)`}
          </p>
          {error && <p className="error">{error}</p>}
          <ol className="message-list">
            {entries.map(({ message, direction }) => (
              <MessageItem key={message.id} message={message} direction={direction} nameOf={nameOf} onSelect={onSelect} now={now} />
            ))}
          </ol>
        </section>
      )}
      {canSend && <SendMessageForm key={nodeId} jobId={jobId} nodeId={nodeId} nodeName={name} onSent={add} />}
    </>
  );
}
