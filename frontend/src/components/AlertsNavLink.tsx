// The main navigation's link to the alerts view, with a badge counting the open alerts
// (`GET /alerts?open=true`), kept fresh from the event stream: changed by alert frames and
// read again after them, not polled. No badge at 0.
import { useAlerts } from '../app/useAlerts';
import { BADGE_LIMIT } from './ApprovalsNavLink';

export function AlertsNavLink({ href, current }: { href: string; current: boolean }) {
  const { alerts, more } = useAlerts({ open: true, limit: BADGE_LIMIT });
  const count = alerts?.length ?? 0;
  return (
    <a href={href} aria-current={current ? 'page' : undefined} data-testid="nav-alerts">
      Alerts
      {count > 0 && (
        <>
          {' '}
          <span className="nav-badge nav-badge-alert" data-testid="alerts-badge" data-count={count}>
            {more ? `${count}+` : count} <span className="visually-hidden">open</span>
          </span>
        </>
      )}
    </a>
  );
}
