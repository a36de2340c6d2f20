// The main navigation's link to the alerts view, with a badge counting the open alerts
// (`GET /alerts?open=true`), kept fresh from the event stream: changed by alert frames and
// read again after them, not polled. No badge at 0.
import { useAlerts } from '../app/useAlerts';
import { BADGE_LIMIT, BadgeNavLink } from './BadgeNavLink';

export function AlertsNavLink({ href, current }: { href: string; current: boolean }) {
  const { alerts, more } = useAlerts({ open: true, limit: BADGE_LIMIT });
  return (
    <BadgeNavLink
      href={href}
      current={current}
      label="Alerts"
      testId="nav-alerts"
      count={alerts?.length ?? 0}
      more={more}
      counted="open"
      badgeTestId="alerts-badge"
      badgeClass="nav-badge-alert"
    />
  );
}
