// An agent's latest tasks, newest first: each node a link to its job with the node's panel
// open, its status, when it was assigned, how long it ran, and why it went to this agent.
import { useId } from 'react';
import type { AgentTask } from '../api/types';
import { formatDuration, formatTime } from '../app/format';
import { nodeHash } from '../app/route';
import { StatusBadge } from '../components/StatusBadge';

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

export function AgentTasks({ tasks }: { tasks: readonly AgentTask[] }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId}>
      <h3 id={headingId}>Recent tasks</h3>
      {tasks.length === 0 ? (
        <p className="muted" data-testid="agent-no-tasks">
          No task yet.
        </p>
      ) : (
        <ul className="agent-tasks" data-testid="agent-tasks">
          {tasks.map((t) => (
            <li key={`${t.job_id}/${t.node_id}`} data-testid="agent-task" data-status={t.status}>
              <a href={`#${nodeHash(t.job_id, t.node_id)}`}>
                <code>{t.node_name}</code>
              </a>{' '}
              <StatusBadge status={t.status} />
              <span className="small muted">
                {' '}
                assigned <time dateTime={isoOf(t.assigned_ms)}>{formatTime(isoOf(t.assigned_ms))}</time>
                {t.started_ms !== null && t.finished_ms !== null && `, ran ${formatDuration(t.finished_ms - t.started_ms)}`}
              </span>
              {t.reason && <span className="agent-task-reason small">{t.reason}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
