// Pause (no new work; what runs goes on) or Resume an agent (`PATCH /agents/{name}`, an admin
// key's): disabled while it is sent; the agent as it stands is handed on, a refusal shown
// under it.
import { useState } from 'react';
import { describeError } from '../api/client';
import type { Agent } from '../api/types';
import { useServices } from '../app/services';

export interface AgentPauseButtonProps {
  name: string;
  status: string;
  onChanged: (agent: Agent) => void;
}

export function AgentPauseButton({ name, status, onChanged }: AgentPauseButtonProps) {
  const { api } = useServices();
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const next = status === 'paused' ? 'active' : 'paused';

  const send = async () => {
    if (sending) return;
    setSending(true);
    setError(null);
    try {
      onChanged(await api.setAgentStatus(name, next));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <div className="agent-pause">
      <button type="button" className={next === 'paused' ? undefined : 'primary'} disabled={sending} onClick={() => void send()}>
        {next === 'paused' ? (sending ? 'Pausing…' : 'Pause') : sending ? 'Resuming…' : 'Resume'}
      </button>
      {error && (
        <p role="alert" className="error" data-testid="agent-pause-error">
          {error}
        </p>
      )}
    </div>
  );
}
