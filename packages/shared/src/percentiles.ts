/*
 * Percentile math. Exact, over the full sample set (runs hold at most a few
 * million samples per metric): nearest-rank on the sorted values, the same
 * definition Grafana's and MySQL-side rollups use here, so numbers agree.
 */

export interface Stats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending-sorted array; p in [0, 100]. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (p === 0) return sorted[0]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function summarize(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  let sum = 0;
  for (const v of arr) sum += v;
  return {
    count: arr.length,
    min: arr[0]!,
    mean: sum / arr.length,
    p50: percentileSorted(arr, 50),
    p90: percentileSorted(arr, 90),
    p95: percentileSorted(arr, 95),
    p99: percentileSorted(arr, 99),
    max: arr[arr.length - 1]!,
  };
}
