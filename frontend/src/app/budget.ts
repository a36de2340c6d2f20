// Budget envelopes (issue 14), for display: a budget read from an API answer or a frame that
// may lack one, how much of it is used and how that is coloured, its figures in words (cost
// to four decimals, tokens with separators, "unlimited"), a model call's spending added to
// it live, and the `budget_warning` frames.
import type { BudgetFigures, BudgetView, BudgetWarningData, OnBudgetExhausted, Usage } from '../api/types';
import { formatCount, totalTokens } from './usage';

/** Shares of an allocation at which an envelope is shown as nearly spent, and as spent (the server warns at 80, 90 and 100 %). */
export const BUDGET_WARN_FRACTION = 0.8;
export const BUDGET_SPENT_FRACTION = 1;
const PERCENT = 100;
/** Decimals of a budget's cost: small budgets are the point. */
const COST_DECIMALS = 4;

/** How far an envelope is spent: under 80 %, from 80 % to 100 %, at or over 100 %. */
export type BudgetLevel = 'ok' | 'warning' | 'over';

export function budgetLevel(used: number): BudgetLevel {
  if (used >= BUDGET_SPENT_FRACTION) return 'over';
  if (used >= BUDGET_WARN_FRACTION) return 'warning';
  return 'ok';
}

function optional(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function figures(v: unknown): BudgetFigures {
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  return { cost: optional(o.cost), tokens: optional(o.tokens) };
}

/** Spent over allocated per limited dimension (an allocation of 0 limits nothing, as on the server). */
function shares(allocated: BudgetFigures, amount: BudgetFigures): { cost: number | null; tokens: number | null } {
  const share = (a: number | null, x: number | null) => (a !== null && a > 0 ? (x ?? 0) / a : null);
  return { cost: share(allocated.cost, amount.cost), tokens: share(allocated.tokens, amount.tokens) };
}

/** The share spent in the most spent dimension; null when nothing is limited (the server's `used`). */
export function budgetUsed(allocated: BudgetFigures, spent: BudgetFigures): number | null {
  const { cost, tokens } = shares(allocated, spent);
  if (cost === null) return tokens;
  if (tokens === null) return cost;
  return Math.max(cost, tokens);
}

/** A budget from an API answer, or null when there is none (older servers send no field). */
export function readBudget(v: unknown): BudgetView | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (!o.allocated || typeof o.allocated !== 'object') return null;
  const allocated = figures(o.allocated);
  const spent = figures(o.spent);
  return {
    allocated,
    reserved: figures(o.reserved),
    spent,
    returned: figures(o.returned),
    on_exhausted: typeof o.on_exhausted === 'string' ? o.on_exhausted : 'ask_parent',
    used: optional(o.used) ?? budgetUsed(allocated, spent),
  };
}

/** A budget with one model call's (or reported usage's) tokens and cost spent too. */
export function spendBudget(budget: BudgetView, usage: Usage): BudgetView {
  const spent = {
    cost: (budget.spent.cost ?? 0) + usage.cost,
    tokens: (budget.spent.tokens ?? 0) + totalTokens(usage),
  };
  return { ...budget, spent, used: budgetUsed(budget.allocated, spent) };
}

/** What a budget bar draws, in percent of its width, and its colour level. */
export interface BudgetBarShares {
  /** Spent, 0–100. */
  spent: number;
  /** Reserved by calls in flight, drawn after the spent part, never past the end. */
  reserved: number;
  /** The share used (may exceed 1). */
  used: number;
  level: BudgetLevel;
  /** The dimension drawn: the most spent one. */
  dimension: 'cost' | 'tokens';
}

/** Widths are rounded to a tenth of a percent: finer is invisible, and floats would show (39.99999999999999 %). */
const WIDTH_STEPS_PER_PERCENT = 10;

function clampPercent(share: number): number {
  const percent = Math.round(share * PERCENT * WIDTH_STEPS_PER_PERCENT) / WIDTH_STEPS_PER_PERCENT;
  return Math.min(PERCENT, Math.max(0, percent));
}

/** The bar of a budget: its most spent dimension; null when nothing is limited. */
export function budgetBar(budget: BudgetView): BudgetBarShares | null {
  const spent = shares(budget.allocated, budget.spent);
  const reserved = shares(budget.allocated, budget.reserved);
  const candidates = (['cost', 'tokens'] as const).filter((d) => spent[d] !== null);
  if (candidates.length === 0) return null;
  // Most spent first; on a tie, the one with more reserved (cost when both are equal).
  const dimension = candidates.reduce((best, d) => {
    const [a, b] = [spent[d] ?? 0, spent[best] ?? 0];
    return a > b || (a === b && (reserved[d] ?? 0) > (reserved[best] ?? 0)) ? d : best;
  });
  const used = spent[dimension] ?? 0;
  const spentPercent = clampPercent(used);
  const reservedPercent = Math.min(PERCENT - spentPercent, clampPercent(reserved[dimension] ?? 0));
  return { spent: spentPercent, reserved: reservedPercent, used, level: budgetLevel(used), dimension };
}

