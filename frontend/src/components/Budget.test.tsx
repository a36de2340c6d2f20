// Tests of the budget pieces: the bar (widths of spent and reserved, colour level, hover
// figures, hidden on a card and a meter with a name elsewhere), the panel's section (every
// figure, "unlimited", the policy), the warnings list (words, selecting, dismissing), and axe
// over all of them and a tree card with a bar.
import { render, screen, within } from '@testing-library/react';
import axe from 'axe-core';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { BudgetWarningData } from '../api/types';
import { budget, JOB, smallTree } from '../test/fixtures';
import { TreeModel } from '../tree/model';
import { TreeView } from '../tree/TreeView';
import { BudgetBar } from './BudgetBar';
import { BudgetSection } from './BudgetSection';
import { BudgetWarnings } from './BudgetWarnings';

const bar = () => document.querySelector<HTMLElement>('.budget-bar');
const part = (name: string) => document.querySelector<HTMLElement>(`.budget-${name}`);

describe('BudgetBar', () => {
  it('draws spent solid and reserved after it, in proportion to the allocation, green below 80 %', () => {
    render(<BudgetBar budget={budget({ cost: 0.05, tokens: null }, { cost: 0.02, tokens: 700 }, { reserved: { cost: 0.005, tokens: 0 } })} />);
    expect(bar()?.dataset.level).toBe('ok');
    expect(bar()?.classList.contains('budget-ok')).toBe(true);
    expect(part('spent')?.style.width).toBe('40%');
    expect(part('reserved')?.style.left).toBe('40%');
    expect(part('reserved')?.style.width).toBe('10%');
    expect(bar()?.getAttribute('aria-hidden')).toBe('true');
    expect(bar()?.title).toBe('budget: 40 % used\ncost: $0.0200 spent + $0.0050 reserved of $0.0500\ntokens: 700 spent + 0 reserved of unlimited');
  });

  it('turns amber from 80 % and red, full, from 100 %', () => {
    const { rerender } = render(<BudgetBar budget={budget({ cost: null, tokens: 1000 }, { cost: 0.5, tokens: 800 })} />);
    expect(bar()?.dataset.level).toBe('warning');
    expect(bar()?.dataset.dimension).toBe('tokens');
    expect(part('spent')?.style.width).toBe('80%');
    expect(part('reserved')).toBeNull();
    rerender(<BudgetBar budget={budget({ cost: 0.01, tokens: null }, { cost: 0.012, tokens: 0 }, { reserved: { cost: 0.001, tokens: 0 } })} />);
    expect(bar()?.dataset.level).toBe('over');
    expect(part('spent')?.style.width).toBe('100%');
    expect(part('reserved')).toBeNull();
  });

  it('is a named meter when given a label, and absent when nothing is limited', () => {
    const { rerender } = render(<BudgetBar budget={budget({ cost: 0.01, tokens: null }, { cost: 0.013, tokens: 0 })} label="Budget used" />);
    const meter = screen.getByRole('meter', { name: 'Budget used' });
    expect(meter.getAttribute('aria-valuenow')).toBe('100');
    expect(meter.getAttribute('aria-valuetext')).toBe('130 % used');
    rerender(<BudgetBar budget={budget({ cost: null, tokens: null }, { cost: 0.2, tokens: 5 })} label="Budget used" />);
    expect(bar()).toBeNull();
  });
});

