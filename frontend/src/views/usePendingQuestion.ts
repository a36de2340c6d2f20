// The question a paused job waits on: the one its `clarification_requested` frame carried, or
// else the last unanswered one in its root's result (read when the page opens on a paused job).
import { useEffect, useState } from 'react';
import { describeError } from '../api/client';
import type { JsonValue } from '../api/types';
import { pendingQuestion } from '../components/decomposition';

export interface PendingQuestion {
  /** Null while it is being read, or when it could not be. */
  question: string | null;
  /** Why it could not be read. */
  error: string | null;
}

type Stored = { rootId: string } & PendingQuestion;

function fromResult(result: JsonValue | undefined): PendingQuestion {
  const question = pendingQuestion(result);
  return { question, error: question === null ? 'the job’s root holds no question without an answer' : null };
}

export function usePendingQuestion(
  paused: boolean,
  rootId: string | null,
  loadResult: (nodeId: string) => Promise<JsonValue | undefined>,
  asked: string | null,
): PendingQuestion {
  const [stored, setStored] = useState<Stored | null>(null);

  useEffect(() => {
    if (!paused || !rootId || asked) return;
    let alive = true;
    loadResult(rootId)
      .then((result) => alive && setStored({ rootId, ...fromResult(result) }))
      .catch((err: unknown) => alive && setStored({ rootId, question: null, error: describeError(err) }));
    return () => {
      alive = false;
    };
  }, [paused, rootId, loadResult, asked]);

  if (!paused) return { question: null, error: null };
  if (asked) return { question: asked, error: null };
  return stored && stored.rootId === rootId ? { question: stored.question, error: stored.error } : { question: null, error: null };
}
