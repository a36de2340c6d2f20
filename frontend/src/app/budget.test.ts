// Tests of budget display: colour levels at 80 and 100 %, the bar's shares (its most spent
// dimension, reserved after spent and never past the end), figures in words ("unlimited",
// four decimals), reading API answers and frames, live spending, and merging warnings.
import { describe, expect, it } from 'vitest';
import {
  budgetBar,
  budgetLevel,
  budgetShort,
  budgetTitle,
  budgetUsed,
  isBudgetRefusal,
  mergeWarning,
  policyText,
  readBudget,
  readBudgetWarning,
  spendBudget,
} from './budget';
import { budget } from '../test/fixtures';
import type { BudgetWarningData } from '../api/types';

describe('budget levels and bars', () => {
  it('colours green below 80 %, amber from 80 % and red from 100 %', () => {
    expect(budgetLevel(0)).toBe('ok');
    expect(budgetLevel(0.799)).toBe('ok');
    expect(budgetLevel(0.8)).toBe('warning');
    expect(budgetLevel(0.999)).toBe('warning');
    expect(budgetLevel(1)).toBe('over');
    expect(budgetLevel(1.3)).toBe('over');
  });

  it('draws spent and then reserved against the allocation', () => {
    const b = budget({ cost: 0.05, tokens: null }, { cost: 0.0125, tokens: 900 }, { reserved: { cost: 0.005, tokens: 100 } });
    const bar = budgetBar(b);
    expect(bar).toMatchObject({ dimension: 'cost', level: 'ok' });
    expect(bar?.spent).toBeCloseTo(25);
    expect(bar?.reserved).toBeCloseTo(10);
  });

  it('draws the most spent dimension, keeps reserved inside the bar and a full bar past the allocation', () => {
    const tokensAhead = budget({ cost: 1, tokens: 1000 }, { cost: 0.1, tokens: 850 }, { reserved: { cost: 0, tokens: 400 } });
    const bar = budgetBar(tokensAhead);
    expect(bar).toMatchObject({ dimension: 'tokens', level: 'warning' });
    expect(bar?.spent).toBeCloseTo(85);
    expect(bar?.reserved).toBeCloseTo(15);
    const over = budgetBar(budget({ cost: 0.01, tokens: null }, { cost: 0.013, tokens: 0 }, { reserved: { cost: 0.002, tokens: 0 } }));
    expect(over).toMatchObject({ spent: 100, reserved: 0, level: 'over' });
    expect(over?.used).toBeCloseTo(1.3);
  });

  it('draws no bar when nothing is limited (an allocation of 0 limits nothing, as on the server)', () => {
    expect(budgetBar(budget({ cost: null, tokens: null }, { cost: 0.2, tokens: 10 }))).toBeNull();
    expect(budgetBar(budget({ cost: 0, tokens: null }, { cost: 0, tokens: 0 }))).toBeNull();
    expect(budgetUsed({ cost: 0, tokens: 100 }, { cost: 0.3, tokens: 25 })).toBe(0.25);
  });
});

describe('budget figures in words', () => {
  it('says spent of allocated with the share, per limited dimension', () => {
    expect(budgetShort(budget({ cost: 0.05, tokens: null }, { cost: 0.0123, tokens: 999 }))).toBe('$0.0123 of $0.0500 (25 %)');
    expect(budgetShort(budget({ cost: 0.05, tokens: 10_000 }, { cost: 0.0123, tokens: 1_234 }))).toBe(
      '$0.0123 of $0.0500 (25 %); 1,234 of 10,000 tokens (12 %)',
    );
    expect(budgetShort(budget({ cost: 1, tokens: null }, { cost: 0.0001, tokens: 0 }))).toBe('$0.0001 of $1.0000 (<1 %)');
    expect(budgetShort(budget({ cost: null, tokens: null }, { cost: 0.2, tokens: 10 }))).toBe('unlimited');
  });

  it('gives the bar’s hover text: share used, spent, reserved and allocated, unlimited dimensions named', () => {
    const b = budget({ cost: 0.05, tokens: null }, { cost: 0.0123, tokens: 1_500 }, { reserved: { cost: 0.002, tokens: 300 } });
    expect(budgetTitle(b)).toBe(
      ['budget: 25 % used', 'cost: $0.0123 spent + $0.0020 reserved of $0.0500', 'tokens: 1,500 spent + 300 reserved of unlimited'].join('\n'),
    );
  });

  it('explains the policies and recognises a refusal', () => {
    expect(policyText('fail')).toBe('the node fails');
    expect(policyText('ask_parent')).toContain('ancestors');
    expect(policyText('something_new')).toBeNull();
    expect(isBudgetRefusal("budget_exceeded: a call of cost 0.06, and the envelope of 'lead' has 0.01 left")).toBe(true);
    expect(isBudgetRefusal('attempt 1: budget_exceeded: …')).toBe(true);
    expect(isBudgetRefusal('exit code 1')).toBe(false);
    expect(isBudgetRefusal(null)).toBe(false);
  });
});

describe('reading budgets', () => {
  it('reads an API budget, null-tolerant, working out `used` when it is missing', () => {
    expect(readBudget(null)).toBeNull();
    expect(readBudget(undefined)).toBeNull();
    expect(readBudget({ spent: {} })).toBeNull();
    const b = readBudget({ allocated: { cost: 0.5, tokens: null }, spent: { cost: 0.25, tokens: 10 }, on_exhausted: 'fail' });
    expect(b).toEqual({
      allocated: { cost: 0.5, tokens: null },
      reserved: { cost: null, tokens: null },
      spent: { cost: 0.25, tokens: 10 },
      returned: { cost: null, tokens: null },
      on_exhausted: 'fail',
      used: 0.5,
    });
  });

  it('adds a call’s cost and input plus output tokens to the spending', () => {
    const b = budget({ cost: 0.1, tokens: 1000 }, { cost: 0.05, tokens: 200 });
    const after = spendBudget(b, { input_tokens: 600, output_tokens: 100, cached_tokens: 500, cost: 0.01, calls: 1 });
    expect(after.spent.cost).toBeCloseTo(0.06);
    expect(after.spent.tokens).toBe(900);
    expect(after.used).toBeCloseTo(0.9);
    expect(b.spent.tokens).toBe(200);
  });

  it('reads budget_warning frames only', () => {
    const data = { node_id: 'n1', name: 'lead', by: 'n2', percent: 90, allocated: { cost: 0.05, tokens: null }, spent: { cost: 0.046, tokens: 4000 } };
    expect(readBudgetWarning('budget_warning', data)).toEqual(data);
    expect(readBudgetWarning('llm_call', data)).toBeNull();
    expect(readBudgetWarning('budget_warning', { percent: 80 })).toBeNull();
  });

  it('keeps one warning per envelope, its highest level, the latest first', () => {
    const w = (node_id: string, percent: number): BudgetWarningData => ({
      node_id,
      name: node_id,
      by: node_id,
      percent,
      allocated: { cost: 1, tokens: null },
      spent: { cost: percent / 100, tokens: 0 },
    });
    let shown = mergeWarning([], w('root', 80));
    shown = mergeWarning(shown, w('lead', 80));
    shown = mergeWarning(shown, w('root', 90));
    expect(shown.map((x) => `${x.node_id} ${x.percent}`)).toEqual(['root 90', 'lead 80']);
    // A replayed lower level changes nothing.
    expect(mergeWarning(shown, w('root', 80))).toBe(shown);
  });
});