describe('BudgetSection', () => {
  it('shows allocated, reserved, spent and returned in cost and tokens, unlimited dimensions, the share and the policy', () => {
    const b = budget(
      { cost: 0.05, tokens: null },
      { cost: 0.0123, tokens: 1_234 },
      { reserved: { cost: 0.002, tokens: 150 }, returned: { cost: 0.0377, tokens: 0 }, on_exhausted: 'fail' },
    );
    render(<BudgetSection budget={b} />);
    const section = screen.getByRole('region', { name: 'Budget' });
    const row = (name: string) =>
      within(section)
        .getByRole('rowheader', { name })
        .closest('tr')
        ?.querySelectorAll('td');
    const cells = (name: string) => [...(row(name) ?? [])].map((td) => td.textContent);
    expect(cells('Allocated')).toEqual(['$0.0500', 'unlimited']);
    expect(cells('Reserved')).toEqual(['$0.0020', '150']);
    expect(cells('Spent')).toEqual(['$0.0123', '1,234']);
    expect(cells('Returned')).toEqual(['$0.0377', '0']);
    expect(within(section).getByRole('columnheader', { name: 'Tokens' })).toBeTruthy();
    expect(within(section).getByTestId('budget-used').textContent).toBe('25 % (its most spent dimension)');
    expect(section.textContent).toContain('fail: the node fails');
    expect(within(section).getByRole('meter', { name: 'Budget used' }).getAttribute('aria-valuenow')).toBe('25');
  });
});

describe('BudgetWarnings', () => {
  const warning = (over: Partial<BudgetWarningData> = {}): BudgetWarningData => ({
    node_id: 'lead-id',
    name: 'lead',
    by: 'writer-id',
    percent: 90,
    allocated: { cost: 0.05, tokens: null },
    spent: { cost: 0.046, tokens: 4_000 },
    ...over,
  });

  it('is an empty live region until a warning comes', () => {
    render(<BudgetWarnings warnings={[]} nameOf={() => undefined} onDismiss={() => undefined} />);
    expect(screen.getByRole('status').textContent).toBe('');
  });

  it('says which envelope crossed which level, by whose spending, and selects or dismisses', async () => {
    const user = userEvent.setup();
    const onSelect = vi.fn();
    const onDismiss = vi.fn();
    const names: Record<string, string> = { 'lead-id': 'lead', 'writer-id': 'writer' };
    render(
      <BudgetWarnings
        warnings={[warning(), warning({ node_id: 'root-id', name: 'root', by: 'root-id', percent: 100, spent: { cost: 0.05, tokens: 0 } })]}
        nameOf={(id) => names[id]}
        onSelect={onSelect}
        onDismiss={onDismiss}
      />,
    );
    const items = within(screen.getByRole('status')).getAllByRole('listitem');
    expect(items[0].textContent).toBe('⚠ Budget of lead at 90 %: $0.0460 of $0.0500 (92 %), crossed by writer Select lead');
    // The root is not in the tree (nameOf says nothing): no button to select it.
    expect(items[1].textContent).toBe('⚠ Budget of root at 100 %: $0.0500 of $0.0500 (100 %)');
    expect(items[1].className).toBe('budget-warning-over');
    await user.click(screen.getByRole('button', { name: 'Select lead' }));
    expect(onSelect).toHaveBeenCalledWith('lead-id');
    await user.click(screen.getByRole('button', { name: 'Dismiss budget warnings' }));
    expect(onDismiss).toHaveBeenCalledTimes(1);
  });
});

/** axe over a jsdom page takes seconds on a busy machine. */
const AXE_TIMEOUT_MS = 30_000;

describe('budget pieces together', () => {
  it('pass axe: a card with a bar, the panel section and a warning', async () => {
    const tree = smallTree();
    tree.budget = budget({ cost: 0.05, tokens: 10_000 }, { cost: 0.045, tokens: 2_000 }, { reserved: { cost: 0.002, tokens: 10 } });
    const b = tree.budget;
    const warning: BudgetWarningData = { node_id: 'root', name: 'root', by: 'a1', percent: 90, allocated: b.allocated, spent: { cost: 0.045, tokens: 2_000 } };
    render(
      <main>
        <BudgetWarnings warnings={[warning]} nameOf={(id) => id} onSelect={() => undefined} onDismiss={() => undefined} />
        <TreeView model={TreeModel.fromJobTree(JOB, tree)} label="Budgets" onSelect={() => undefined} />
        <BudgetSection budget={b} />
      </main>,
    );
    // jsdom has no layout: contrast is left to the browser runs.
    const report = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
    expect(report.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  }, AXE_TIMEOUT_MS);
});
