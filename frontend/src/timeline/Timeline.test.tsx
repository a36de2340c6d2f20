// Tests of the timeline component: a bar per started node, the grouping toggle, live bars
// (a started worker appears, a running bar keeps growing), click to select.
import { act, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeView } from '../api/types';
import { TreeModel } from '../tree/model';
import { frame, JOB, node } from '../test/fixtures';
import { Timeline } from './Timeline';
import { NOW_TICK_MS } from './useNow';

const T0 = Date.parse('2026-11-21T19:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function started(view: NodeView, start: number, end: number | null, status: string): NodeView {
  return { ...view, status, started_at: at(start), finished_at: end === null ? null : at(end) };
}

/** root (running) → a (ended) → a1 (ended), a2 (running); b (not started). */
function model(): TreeModel {
  const a = started(node('a', 1, [started(node('a1', 2), 200, 700, 'succeeded'), started(node('a2', 2), 300, null, 'running')]), 100, 800, 'succeeded');
  return TreeModel.fromJobTree(JOB, started(node('root', 0, [a, node('b', 1)]), 0, null, 'running'));
}

const bar = (id: string) => document.querySelector<SVGRectElement>(`rect.tl-bar[data-node-id="${id}"]`);
const barIds = () => [...document.querySelectorAll<SVGRectElement>('rect.tl-bar')].map((r) => r.dataset.nodeId);

afterEach(() => {
  vi.useRealTimers();
});

describe('Timeline', () => {
  it('draws a bar per started node, by depth first and by branch on request', async () => {
    const user = userEvent.setup();
    render(<Timeline model={model()} label="Timeline" />);
    expect(barIds()).toHaveLength(4);
    expect(bar('b')).toBeNull();
    expect(screen.getByTestId('timeline-count').textContent).toBe('4 of 5 nodes started · running');
    expect([...document.querySelectorAll('.tl-header')].map((h) => h.textContent)).toEqual([
      'depth 0 · cto (1)',
      'depth 1 · pm (1)',
      'depth 2 · tech_lead (2)',
    ]);
    const byBranch = screen.getByRole('button', { name: 'By branch' });
    await user.click(byBranch);
    expect(byBranch.getAttribute('aria-pressed')).toBe('true');
    expect(document.querySelectorAll('.tl-header')).toHaveLength(0);
    const rows = [...document.querySelectorAll<SVGGElement>('g.tl-row')];
    expect(rows.map((g) => g.querySelector('text')?.textContent)).toEqual(['root', 'a', 'a1', 'a2']);
    expect(rows.map((g) => Number(g.querySelector('text')?.getAttribute('x')))).toEqual([4, 14, 24, 24]);
    expect(bar('a1')?.querySelector('title')?.textContent).toBe('tech_lead a1\nroot / a / a1\nstatus: succeeded\nduration: 500 ms');
  });

  it('adds a bar when a worker starts, and lets running bars grow with the clock', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(T0 + 1000);
    const m = model();
    render(<Timeline model={m} label="Timeline" />);
    const grown = () => Number(bar('a2')?.dataset.durationMs);
    expect(grown()).toBe(700);
    act(() => {
      vi.advanceTimersByTime(NOW_TICK_MS * 2);
    });
    expect(grown()).toBe(700 + NOW_TICK_MS * 2);
    expect(Number(bar('a1')?.dataset.durationMs)).toBe(500);
    act(() => {
      m.applyEvents([frame('orchestrator_spawned', { orchestrator_id: 'b', children: 0 }, { ts: at(1500) })]);
    });
    expect(bar('b')?.dataset.status).toBe('running');
    expect(barIds()).toHaveLength(5);
  });

  it('selects the node of a clicked bar', () => {
    const onSelect = vi.fn();
    render(<Timeline model={model()} label="Timeline" onSelect={onSelect} />);
    fireEvent.click(bar('a1') as Element);
    expect(onSelect).toHaveBeenCalledWith('a1');
  });

  it('says so when nothing has started', () => {
    render(<Timeline model={TreeModel.fromJobTree(JOB, node('root', 0))} label="Timeline" />);
    expect(screen.getByText('No node has started yet.')).toBeTruthy();
    expect(screen.getByTestId('timeline-count').textContent).toBe('0 of 1 nodes started');
  });
});
