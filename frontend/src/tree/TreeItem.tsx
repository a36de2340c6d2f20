// One node box of the tree: role, name, status glyph and word, attempts, slots, the roll-up
// of a collapsed node, what its subtree's model calls spent, and, for a node with a budget
// envelope, a bar of it along the bottom (the card's other borders coloured once it is
// nearly or wholly spent), and in its hover text what its last failed attempt failed of and
// what follows. Repaints itself from the model when its node changes.
import { memo, useCallback, useSyncExternalStore } from 'react';
import { budgetBar, budgetTitle, formatShare } from '../app/budget';
import { retryingText } from '../app/recovery';
import { usageShort } from '../app/usage';
import { BudgetBar } from '../components/BudgetBar';
import type { TreeModel } from './model';
import { NODE_HEIGHT, NODE_WIDTH } from './layout';
import { rollupText } from './rollup';
import { statusClass, statusGlyph, statusText } from './status';

export interface TreeItemProps {
  model: TreeModel;
  id: string;
  x: number;
  y: number;
  level: number;
  posinset: number;
  setsize: number;
  focused: boolean;
  selected: boolean;
  selectable: boolean;
  register: (id: string, el: HTMLDivElement | null) => void;
  onActivate: (id: string) => void;
  onToggle: (id: string) => void;
}

/** The accessible name of a node, e.g. "pm greet, succeeded, attempts 1, slots 0" ("…, awaiting approval, …"). */
export function nodeLabel(role: string, name: string, status: string, attempts: number, slots: number): string {
  return `${role} ${name}, ${statusText(status)}, attempts ${attempts}, slots ${slots}`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/*
 * The visible text is a word-for-word part of the accessible name (WCAG 2.5.3, "label in
 * name"): glyphs and punctuation aside, line 1 and 2 read like the label, and line 3 is a
 * parenthetical.
 */
function TreeItemImpl(props: TreeItemProps) {
  const { model, id, register, onActivate, onToggle } = props;
  const subscribe = useCallback((cb: () => void) => model.subscribeNode(id, cb), [model, id]);
  useSyncExternalStore(subscribe, () => model.get(id)?.rev ?? -1);
  const node = model.get(id);
  const ref = useCallback((el: HTMLDivElement | null) => register(id, el), [register, id]);
  if (!node) return null;
  const hasChildren = node.children.length > 0;
  const collapsed = hasChildren && model.isCollapsed(id);
  const rollup = collapsed ? rollupText(node.rollup) : null;
  let label = nodeLabel(node.role, node.name, node.status, node.attempts, node.slots);
  if (rollup) label += `, collapsed: ${rollup}`;
  const budget = node.budget ? budgetBar(node.budget) : null;
  const spent = node.subtreeUsage ?? node.usage;
  // The card's words, so that the visible text stays part of the name (WCAG 2.5.3): the
  // budget, which the bar shows without words, comes after them all.
  if (spent) label += `, ${usageShort(spent).replace(' · ', ', ')}`;
  if (budget) label += `, budget ${formatShare(budget.used)} used`;
  const depthClass = `depth-${Math.min(Math.max(node.depth, 0), 5)}`;
  const budgetClass = budget ? ` budget-${budget.level}` : '';
  const hover = [
    node.title !== node.name ? node.title : null,
    node.budget && budget ? budgetTitle(node.budget) : null,
    node.retry ? `retry: ${retryingText(node.retry)}` : null,
  ].filter(Boolean);
  return (
    <div
      ref={ref}
      role="treeitem"
      aria-level={props.level}
      aria-posinset={props.posinset}
      aria-setsize={props.setsize}
      aria-expanded={hasChildren ? !collapsed : undefined}
      aria-selected={props.selectable ? props.selected : undefined}
      aria-label={label}
      data-node-id={id}
      data-status={node.status}
      tabIndex={props.focused ? 0 : -1}
      data-budget={budget?.level}
      className={`tree-node ${depthClass}${budgetClass}${props.selected ? ' selected' : ''}`}
      style={{ left: props.x, top: props.y, width: NODE_WIDTH, height: NODE_HEIGHT }}
      onClick={() => onActivate(id)}
      onDoubleClick={() => hasChildren && onToggle(id)}
      title={hover.length > 0 ? hover.join('\n') : undefined}
    >
      <div className="tree-node-line">
        <span
          className="tree-toggle"
          aria-hidden="true"
          onClick={(e) => {
            e.stopPropagation();
            onActivate(id);
            if (hasChildren) onToggle(id);
          }}
        >
          {hasChildren ? (collapsed ? '▸' : '▾') : ''}
        </span>{' '}
        <span className={`tree-glyph ${statusClass(node.status)}`} aria-hidden="true">
          {statusGlyph(node.status)}
        </span>{' '}
        <span className="tree-role">{node.role}</span>{' '}
        <span className="tree-name">{node.name}</span>
      </div>{' '}
      <div className="tree-node-line tree-meta" aria-hidden="true">
        <span className={statusClass(node.status)}>{statusText(node.status)}</span>{' '}
        <span>attempts {node.attempts}</span>{' '}
        <span>slots {node.slots}</span>
      </div>{' '}
      <div className="tree-node-line tree-rollup" aria-hidden="true">
        {spent && <span className="tree-usage">{usageShort(spent)}</span>}
        <span>
          ({rollup ? `collapsed: ${rollup}` : hasChildren ? plural(node.children.length, 'child', 'children') : node.kind})
        </span>
      </div>
      {node.budget && <BudgetBar budget={node.budget} className="budget-bar-card" />}
    </div>
  );
}

export const TreeItem = memo(TreeItemImpl);
