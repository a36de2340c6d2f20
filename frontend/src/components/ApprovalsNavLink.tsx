// The main navigation's link to the approvals inbox, with a badge counting the pending
// requests the key may decide now (`GET /approvals?state=pending`, which is only those), kept
// fresh from the event stream: read again after approval frames, not polled. No badge at 0.
import { useApprovals } from '../app/useApprovals';

/** The most requests counted; past it the badge reads "100+". */
export const BADGE_LIMIT = 100;

export function ApprovalsNavLink({ href, current }: { href: string; current: boolean }) {
  const { approvals, more } = useApprovals({ state: 'pending', limit: BADGE_LIMIT });
  const count = approvals?.length ?? 0;
  return (
    <a href={href} aria-current={current ? 'page' : undefined} data-testid="nav-approvals">
      Approvals
      {count > 0 && (
        <>
          {' '}
          <span className="nav-badge" data-testid="approvals-badge" data-count={count}>
            {more ? `${count}+` : count}{' '}
            <span className="visually-hidden">waiting for you</span>
          </span>
        </>
      )}
    </a>
  );
}
