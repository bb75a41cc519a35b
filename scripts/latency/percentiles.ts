/**
 * Nearest-rank percentiles: every reported number is a latency that really happened (no interpolation between two
 * turns), which is what a person comparing a p95 with a single slow call in the logs expects.
 */
export interface Spread {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** The value at nearest rank ceil(p/100 * n) of ascending `sorted`; undefined when there are no values. */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** p50, p95 and max of the finite values; undefined when there are none. */
export function spread(values: readonly number[]): Spread | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const max = sorted[sorted.length - 1];
  if (max === undefined) return undefined;
  return { n: sorted.length, p50: nearestRank(sorted, 50)!, p95: nearestRank(sorted, 95)!, max };
}
