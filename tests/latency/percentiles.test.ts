import { describe, expect, it } from 'vitest';
import { nearestRank, spread } from '../../scripts/latency/percentiles.ts';

describe('nearest-rank percentiles', () => {
  it('has nothing to say about no values', () => {
    expect(nearestRank([], 50)).toBeUndefined();
    expect(spread([])).toBeUndefined();
    expect(spread([Number.NaN, Number.POSITIVE_INFINITY])).toBeUndefined();
  });

  it('gives the only value for every percentile of one value', () => {
    expect(spread([42])).toEqual({ n: 1, p50: 42, p95: 42, max: 42 });
    expect(nearestRank([42], 0)).toBe(42);
  });

  it('picks an observed value, never an interpolation, for even counts', () => {
    // rank ceil(0.5 * 4) = 2 -> 20, rank ceil(0.95 * 4) = 4 -> 40
    expect(spread([40, 10, 30, 20])).toEqual({ n: 4, p50: 20, p95: 40, max: 40 });
    expect(spread([7, 3])).toEqual({ n: 2, p50: 3, p95: 7, max: 7 });
  });

  it('uses rank ceil(p/100 * n) on odd and long series', () => {
    expect(spread([5, 1, 3])).toEqual({ n: 3, p50: 3, p95: 5, max: 5 });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(spread(hundred)).toEqual({ n: 100, p50: 50, p95: 95, max: 100 });
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(nearestRank(twenty, 95)).toBe(19);
    expect(nearestRank(twenty, 100)).toBe(20);
  });

  it('ignores values that are not finite and keeps negative ones', () => {
    expect(spread([Number.NaN, -5, 10])).toEqual({ n: 2, p50: -5, p95: 10, max: 10 });
  });

  it('rejects a percentile outside 0..100', () => {
    expect(() => nearestRank([1], 101)).toThrow(RangeError);
    expect(() => nearestRank([1], Number.NaN)).toThrow(RangeError);
  });
});
