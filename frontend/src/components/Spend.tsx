// What a node's model calls spent, and (for a node with children) its whole subtree: tokens
// in, out and cached, cost at the configured prices, and the number of calls.
import type { Usage } from '../api/types';
import { formatCost, formatCount, tokensLong } from '../app/usage';

function Facts({ prefix, usage }: { prefix: string; usage: Usage }) {
  return (
    <>
      <dt>{prefix ? `${prefix} tokens` : 'Tokens'}</dt>
      <dd>{tokensLong(usage)}</dd>
      <dt>{prefix ? `${prefix} cost` : 'Cost'}</dt>
      <dd>{formatCost(usage.cost)}</dd>
      <dt>{prefix ? `${prefix} model calls` : 'Model calls'}</dt>
      <dd>{formatCount(usage.calls)}</dd>
    </>
  );
}

export function Spend({ usage, subtree }: { usage: Usage | null; subtree: Usage | null }) {
  const showSubtree = subtree !== null && (usage === null || subtree.calls !== usage.calls || subtree.cost !== usage.cost);
  return (
    <section aria-labelledby="spend-heading">
      <h3 id="spend-heading">Model spend</h3>
      <dl className="facts" data-testid="node-spend">
        {usage && <Facts prefix="" usage={usage} />}
        {showSubtree && <Facts prefix="Subtree" usage={subtree} />}
      </dl>
    </section>
  );
}
