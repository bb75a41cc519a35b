/**
 * Nearest-rank percentiles: every number the bench prints is a latency that really happened on some turn, never
 * an interpolation between two of them.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

export const median = (values: readonly number[]) => percentile(values, 50);

export interface Spread {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function spread(values: readonly number[]): Spread | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  return {
    n: finite.length,
    p50: percentile(finite, 50)!,
    p95: percentile(finite, 95)!,
    p99: percentile(finite, 99)!,
    max: Math.max(...finite),
  };
}
