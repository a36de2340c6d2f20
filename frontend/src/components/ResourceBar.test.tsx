// Tests of the quota bar: meter ARIA, data attributes, the 80/90 % marks and warning levels.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { DepthStats } from '../api/types';
import { ResourceBar, usageLevel } from './ResourceBar';

function stats(over: Partial<DepthStats>): DepthStats {
  return {
    depth: 1,
    role: 'pm',
    quota: 8,
    share: 8,
    in_use: 3,
    peak_in_use: 3,
    active: 3,
    pending: 2,
    waiting_for_slot: 0,
    started_24h: 0,
    succeeded_24h: 0,
    failed_24h: 0,
    p50_ms: 0,
    p95_ms: 0,
    ...over,
  };
}

describe('ResourceBar', () => {
  it('is a labelled meter with its numbers as attributes and text', () => {
    render(<ResourceBar stats={stats({})} flashing={false} />);
    const meter = screen.getByRole('meter', { name: 'depth 1 (pm) 3 of 8 slots in use' });
    expect(meter.getAttribute('aria-valuenow')).toBe('3');
    expect(meter.getAttribute('aria-valuemax')).toBe('8');
    expect(meter.getAttribute('aria-valuemin')).toBe('0');
    expect(meter.dataset.depth).toBe('1');
    expect(meter.dataset.inUse).toBe('3');
    expect(meter.parentElement?.textContent).toContain('3 / 8 in use · 2 pending');
    const fill = meter.querySelector<HTMLElement>('.meter-fill');
    expect(fill?.style.width).toBe('37.5%');
  });

  it("names this replica's share when it holds less than the whole quota, and only then", () => {
    const { rerender } = render(<ResourceBar stats={stats({ share: 3 })} flashing={false} />);
    expect(screen.getByText('(share 3)')).toBeTruthy();
    rerender(<ResourceBar stats={stats({})} flashing={false} />);
    expect(screen.queryByText(/share/)).toBeNull();
  });

  it('marks 80 % and 90 % of the quota', () => {
    render(<ResourceBar stats={stats({})} flashing={false} />);
    const marks = [...document.querySelectorAll<HTMLElement>('.meter-mark')].map((m) => [m.dataset.mark, m.style.left]);
    expect(marks).toEqual([
      ['80', '80%'],
      ['90', '90%'],
    ]);
  });

  it('says when usage passes a mark, in words as well as colour, and flashes on request', () => {
    const { rerender } = render(<ResourceBar stats={stats({ in_use: 7 })} flashing={false} />);
    expect(screen.getByRole('meter').className).toContain('meter-warning');
    expect(screen.getByText(/above 80 %/)).toBeTruthy();
    rerender(<ResourceBar stats={stats({ in_use: 8 })} flashing />);
    expect(screen.getByRole('meter').className).toContain('meter-critical');
    expect(screen.getByText(/above 90 %/)).toBeTruthy();
    expect(screen.getByTestId('depth-1').className).toContain('flash');
    expect(usageLevel(0, 0)).toBe('ok');
    expect(usageLevel(4, 5)).toBe('warning');
    expect(usageLevel(9, 10)).toBe('critical');
  });
});
