// The organisation view's side panel for the selected agent (`GET /agents/{name}`, read again
// whenever the chart is): its status, role, whom it reports to (selecting that agent), its
// capabilities as chips, how it runs its work, its concurrency and load, its budget; how it
// performed over 24 h and all time; its latest tasks (links to their nodes); and Pause or
// Resume where the server says the key may change the agent (`may_manage`: an admin key).
import { useEffect, useState } from 'react';
import { describeError } from '../api/client';
import type { Agent, AgentDetail } from '../api/types';
import { executorText, formatLoad } from '../app/agents';
import { formatBudgetCost } from '../app/budget';
import { orgHash } from '../app/route';
import { useServices } from '../app/services';
import { formatCount } from '../app/usage';
import { AgentStatusBadge } from '../components/AgentStatusBadge';
import { AgentPauseButton } from './AgentPauseButton';
import { AgentPerformance } from './AgentPerformance';
import { AgentTasks } from './AgentTasks';

export interface AgentPanelProps {
  name: string;
  /** Bumped when the chart was read again: the agent is read again too. */
  version: number;
  /** The agent was paused or resumed here. */
  onChanged: (agent: Agent) => void;
}

interface Shown {
  name: string;
  detail: AgentDetail | null;
  error: string | null;
}

function budgetText(budget: Agent['budget']): string | null {
  if (!budget) return null;
  const parts = [];
  if (typeof budget.cost === 'number') parts.push(formatBudgetCost(budget.cost));
  if (typeof budget.tokens === 'number') parts.push(`${formatCount(budget.tokens)} tokens`);
  return parts.length > 0 ? parts.join(', ') : null;
}

function Facts({ agent }: { agent: AgentDetail }) {
  const budget = budgetText(agent.budget);
  return (
    <dl className="facts">
      <dt>Status</dt>
      <dd data-testid="agent-status">
        <AgentStatusBadge status={agent.status} />
      </dd>
      <dt>Role</dt>
      <dd>{agent.role || '—'}</dd>
      <dt>Department</dt>
      <dd>{agent.department || '—'}</dd>
      <dt>Reports to</dt>
      <dd>{agent.reports_to ? <a href={`#${orgHash(agent.reports_to)}`}>{agent.reports_to}</a> : 'no one'}</dd>
      <dt>Capabilities</dt>
      <dd>
        {agent.capabilities.length === 0 ? (
          '—'
        ) : (
          <ul className="chips" aria-label="Capabilities">
            {agent.capabilities.map((c) => (
              <li key={c} className="chip">
                {c}
              </li>
            ))}
          </ul>
        )}
      </dd>
      <dt>Executor</dt>
      <dd>
        <code>{executorText(agent.run)}</code>
      </dd>
      <dt>Concurrency</dt>
      <dd>{agent.concurrency}</dd>
      <dt>Running</dt>
      <dd data-testid="agent-load">{formatLoad(agent.load.running, agent.load.concurrency)}</dd>
      {agent.load.share !== undefined && (
        <>
          <dt>Places here</dt>
          <dd data-testid="agent-share">{shareText(agent.load.share, agent.load.concurrency)}</dd>
        </>
      )}
      <dt>Mailbox</dt>
      <dd data-testid="agent-mailbox">{mailboxText(agent.mailbox.open)}</dd>
      {budget && (
        <>
          <dt>Budget</dt>
          <dd>{budget}</dd>
        </>
      )}
    </dl>
  );
}

/** In a cluster, the agent's places this replica may fill, in words. */
function shareText(share: number, concurrency: number): string {
  return `${share} of ${concurrency} (this replica’s share across the cluster)`;
}

/** What waits in the agent's own mailbox, in words. */
function mailboxText(open: number): string {
  if (open === 0) return 'empty';
  return open === 1 ? '1 message open' : `${open} messages open`;
}

export function AgentPanel({ name, version, onChanged }: AgentPanelProps) {
  const { api } = useServices();
  const [shown, setShown] = useState<Shown>({ name, detail: null, error: null });
  const [own, setOwn] = useState(0);

  useEffect(() => {
    let alive = true;
    api
      .getAgent(name)
      .then((detail) => alive && setShown({ name, detail, error: null }))
      .catch((err: unknown) => alive && setShown((s) => ({ name, detail: s.name === name ? s.detail : null, error: describeError(err) })));
    return () => {
      alive = false;
    };
  }, [api, name, version, own]);

  const current = shown.name === name ? shown : null;
  const agent = current?.detail ?? null;
  const changed = (a: Agent) => {
    setOwn((n) => n + 1);
    onChanged(a);
  };

  return (
    <div className="agent-panel" data-agent={name}>
      <h2>{agent?.title || name}</h2>
      {agent?.title && agent.title !== name && (
        <p className="muted">
          <code>{name}</code>
        </p>
      )}
      {current?.error && (
        <p role="alert" className="error">
          {current.error}
        </p>
      )}
      {!agent && !current?.error && <p>Loading…</p>}
      {agent && (
        <>
          <Facts agent={agent} />
          {agent.may_manage && agent.status !== 'retired' && <AgentPauseButton name={name} status={agent.status} onChanged={changed} />}
          <AgentPerformance day={agent.performance.day} all={agent.performance.all} />
          <AgentTasks tasks={agent.recent_tasks} />
        </>
      )}
    </div>
  );
}
