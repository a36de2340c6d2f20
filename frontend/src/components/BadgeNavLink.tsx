// A link of the main navigation with a badge counting what waits behind it (up to a limit,
// past which it reads "100+"), its words for screen readers after the count. No badge at 0.

/** The most items counted; past it the badge reads "100+". */
export const BADGE_LIMIT = 100;

export interface BadgeNavLinkProps {
  href: string;
  current: boolean;
  /** The link's text. */
  label: string;
  testId: string;
  count: number;
  /** Whether there are more than `count` (the badge reads "count+"). */
  more: boolean;
  /** What is counted, read after the count ("3 open"), not shown. */
  counted: string;
  badgeTestId: string;
  /** A class added to the badge's (its colours). */
  badgeClass?: string;
}

export function BadgeNavLink({ href, current, label, testId, count, more, counted, badgeTestId, badgeClass }: BadgeNavLinkProps) {
  return (
    <a href={href} aria-current={current ? 'page' : undefined} data-testid={testId}>
      {label}
      {count > 0 && (
        <>
          {' '}
          <span className={badgeClass ? `nav-badge ${badgeClass}` : 'nav-badge'} data-testid={badgeTestId} data-count={count}>
            {more ? `${count}+` : count} <span className="visually-hidden">{counted}</span>
          </span>
        </>
      )}
    </a>
  );
}
