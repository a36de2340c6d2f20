// The node panel's conversation: the node's model calls (`…/nodes/{id}/llm-calls`), fetched
// when the panel opens on a node that made any and again each time it makes another, shown
// as turns grouped by attempt ("Reported usage" for a worker that only reported its own).
import { useEffect, useState } from 'react';
import { describeError } from '../api/client';
import type { LlmCall } from '../api/types';
import { useServices } from '../app/services';
import { conversation } from './conversation';
import { REPORT, TurnView } from './ConversationTurn';

export interface ConversationProps {
  jobId: string;
  nodeId: string;
  /** The node's calls as far as the page knows: a new one fetches the list again. */
  calls: number;
}

type Shown = { nodeId: string } & ({ state: 'done'; calls: LlmCall[] } | { state: 'error'; message: string });

export function Conversation({ jobId, nodeId, calls }: ConversationProps) {
  const { api } = useServices();
  const [shown, setShown] = useState<Shown | null>(null);

  useEffect(() => {
    let alive = true;
    api
      .llmCalls(jobId, nodeId)
      .then((answer) => alive && setShown({ nodeId, state: 'done', calls: Array.isArray(answer?.calls) ? answer.calls : [] }))
      .catch((err: unknown) => alive && setShown({ nodeId, state: 'error', message: describeError(err) }));
    return () => {
      alive = false;
    };
  }, [api, jobId, nodeId, calls]);

  // What another node showed is never shown for this one; this node's last list stays while
  // a newer one loads.
  const mine = shown?.nodeId === nodeId ? shown : null;
  const groups = mine?.state === 'done' ? conversation(mine.calls) : [];
  const onlyReports = mine?.state === 'done' && mine.calls.length > 0 && mine.calls.every((c) => c.purpose === REPORT);
  return (
    <section className="conversation" aria-labelledby="conversation-heading">
      <h3 id="conversation-heading">{onlyReports ? 'Reported usage' : 'Conversation'}</h3>
      {!mine && <p>Loading…</p>}
      {mine?.state === 'error' && <p className="error">{mine.message}</p>}
      {mine?.state === 'done' && groups.length === 0 && <p className="muted">No model calls recorded.</p>}
      {groups.map((group) => (
        <div key={group.attempt} className="convo-attempt">
          {groups.length > 1 && <h4 className="convo-attempt-heading">Attempt {group.attempt}</h4>}
          <ol className="convo-turns" aria-label={`Model calls of attempt ${group.attempt}`}>
            {group.turns.map((turn, i) => (
              <TurnView key={turn.call.id} turn={turn} index={i + 1} />
            ))}
          </ol>
        </div>
      ))}
    </section>
  );
}
