// Tests of the tree component: ARIA tree semantics, roving tabindex, arrow-key navigation,
// Enter toggling, collapse/expand buttons, and in-place repaint of live updates.
import { act, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { TreeModel, type TreeNode } from './model';
import { CULL_THRESHOLD, TreeView } from './TreeView';
import { budget, frame, JOB, smallTree, wideTree } from '../test/fixtures';
import * as layoutModule from './layout';
import { nodeSummary } from './describe';

function setup() {
  const model = TreeModel.fromJobTree(JOB, smallTree());
  const onSelect = vi.fn();
  render(<TreeView model={model} label="Test tree" onSelect={onSelect} />);
  const item = (id: string) => document.querySelector<HTMLElement>(`[data-node-id="${id}"]`);
  return { model, onSelect, item };
}

describe('TreeView', () => {
  it('renders an ARIA tree with labelled, levelled items carrying data attributes', () => {
    const { item } = setup();
    expect(screen.getByRole('tree', { name: 'Test tree' })).toBeTruthy();
    const items = screen.getAllByRole('treeitem');
    expect(items).toHaveLength(6);
    expect(item('a')?.getAttribute('aria-label')).toBe('pm a, pending, attempts 0, slots 0');
    expect(item('a')?.getAttribute('aria-level')).toBe('2');
    expect(item('a1')?.getAttribute('aria-level')).toBe('3');
    expect(item('a')?.getAttribute('aria-expanded')).toBe('true');
    expect(item('a1')?.hasAttribute('aria-expanded')).toBe(false);
    expect(item('b1')?.dataset.status).toBe('pending');
    expect(items.filter((el) => el.tabIndex === 0).map((el) => el.dataset.nodeId)).toEqual(['root']);
  });

  it('moves focus with the arrow keys (roving tabindex) and collapses/expands with left/right', async () => {
    const user = userEvent.setup();
    const { item } = setup();
    item('root')?.focus();
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(item('a'));
    expect(item('a')?.tabIndex).toBe(0);
    expect(item('root')?.tabIndex).toBe(-1);
    await user.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(item('a1'));
    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(document.activeElement).toBe(item('b'));
    await user.keyboard('{ArrowUp}{ArrowLeft}');
    expect(document.activeElement).toBe(item('a'));
    await user.keyboard('{ArrowLeft}');
    expect(item('a')?.getAttribute('aria-expanded')).toBe('false');
    expect(item('a1')).toBeNull();
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(item('b'));
    await user.keyboard('{ArrowUp}{ArrowRight}');
    expect(item('a')?.getAttribute('aria-expanded')).toBe('true');
    expect(document.activeElement).toBe(item('a'));
    await user.keyboard('{ArrowLeft}{ArrowLeft}');
    expect(document.activeElement).toBe(item('root'));
  });

  it('toggles with Enter and selects with Enter or Space', async () => {
    const user = userEvent.setup();
    const { item, onSelect } = setup();
    item('root')?.focus();
    await user.keyboard('{ArrowDown}{Enter}');
    expect(item('a')?.getAttribute('aria-expanded')).toBe('false');
    expect(onSelect).toHaveBeenLastCalledWith('a');
    await user.keyboard('{Enter}');
    expect(item('a')?.getAttribute('aria-expanded')).toBe('true');
    await user.keyboard('{ArrowDown} ');
    expect(onSelect).toHaveBeenLastCalledWith('a1');
  });

  it('collapse all / expand all, with roll-ups on collapsed nodes', async () => {
    const user = userEvent.setup();
    const { item } = setup();
    await user.click(screen.getByRole('button', { name: 'Collapse all' }));
    expect(screen.getAllByRole('treeitem')).toHaveLength(3);
    expect(item('a')?.getAttribute('aria-label')).toContain('collapsed: 2 pending');
    await user.click(screen.getByRole('button', { name: 'Expand all' }));
    expect(screen.getAllByRole('treeitem')).toHaveLength(6);
  });

  it('repaints live updates in place without re-running the layout', () => {
    const model = TreeModel.fromJobTree(JOB, smallTree());
    const spy = vi.spyOn(layoutModule, 'layoutTree');
    render(<TreeView model={model} label="Live" />);
    act(() => model.setCollapsed('a', true));
    const layouts = spy.mock.calls.length;
    const a = () => document.querySelector<HTMLElement>('[data-node-id="a"]');
    const b1 = () => document.querySelector<HTMLElement>('[data-node-id="b1"]');
    act(() => {
      model.applyEvents([
        frame('worker_started', { worker_id: 'a1', attempt: 1 }),
        frame('worker_started', { worker_id: 'b1', attempt: 3 }),
      ]);
    });
    expect(b1()?.dataset.status).toBe('running');
    expect(b1()?.getAttribute('aria-label')).toBe('tech_lead b1, running, attempts 3, slots 1');
    expect(a()?.getAttribute('aria-label')).toContain('collapsed: 1 running · 1 pending');
    expect(a()?.textContent).toContain('1 running · 1 pending');
    expect(spy.mock.calls.length).toBe(layouts);
  });

  it('stays usable with 5,000 nodes: big trees start collapsed below depth 2', () => {
    const model = TreeModel.fromJobTree(JOB, wideTree(17, 3)); // 1 + 17 + 289 + 4913
    expect(model.size).toBe(5220);
    render(<TreeView model={model} label="Big" />);
    expect(screen.getByText(`${1 + 17 + 289} of 5220 nodes shown`)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Collapse all' }));
    expect(screen.getAllByRole('treeitem')).toHaveLength(18);
  });

  it(`renders only the nodes near the viewport past ${CULL_THRESHOLD} shown nodes`, async () => {
    const user = userEvent.setup();
    const model = TreeModel.fromJobTree(JOB, wideTree(70, 2)); // 1 + 70 + 4900, all leaves at depth 2
    expect(model.visible()).toHaveLength(4971);
    render(<TreeView model={model} label="Wide" />);
    const rendered = screen.getAllByRole('treeitem');
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.length).toBeLessThan(500);
    const root = document.querySelector<HTMLElement>('[data-node-id="root"]');
    root?.focus();
    await user.keyboard('{End}');
    const last = model.visible()[4970].id;
    expect(document.activeElement?.getAttribute('data-node-id')).toBe(last);
  });

  it('puts a budget bar on the cards of nodes with an envelope, coloured by the share used, and grows it live', () => {
    const tree = smallTree();
    tree.budget = budget({ cost: 0.05, tokens: null }, { cost: 0.0125, tokens: 300 }, { reserved: { cost: 0.005, tokens: 0 } });
    tree.children[1].budget = budget({ cost: null, tokens: 1_000 }, { cost: 0.001, tokens: 850 });
    const model = TreeModel.fromJobTree(JOB, tree);
    render(<TreeView model={model} label="Budgets" />);
    const card = (id: string) => document.querySelector<HTMLElement>(`[data-node-id="${id}"]`);
    const bar = (id: string) => card(id)?.querySelector<HTMLElement>('.budget-bar');
    expect(bar('root')?.dataset.level).toBe('ok');
    expect(bar('root')?.querySelector<HTMLElement>('.budget-spent')?.style.width).toBe('25%');
    expect(bar('root')?.querySelector<HTMLElement>('.budget-reserved')?.style.width).toBe('10%');
    expect(card('root')?.title).toContain('cost: $0.0125 spent + $0.0050 reserved of $0.0500');
    expect(card('root')?.getAttribute('aria-label')).toBe('cto root, pending, attempts 0, slots 0, budget 25 % used');
    expect(card('b')?.dataset.budget).toBe('warning');
    expect(card('b')?.classList.contains('budget-warning')).toBe(true);
    expect(bar('b')?.querySelector<HTMLElement>('.budget-spent')?.style.width).toBe('85%');
    expect(bar('a')).toBeNull();
    expect(card('a')?.dataset.budget).toBeUndefined();
    // The overview's and the timeline's hover text say it too.
    expect(nodeSummary(model.get('root') as TreeNode)).toContain('budget: $0.0125 of $0.0500 (25 %)');
    act(() => {
      model.applyEvents([frame('llm_call', { node_id: 'b1', input_tokens: 200, output_tokens: 50, cached_tokens: 0, cost: 0.03 })]);
    });
    expect(card('b')?.dataset.budget).toBe('over');
    expect(bar('b')?.querySelector<HTMLElement>('.budget-spent')?.style.width).toBe('100%');
    expect(card('root')?.dataset.budget).toBe('warning');
    expect(card('root')?.getAttribute('aria-label')).toBe('cto root, pending, attempts 0, slots 0, 250 tok, $0.030, budget 85 % used');
  });
});
