// The budget warnings a job sent while it was watched: one line per envelope at the highest
// level it crossed (80, 90 or 100 %), its spending against its allocation, whose spending
// crossed it, a link selecting the envelope's node, and a button to dismiss them. A polite
// live region, present before any warning, so that each one is announced.
import type { BudgetWarningData } from '../api/types';
import { budgetLevel, budgetShort } from '../app/budget';

const PERCENT = 100;

export interface BudgetWarningsProps {
  warnings: BudgetWarningData[];
  /** A node's name, when the tree holds it. */
  nameOf: (id: string) => string | undefined;
  onSelect?: (id: string) => void;
  onDismiss: () => void;
}

/** One warning in words, e.g. "Budget of lead at 90 %: $0.0450 of $0.0500 (90 %), crossed by writer". */
export function warningText(w: BudgetWarningData, nameOf: (id: string) => string | undefined): string {
  const figures = budgetShort({
    allocated: w.allocated,
    spent: w.spent,
    reserved: { cost: null, tokens: null },
    returned: { cost: null, tokens: null },
    on_exhausted: '',
    used: null,
  });
  const by = w.by !== w.node_id ? `, crossed by ${nameOf(w.by) ?? w.by}` : '';
  return `Budget of ${w.name} at ${w.percent} %: ${figures}${by}`;
}

export function BudgetWarnings({ warnings, nameOf, onSelect, onDismiss }: BudgetWarningsProps) {
  return (
    <div role="status" className="budget-warnings" data-testid="budget-warnings">
      {warnings.length > 0 && (
        <div className="budget-warnings-box">
          <ul>
            {warnings.map((w) => (
              <li key={w.node_id} className={`budget-warning-${budgetLevel(w.percent / PERCENT)}`} data-envelope={w.node_id} data-percent={w.percent}>
                <span aria-hidden="true">⚠ </span>
                {warningText(w, nameOf)}
                {onSelect && nameOf(w.node_id) !== undefined && (
                  <>
                    {' '}
                    <button type="button" className="link-button" onClick={() => onSelect(w.node_id)}>
                      Select {w.name}
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
          <button type="button" onClick={onDismiss}>
            Dismiss budget warnings
          </button>
        </div>
      )}
    </div>
  );
}
