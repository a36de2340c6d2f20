// Tests of the status helpers: a paused job, and a node awaiting approval, each have their own
// glyph, words and colour class and are not over; the legend names them in words.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { StatusBadge } from '../components/StatusBadge';
import { StatusLegend } from '../components/StatusLegend';
import { isTerminal, NODE_STATUSES, statusClass, statusGlyph, statusText } from './status';

describe('statuses', () => {
  it('gives paused its own glyph and class, and does not take it for an end', () => {
    expect(statusGlyph('paused')).toBe('‖');
    expect(statusClass('paused')).toBe('status-paused');
    expect(statusClass('paused')).not.toBe(statusClass('retrying'));
    expect(isTerminal('paused')).toBe(false);
    expect(statusClass('nonsense')).toBe('status-unknown');
  });

  it('shows a paused badge as glyph and word', () => {
    render(<StatusBadge status="paused" />);
    const badge = screen.getByText('paused', { exact: false });
    expect(badge.className).toBe('badge status-paused');
    expect(badge.textContent).toBe('‖ paused');
  });

  it('gives awaiting approval its own glyph, class and words, as a node status that is not an end', () => {
    expect(NODE_STATUSES).toContain('awaiting_approval');
    expect(statusGlyph('awaiting_approval')).toBe('⚑');
    expect(statusClass('awaiting_approval')).toBe('status-awaiting_approval');
    expect(new Set(['paused', 'retrying', 'pending', 'running'].map(statusClass)).has(statusClass('awaiting_approval'))).toBe(false);
    expect(isTerminal('awaiting_approval')).toBe(false);
    expect(statusText('awaiting_approval')).toBe('awaiting approval');
    expect(statusText('running')).toBe('running');
  });

  it('shows an awaiting approval badge and legend entry in words', () => {
    render(<StatusBadge status="awaiting_approval" />);
    expect(screen.getByText('awaiting approval', { exact: false }).textContent).toBe('⚑ awaiting approval');
    render(<StatusLegend counts={{ running: 1, awaiting_approval: 2 }} label="Nodes" />);
    const legend = screen.getByRole('list', { name: 'Nodes' });
    expect([...legend.querySelectorAll('li')].map((li) => li.textContent)).toEqual([' running 1', ' awaiting approval 2']);
  });
});
