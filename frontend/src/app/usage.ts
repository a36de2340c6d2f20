// What model calls spent, for display: compact token counts ("12.3k"), costs ("$0.042"),
// sums, and a usage read from an `llm_call` frame or an API answer that may lack one.
import type { Usage } from '../api/types';

const THOUSAND = 1_000;
const MILLION = 1_000_000;
const BILLION = 1_000_000_000;
/** Below this many units (k, M, B), one decimal is shown: 12.3k, but 123k. */
const ONE_DECIMAL_BELOW = 100;

export const NO_USAGE: Usage = { input_tokens: 0, output_tokens: 0, cached_tokens: 0, cost: 0, calls: 0 };

/** A count in a unit: one decimal under 100 units, none above; trailing ".0" dropped. */
function inUnit(n: number, unit: number, suffix: string): string {
  const v = n / unit;
  const text = v < ONE_DECIMAL_BELOW ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v).toString();
  return `${text}${suffix}`;
}

/** Tokens, compact: 950, 1.2k, 12.3k, 123k, 1.5M, 2B. */
export function formatTokens(n: number): string {
  const v = Math.max(0, Math.round(n));
  // Rounding may carry into the next unit (999,960 is 1M, not 1000k).
  if (v < THOUSAND) return String(v);
  if (Math.round(v / THOUSAND) < THOUSAND) return inUnit(v, THOUSAND, 'k');
  if (Math.round(v / MILLION) < THOUSAND) return inUnit(v, MILLION, 'M');
  return inUnit(v, BILLION, 'B');
}

/** A whole number with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const CENT = 0.01;
const SMALLEST_SHOWN = 0.0001;

/** A cost at the configured prices: $1.23, $0.042, $0.0042, <$0.0001, $0. */
export function formatCost(cost: number): string {
  if (!Number.isFinite(cost) || cost <= 0) return '$0';
  if (cost >= 1) return `$${cost.toFixed(2)}`;
  if (cost >= CENT) return `$${cost.toFixed(3)}`;
  if (cost >= SMALLEST_SHOWN) return `$${cost.toFixed(4)}`;
  return '<$0.0001';
}

/** Input plus output tokens (cached tokens are part of the input). */
export function totalTokens(u: Usage): number {
  return u.input_tokens + u.output_tokens;
}

/** The short form on a tree card: "12.3k tok · $0.042". */
export function usageShort(u: Usage): string {
  return `${formatTokens(totalTokens(u))} tok · ${formatCost(u.cost)}`;
}

/** Tokens in words: "12,345 in / 3,210 out / 1,000 cached" (cached only when there are some). */
export function tokensLong(u: Pick<Usage, 'input_tokens' | 'output_tokens' | 'cached_tokens'>): string {
  const cached = u.cached_tokens > 0 ? ` / ${formatCount(u.cached_tokens)} cached` : '';
  return `${formatCount(u.input_tokens)} in / ${formatCount(u.output_tokens)} out${cached}`;
}

export function addUsage(a: Usage | null | undefined, b: Usage): Usage {
  const base = a ?? NO_USAGE;
  return {
    input_tokens: base.input_tokens + b.input_tokens,
    output_tokens: base.output_tokens + b.output_tokens,
    cached_tokens: base.cached_tokens + b.cached_tokens,
    cost: base.cost + b.cost,
    calls: base.calls + b.calls,
  };
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

/** A usage from an API answer, or null when there is none (older servers send no field). */
export function readUsage(v: unknown): Usage | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return {
    input_tokens: count(o.input_tokens),
    output_tokens: count(o.output_tokens),
    cached_tokens: count(o.cached_tokens),
    cost: count(o.cost),
    calls: count(o.calls),
  };
}

/** What one `llm_call` frame adds: its tokens and cost, and one call. */
export function callUsage(data: Record<string, unknown>): Usage {
  return { ...(readUsage(data) ?? NO_USAGE), calls: 1 };
}
