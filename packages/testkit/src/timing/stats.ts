/*
 * Robust statistics for small timing experiments (3–10 samples per arm).
 * Medians rather than means, so one session that a busy machine delayed does
 * not move the estimate; the spread is the median absolute deviation scaled
 * to a standard deviation, so one outlier does not widen the bar either.
 */

/** Median; the mean of the two middle values for an even count. NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** MAD → standard deviation of a normal distribution. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * Spread of several groups measured under different conditions, as one
 * standard deviation: each value's distance from its own group's median,
 * pooled, then the median of those distances scaled by MAD_TO_SIGMA.
 * Groups with fewer than two values carry no spread and are skipped.
 */
export function pooledSigma(groups: readonly (readonly number[])[]): number {
  const deviations: number[] = [];
  for (const g of groups) {
    if (g.length < 2) continue;
    const m = median(g);
    for (const x of g) deviations.push(Math.abs(x - m));
  }
  return deviations.length === 0 ? 0 : MAD_TO_SIGMA * median(deviations);
}

/** Standard error of a median of `n` values from a distribution with deviation `sigma` (large-sample factor √(π/2)). */
export function medianStandardError(sigma: number, n: number): number {
  return n > 0 ? (Math.sqrt(Math.PI / 2) * sigma) / Math.sqrt(n) : Number.POSITIVE_INFINITY;
}

/** min..max of the values, for reports. */
export function range(xs: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}