/** A budget's cost: $0.0123 (four decimals whatever the size). */
export function formatBudgetCost(cost: number): string {
  return `$${Math.max(0, cost).toFixed(COST_DECIMALS)}`;
}

/** A share in percent, whole: "25 %", "<1 %" for a little above nothing, "130 %" past the allocation. */
export function formatShare(share: number): string {
  const percent = share * PERCENT;
  if (percent > 0 && percent < 1) return '<1 %';
  return `${Math.round(percent)} %`;
}

/** One figure: cost to four decimals or tokens with separators; null reads as `none` ("unlimited" in `allocated`). */
export function figureText(value: number | null, dimension: 'cost' | 'tokens', none = '—'): string {
  if (value === null) return none;
  return dimension === 'cost' ? formatBudgetCost(value) : formatCount(value);
}

/**
 * Spent against allocated in each limited dimension, e.g. "$0.0123 of $0.0500 (25 %)" or
 * "$0.0123 of $0.0500 (25 %); 1,234 of 10,000 tokens (12 %)"; "unlimited" when nothing is limited.
 */
export function budgetShort(budget: BudgetView): string {
  const share = shares(budget.allocated, budget.spent);
  const parts: string[] = [];
  if (share.cost !== null && budget.allocated.cost !== null) {
    parts.push(`${formatBudgetCost(budget.spent.cost ?? 0)} of ${formatBudgetCost(budget.allocated.cost)} (${formatShare(share.cost)})`);
  }
  if (share.tokens !== null && budget.allocated.tokens !== null) {
    parts.push(`${formatCount(budget.spent.tokens ?? 0)} of ${formatCount(budget.allocated.tokens)} tokens (${formatShare(share.tokens)})`);
  }
  return parts.length > 0 ? parts.join('; ') : 'unlimited';
}

/** Hover text of a budget bar: the share used, then spent, reserved and allocated per dimension. */
export function budgetTitle(budget: BudgetView): string {
  const used = budgetUsed(budget.allocated, budget.spent);
  const line = (dimension: 'cost' | 'tokens') =>
    `${dimension}: ${figureText(budget.spent[dimension] ?? 0, dimension)} spent + ${figureText(budget.reserved[dimension] ?? 0, dimension)} reserved of ${figureText(budget.allocated[dimension], dimension, 'unlimited')}`;
  return [`budget: ${used === null ? 'unlimited' : `${formatShare(used)} used`}`, line('cost'), line('tokens')].join('\n');
}

const POLICIES: Record<OnBudgetExhausted, string> = {
  fail: 'the node fails',
  ask_parent: 'its ancestors top it up, nearest first',
  ask_human: 'a person is asked (until approvals exist, the node fails)',
};

/** What happens when the envelope cannot cover a call, in words; null for a policy this dashboard does not know. */
export function policyText(policy: string): string | null {
  return Object.hasOwn(POLICIES, policy) ? POLICIES[policy as OnBudgetExhausted] : null;
}

/** How the error of a node whose call its budget could not cover reads (it may be quoted further in). */
const REFUSAL_MARK = 'budget_exceeded:';

export function isBudgetRefusal(error: string | null | undefined): boolean {
  return !!error && error.includes(REFUSAL_MARK);
}

/** The event kind an envelope crossing 80, 90 or 100 % sends. */
export const BUDGET_WARNING = 'budget_warning';

/** A `budget_warning` frame's data, or null when it is not one (or lacks the envelope's id). */
export function readBudgetWarning(type: string, data: Record<string, unknown>): BudgetWarningData | null {
  if (type !== BUDGET_WARNING || typeof data.node_id !== 'string') return null;
  return {
    node_id: data.node_id,
    name: typeof data.name === 'string' ? data.name : data.node_id,
    by: typeof data.by === 'string' ? data.by : data.node_id,
    percent: optional(data.percent) ?? 0,
    allocated: figures(data.allocated),
    spent: figures(data.spent),
  };
}

/** Adds a warning to those shown: one per envelope, its highest level, the latest first. */
export function mergeWarning(shown: BudgetWarningData[], warning: BudgetWarningData): BudgetWarningData[] {
  const old = shown.find((w) => w.node_id === warning.node_id);
  if (old && old.percent > warning.percent) return shown;
  return [warning, ...shown.filter((w) => w.node_id !== warning.node_id)];
}
