// The node panel's Alerts section for a node an alert concerns (a straggler): the rule in
// words, its message, what it saw, and when it fired (resolved ones say so).
import { useId } from 'react';
import type { AlertView } from '../api/types';
import { relativeTime } from '../app/approvals';
import { alertDetail, ruleText } from '../app/alerts';
import { formatTime } from '../app/format';
import { useNow } from '../timeline/useNow';
import { APPROVAL_CLOCK_MS } from './ApprovalSection';

export function NodeAlerts({ alerts }: { alerts: readonly AlertView[] }) {
  const headingId = useId();
  const now = useNow(alerts.length > 0, APPROVAL_CLOCK_MS);
  if (alerts.length === 0) return null;
  return (
    <section className="node-alerts" aria-labelledby={headingId} data-testid="node-alerts">
      <h3 id={headingId}>Alerts</h3>
      <ul>
        {alerts.map((a) => {
          const detail = alertDetail(a);
          return (
            <li key={a.id} data-alert-id={a.id} data-rule={a.rule}>
              <strong>{ruleText(a.rule)}</strong>
              {!a.open && <span className="muted"> (resolved)</span>}: {a.message}
              {detail && <span className="muted"> — {detail}</span>}{' '}
              <time dateTime={a.created_at} title={formatTime(a.created_at)}>
                ({relativeTime(a.created_at, now)})
              </time>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
