// A node's budget envelope in its panel: the bar, what it was allocated ("unlimited" for a
// dimension without a limit), what calls in flight reserved, what its subtree spent and what
// it gave back when it ended, in cost and tokens, the share used and what it does when a call
// cannot be covered.
import type { BudgetFigures, BudgetView } from '../api/types';
import { budgetUsed, figureText, formatShare, policyText } from '../app/budget';
import { BudgetBar } from './BudgetBar';

const ROWS: readonly { key: 'allocated' | 'reserved' | 'spent' | 'returned'; text: string }[] = [
  { key: 'allocated', text: 'Allocated' },
  { key: 'reserved', text: 'Reserved' },
  { key: 'spent', text: 'Spent' },
  { key: 'returned', text: 'Returned' },
];

function Row({ text, figures, none }: { text: string; figures: BudgetFigures; none: string }) {
  return (
    <tr>
      <th scope="row">{text}</th>
      <td>{figureText(figures.cost, 'cost', none)}</td>
      <td>{figureText(figures.tokens, 'tokens', none)}</td>
    </tr>
  );
}

export function BudgetSection({ budget }: { budget: BudgetView }) {
  const used = budgetUsed(budget.allocated, budget.spent);
  const policy = policyText(budget.on_exhausted);
  return (
    <section aria-labelledby="budget-heading" data-testid="node-budget">
      <h3 id="budget-heading">Budget</h3>
      <BudgetBar budget={budget} label="Budget used" className="budget-bar-inline" />
      <table className="budget-table">
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Envelope</span>
            </th>
            <th scope="col">Cost</th>
            <th scope="col">Tokens</th>
          </tr>
        </thead>
        <tbody>
          {ROWS.map(({ key, text }) => (
            <Row key={key} text={text} figures={budget[key]} none={key === 'allocated' ? 'unlimited' : '—'} />
          ))}
        </tbody>
      </table>
      <dl className="facts">
        <dt>Used</dt>
        <dd data-testid="budget-used">{used === null ? 'nothing limited' : `${formatShare(used)} (its most spent dimension)`}</dd>
        <dt>When exhausted</dt>
        <dd>
          <code>{budget.on_exhausted}</code>
          {policy && `: ${policy}`}
        </dd>
      </dl>
    </section>
  );
}
