// Sending a decision on an approval request (`POST /approvals/{id}/decision`), shared by the
// approval and escalation forms: the optional comment (trimmed, left out when blank), the
// verdict being sent (one at a time), and where a refusal goes — a 422 at `input` to the
// field of the verdict that sent it, a 422 at `decision` (a verdict of the wrong kind) as
// its message, anything else (403, 409, offline) described above the buttons.
import { useState } from 'react';
import { describeError } from '../api/client';
import type { ApprovalView, DecisionBody, JsonValue, Verdict } from '../api/types';
import { fieldProblem } from './approvals';
import { useServices } from './services';

/** The server's refusal of the input a verdict sent. */
export interface InputRefusal {
  verdict: Verdict;
  message: string;
}

export interface Decision {
  comment: string;
  setComment: (text: string) => void;
  /** The verdict being sent, or null. */
  sending: Verdict | null;
  /** A refusal other than of the input. */
  error: string | null;
  inputRefusal: InputRefusal | null;
  /** Forgets the refusals shown (before a new try, or when the form checks the input itself). */
  clearErrors: () => void;
  /** Sends a verdict (with `input` when given): true once stored, and then `onDecided` has been told. */
  send: (verdict: Verdict, input?: JsonValue) => Promise<boolean>;
}

export function useDecision(approval: Pick<ApprovalView, 'id'>, onDecided: (view: ApprovalView, verdict: Verdict) => void): Decision {
  const { api } = useServices();
  const [comment, setComment] = useState('');
  const [sending, setSending] = useState<Verdict | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inputRefusal, setInputRefusal] = useState<InputRefusal | null>(null);

  const clearErrors = () => {
    setError(null);
    setInputRefusal(null);
  };

  const send = async (verdict: Verdict, input?: JsonValue): Promise<boolean> => {
    if (sending) return false;
    clearErrors();
    const body: DecisionBody = { decision: verdict };
    if (comment.trim()) body.comment = comment.trim();
    if (input !== undefined) body.input = input;
    setSending(verdict);
    try {
      const view = await api.decideApproval(approval.id, body);
      setComment('');
      onDecided(view, verdict);
      return true;
    } catch (err) {
      const onInput = fieldProblem(err, 'input');
      if (onInput) setInputRefusal({ verdict, message: onInput });
      else setError(fieldProblem(err, 'decision') ?? describeError(err));
      return false;
    } finally {
      setSending(null);
    }
  };

  return { comment, setComment, sending, error, inputRefusal, clearErrors, send };
}
