// Tests of how spend is shown: compact tokens, costs, sums, and usages read from answers and
// frames that may lack them.
import { describe, expect, it } from 'vitest';
import { addUsage, callUsage, formatCost, formatCount, formatTokens, readUsage, tokensLong, usageShort } from './usage';

describe('usage formatting', () => {
  it('shows tokens compactly, carrying into the next unit when rounding reaches it', () => {
    expect([0, 7, 950, 999].map(formatTokens)).toEqual(['0', '7', '950', '999']);
    expect([1000, 1234, 12_345, 99_949, 123_456].map(formatTokens)).toEqual(['1k', '1.2k', '12.3k', '99.9k', '123k']);
    expect([999_600, 1_500_000, 12_340_000, 2_000_000_000].map(formatTokens)).toEqual(['1M', '1.5M', '12.3M', '2B']);
    expect(formatTokens(-5)).toBe('0');
  });

  it('shows costs with the precision their size needs', () => {
    expect([0, 1.234, 12, 0.0421, 0.01, 0.0042, 0.00004].map(formatCost)).toEqual([
      '$0',
      '$1.23',
      '$12.00',
      '$0.042',
      '$0.010',
      '$0.0042',
      '<$0.0001',
    ]);
    expect(formatCost(Number.NaN)).toBe('$0');
  });

  it('writes the card text and the long token line', () => {
    const u = { input_tokens: 12_000, output_tokens: 345, cached_tokens: 0, cost: 0.0421, calls: 3 };
    expect(usageShort(u)).toBe('12.3k tok · $0.042');
    expect(tokensLong(u)).toBe('12,000 in / 345 out');
    expect(tokensLong({ ...u, cached_tokens: 8000 })).toBe('12,000 in / 345 out / 8,000 cached');
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });

  it('reads a usage when there is one, adds them up, and counts a frame as one call', () => {
    expect(readUsage(null)).toBeNull();
    expect(readUsage(undefined)).toBeNull();
    expect(readUsage({ input_tokens: 5, output_tokens: 'x', cost: -1 })).toEqual({
      input_tokens: 5,
      output_tokens: 0,
      cached_tokens: 0,
      cost: 0,
      calls: 0,
    });
    const one = callUsage({ node_id: 'n', input_tokens: 100, output_tokens: 20, cached_tokens: 50, cost: 0.5, model: 'm' });
    expect(one).toEqual({ input_tokens: 100, output_tokens: 20, cached_tokens: 50, cost: 0.5, calls: 1 });
    expect(addUsage(null, one)).toEqual(one);
    expect(addUsage(one, one)).toEqual({ input_tokens: 200, output_tokens: 40, cached_tokens: 100, cost: 1, calls: 2 });
  });
});
