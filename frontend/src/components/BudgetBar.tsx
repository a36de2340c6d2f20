// A budget envelope's bar: what its most spent dimension has spent (solid) and has reserved
// for calls in flight (lighter) against what it was allocated, coloured by how much is used
// (green, amber from 80 %, red from 100 %), with the figures as hover text. On a tree card it
// is decoration (the card's name says the share); elsewhere, with `label`, it is a meter.
import type { BudgetView } from '../api/types';
import { budgetBar, budgetTitle, formatShare } from '../app/budget';

const PERCENT = 100;

export interface BudgetBarProps {
  budget: BudgetView;
  /** The meter's accessible name; without one the bar is hidden from assistive technology. */
  label?: string;
  className?: string;
}

export function BudgetBar({ budget, label, className }: BudgetBarProps) {
  const bar = budgetBar(budget);
  if (!bar) return null;
  const meter = label
    ? {
        role: 'meter',
        'aria-label': label,
        'aria-valuemin': 0,
        'aria-valuemax': PERCENT,
        'aria-valuenow': Math.min(PERCENT, Math.round(bar.used * PERCENT)),
        'aria-valuetext': `${formatShare(bar.used)} used`,
      }
    : { 'aria-hidden': true };
  return (
    <div
      className={`budget-bar budget-${bar.level}${className ? ` ${className}` : ''}`}
      data-level={bar.level}
      data-dimension={bar.dimension}
      title={budgetTitle(budget)}
      {...meter}
    >
      <div className="budget-spent" style={{ width: `${bar.spent}%` }} />
      {bar.reserved > 0 && <div className="budget-reserved" style={{ left: `${bar.spent}%`, width: `${bar.reserved}%` }} />}
    </div>
  );
}
