// The node panel's Agent line for a node the workforce staffs: the agent it went to (a link to
// the organisation chart with that agent selected) and why, or — while none is free — that it
// waits, and why; one that waited too long says so.
import type { DelegationView } from '../api/types';
import { delegationStateText } from '../app/agents';
import { orgHash } from '../app/route';

export function DelegationFacts({ delegation }: { delegation: DelegationView }) {
  const { state, agent, reason } = delegation;
  return (
    <>
      <dt>Agent</dt>
      <dd data-testid="node-agent" data-state={state}>
        {state === 'assigned' && agent ? (
          <a href={`#${orgHash(agent)}`} aria-label={`Agent ${agent} in the organisation`}>
            <code>{agent}</code>
          </a>
        ) : (
          <span className={state === 'timed_out' ? 'error' : 'status-awaiting_approval'}>{delegationStateText(state)}</span>
        )}
        {reason && <span className="muted">: {reason}</span>}
      </dd>
    </>
  );
}
