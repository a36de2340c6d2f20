// Tests of fit-to-view: the fitted box lies inside the panel and is centred, small drawings are
// not blown up without bound, and the orientation that fits larger is chosen.
import { describe, expect, it } from 'vitest';
import { chooseOrientation, FIT_MAX_SCALE, FIT_PADDING, fitTransform, transpose, type Box, type Fit } from './fit';

function project(box: Box, f: Fit): Box {
  return { x0: f.x + f.k * box.x0, y0: f.y + f.k * box.y0, x1: f.x + f.k * box.x1, y1: f.y + f.k * box.y1 };
}

describe('fitTransform', () => {
  it('scales a wide box to the panel width and centres it', () => {
    const box = { x0: -500, y0: -10, x1: 1500, y1: 250 };
    const f = fitTransform(box, 1000, 600);
    expect(f.k).toBeCloseTo((1000 - 2 * FIT_PADDING) / 2000);
    const shown = project(box, f);
    expect(shown.x0).toBeCloseTo(FIT_PADDING);
    expect(shown.x1).toBeCloseTo(1000 - FIT_PADDING);
    expect((shown.y0 + shown.y1) / 2).toBeCloseTo(300);
  });

  it('keeps a tall box inside the panel height', () => {
    const box = { x0: 0, y0: 0, x1: 100, y1: 5000 };
    const shown = project(box, fitTransform(box, 800, 500));
    expect(shown.y0).toBeGreaterThanOrEqual(FIT_PADDING - 1e-9);
    expect(shown.y1).toBeLessThanOrEqual(500 - FIT_PADDING + 1e-9);
    expect(shown.x1 - shown.x0).toBeLessThan(800);
  });

  it('caps the scale of a tiny drawing and still centres a single point', () => {
    const f = fitTransform({ x0: 10, y0: 10, x1: 10, y1: 10 }, 400, 300);
    expect(f.k).toBe(FIT_MAX_SCALE);
    expect(f.x + f.k * 10).toBeCloseTo(200);
    expect(f.y + f.k * 10).toBeCloseTo(150);
  });

  it('gives a positive scale even for a panel smaller than its padding', () => {
    expect(fitTransform({ x0: 0, y0: 0, x1: 100, y1: 100 }, 10, 0).k).toBeGreaterThan(0);
  });
});

describe('chooseOrientation', () => {
  const wideShallow = { x0: 0, y0: 0, x1: 1500, y1: 240 };
  it('keeps the root on top when the panel is wide', () => {
    expect(chooseOrientation(wideShallow, 1000, 600)).toBe('down');
  });
  it('turns the tree sideways in a tall panel where that fits it larger', () => {
    expect(chooseOrientation(wideShallow, 360, 600)).toBe('right');
    const down = fitTransform(wideShallow, 360, 600).k;
    const right = fitTransform(transpose(wideShallow), 360, 600).k;
    expect(right).toBeGreaterThan(down);
  });
});
