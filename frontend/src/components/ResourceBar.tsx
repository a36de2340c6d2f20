// One depth's quota bar: slots in use against the quota, marks at 80 % and 90 %, the
// pending count, numbers as text (with this replica's share when, in a cluster, it holds less
// than the whole quota), and a flash while a resource_warning is fresh.
import type { DepthStats } from '../api/types';

/** Usage fractions SPEC §1 warns at. */
export const WARN_FRACTION = 0.8;
export const CRITICAL_FRACTION = 0.9;
const PERCENT = 100;

export function usageLevel(inUse: number, quota: number): 'ok' | 'warning' | 'critical' {
  if (quota <= 0) return 'ok';
  const f = inUse / quota;
  if (f >= CRITICAL_FRACTION) return 'critical';
  if (f >= WARN_FRACTION) return 'warning';
  return 'ok';
}

export function meterLabel(depth: number, role: string, inUse: number, quota: number): string {
  return `depth ${depth} (${role}) ${inUse} of ${quota} slots in use`;
}

export function ResourceBar({ stats, flashing }: { stats: DepthStats; flashing: boolean }) {
  const { depth, role, quota, in_use: inUse, pending, share } = stats;
  const shared = share !== undefined && share < quota;
  const level = usageLevel(inUse, quota);
  const fill = quota > 0 ? Math.min(1, inUse / quota) * PERCENT : 0;
  const levelText = level === 'ok' ? '' : level === 'warning' ? ' — above 80 %' : ' — above 90 %';
  return (
    <div className={`resource-row${flashing ? ' flash' : ''}`} data-testid={`depth-${depth}`}>
      <div className="resource-name">
        depth {depth} <span className="muted">({role})</span>
      </div>
      <div
        role="meter"
        aria-valuemin={0}
        aria-valuemax={quota}
        aria-valuenow={inUse}
        aria-label={meterLabel(depth, role, inUse, quota)}
        data-depth={depth}
        data-in-use={inUse}
        className={`meter meter-${level}`}
      >
        <div className="meter-fill" style={{ width: `${fill}%` }} />
        <div className="meter-mark" data-mark="80" style={{ left: `${WARN_FRACTION * PERCENT}%` }} aria-hidden="true" />
        <div className="meter-mark" data-mark="90" style={{ left: `${CRITICAL_FRACTION * PERCENT}%` }} aria-hidden="true" />
      </div>
      <div className="resource-numbers">
        <strong>
          {inUse} / {quota}
        </strong>{' '}
        in use{shared && <span title="This replica's share of the quota, which holds across the cluster"> (share {share})</span>} ·{' '}
        {pending} pending{levelText}
      </div>
    </div>
  );
}
