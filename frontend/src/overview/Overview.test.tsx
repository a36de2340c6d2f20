// Tests of the overview component: one circle per node whatever is collapsed, status classes
// repainted live, click to select, zoom buttons and keys moving the view, Fit coming back.
import { act, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { TreeModel } from '../tree/model';
import { frame, JOB, smallTree, wideTree } from '../test/fixtures';
import { Overview } from './Overview';

function setup(model = TreeModel.fromJobTree(JOB, smallTree())) {
  const onSelect = vi.fn();
  const utils = render(<Overview model={model} label="Overview" onSelect={onSelect} />);
  const circle = (id: string) => document.querySelector<SVGCircleElement>(`circle[data-node-id="${id}"]`);
  const transform = () => document.querySelector('g.ov-viewport')?.getAttribute('transform') ?? '';
  return { ...utils, model, onSelect, circle, transform };
}

describe('Overview', () => {
  it('draws one circle per node, with status classes and hover text', () => {
    const model = TreeModel.fromJobTree(JOB, smallTree());
    model.setCollapsed('a', true);
    const { circle } = setup(model);
    expect(document.querySelectorAll('circle.ov-node')).toHaveLength(6);
    expect(circle('a1')?.getAttribute('class')).toContain('status-pending');
    expect(circle('a1')?.querySelector('title')?.textContent).toBe('tech_lead a1\nroot / a / a1\nstatus: pending');
    expect(screen.getByRole('img', { name: /Overview: 6 nodes/ })).toBeTruthy();
  });

  it('repaints statuses live and selects a clicked node', () => {
    const { circle, model, onSelect } = setup();
    act(() => {
      model.applyEvents([frame('worker_started', { worker_id: 'b1', attempt: 1 })]);
    });
    expect(circle('b1')?.dataset.status).toBe('running');
    expect(circle('b1')?.getAttribute('class')).toContain('status-running');
    expect(screen.getByRole('list', { name: 'Overview: nodes by status' }).textContent).toMatch(/pending 5.*running 1/);
    fireEvent.click(circle('a2') as Element);
    expect(onSelect).toHaveBeenCalledWith('a2');
  });

  it('fits on open, zooms with the buttons and keys, and Fit goes back', async () => {
    const user = userEvent.setup();
    const { transform } = setup(TreeModel.fromJobTree(JOB, wideTree(6, 2)));
    const fitted = transform();
    expect(fitted).toMatch(/^translate\(.+\) scale\(.+\)$/);
    const fit = screen.getByTestId('overview-fit');
    expect(fit.dataset.fitted).toBe('true');
    await user.click(screen.getByRole('button', { name: 'Zoom in' }));
    expect(transform()).not.toBe(fitted);
    expect(fit.dataset.fitted).toBe('false');
    await user.click(fit);
    expect(transform()).toBe(fitted);
    const svg = screen.getByRole('img', { name: /Overview/ });
    svg.focus();
    await user.keyboard('{ArrowLeft}');
    const panned = transform();
    expect(panned).not.toBe(fitted);
    await user.keyboard('-');
    expect(transform()).not.toBe(panned);
    await user.keyboard('0');
    expect(transform()).toBe(fitted);
  });

  it('draws a few thousand nodes as plain circles', () => {
    const model = TreeModel.fromJobTree(JOB, wideTree(17, 3));
    setup(model);
    expect(document.querySelectorAll('circle.ov-node')).toHaveLength(model.size);
  });
});
