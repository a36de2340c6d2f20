// An agent's status (active, paused, retired) as glyph plus word, coloured by status.
import { agentStatusClass, agentStatusGlyph } from '../app/agents';

export function AgentStatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${agentStatusClass(status)}`} data-agent-status={status}>
      <span aria-hidden="true">{agentStatusGlyph(status)}</span> {status}
    </span>
  );
}
