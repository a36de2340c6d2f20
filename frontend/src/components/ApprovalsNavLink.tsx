// The main navigation's link to the approvals inbox, with a badge counting the pending
// requests the key may decide now (`GET /approvals?state=pending`, which is only those), kept
// fresh from the event stream: read again after approval frames, not polled. No badge at 0.
import { useApprovals } from '../app/useApprovals';
import { BADGE_LIMIT, BadgeNavLink } from './BadgeNavLink';

export function ApprovalsNavLink({ href, current }: { href: string; current: boolean }) {
  const { approvals, more } = useApprovals({ state: 'pending', limit: BADGE_LIMIT });
  return (
    <BadgeNavLink
      href={href}
      current={current}
      label="Approvals"
      testId="nav-approvals"
      count={approvals?.length ?? 0}
      more={more}
      counted="waiting for you"
      badgeTestId="approvals-badge"
    />
  );
}
