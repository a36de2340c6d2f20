import { describe, expect, it } from 'vitest';

import { formatElapsed } from './draw';

describe('formatElapsed', () => {
  it('labels the axis in time since the start, not wall-clock fractions', () => {
    expect([0, 250, 1_000, 1_500, 12_340, 90_000, 3_725_000].map(formatElapsed)).toEqual([
      '0',
      '250 ms',
      '1 s',
      '1.5 s',
      '12.34 s',
      '1:30',
      '62:05',
    ]);
  });
});
