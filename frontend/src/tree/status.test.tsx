// Tests of the status helpers: a paused job has its own glyph and colour class and is not over.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { StatusBadge } from '../components/StatusBadge';
import { isTerminal, statusClass, statusGlyph } from './status';

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
});
