// "Send a message" to a node (`POST …/messages`, a `write` key's), behind a button that opens
// it: the priority (0–9, 5 unless chosen), an optional thread and the body — sent as JSON when
// it parses, else as a JSON string (the hint under it says which). The form is disabled while
// it is sent; a refusal (403 for a key without `write`, 409 once the job has ended, 422) is
// shown as its problem's detail.
import { useId, useState, type FormEvent } from 'react';
import type { MessageView, SendMessageBody } from '../api/types';
import { DEFAULT_PRIORITY, PRIORITIES, problemDetail, readBody } from '../app/messages';
import { useServices } from '../app/services';

export interface SendMessageFormProps {
  jobId: string;
  nodeId: string;
  nodeName: string;
  /** The message was stored. */
  onSent: (message: MessageView) => void;
}

function hint(draft: string): string {
  if (!draft.trim()) return 'JSON, or any text (sent as a JSON string).';
  return readBody(draft).json ? 'Sent as JSON.' : 'Not JSON: sent as a string.';
}

export function SendMessageForm({ jobId, nodeId, nodeName, onSent }: SendMessageFormProps) {
  const { api } = useServices();
  const formId = useId();
  const ids = { priority: useId(), thread: useId(), body: useId(), hint: useId() };
  const [open, setOpen] = useState(false);
  const [priority, setPriority] = useState(DEFAULT_PRIORITY);
  const [thread, setThread] = useState('');
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!draft.trim() || sending) return;
    const message: SendMessageBody = { to: nodeId, priority, body: readBody(draft).body };
    if (thread.trim()) message.thread_id = thread.trim();
    setSending(true);
    setError(null);
    setSent(null);
    try {
      const stored = await api.sendMessage(jobId, message);
      setDraft('');
      setSent(`Sent to ${nodeName} with priority ${stored.priority}.`);
      onSent(stored);
    } catch (err) {
      setError(problemDetail(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <div className="send-message" data-testid="send-message">
      <button type="button" aria-expanded={open} aria-controls={formId} onClick={() => setOpen((o) => !o)}>
        Send a message
      </button>
      {open && (
        <form id={formId} onSubmit={submit} aria-label={`Send a message to ${nodeName}`}>
          <div className="send-message-row">
            <div className="field">
              <label htmlFor={ids.priority}>Priority</label>
              <select id={ids.priority} value={priority} disabled={sending} onChange={(e) => setPriority(Number(e.target.value))}>
                {PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {p === 9 ? '9 (most urgent)' : p === 0 ? '0 (least urgent)' : p}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.thread}>Thread (optional)</label>
              <input id={ids.thread} value={thread} maxLength={200} disabled={sending} onChange={(e) => setThread(e.target.value)} />
            </div>
          </div>
          <div className="field">
            <label htmlFor={ids.body}>Body</label>
            <textarea
              id={ids.body}
              rows={3}
              value={draft}
              disabled={sending}
              aria-describedby={ids.hint}
              onChange={(e) => setDraft(e.target.value)}
            />
            <span id={ids.hint} className="small muted" data-testid="send-message-hint">
              {hint(draft)}
            </span>
          </div>
          {error && (
            <p role="alert" className="error" data-testid="send-message-error">
              {error}
            </p>
          )}
          {sent && <p role="status">{sent}</p>}
          <button type="submit" className="primary" disabled={sending || !draft.trim()}>
            {sending ? 'Sending…' : 'Send'}
          </button>
        </form>
      )}
    </div>
  );
}
