import { METRICS, metricUnit, percentileSorted, splitsByDetail, type CustomMetricDef, type MetricUnit } from '@userprobe/shared';

/*
 * `controller compare RUN_A RUN_B`: did B get slower or faster than A, metric
 * by metric, beyond what two runs of the same thing differ by? The method,
 * stated (docs: README, *Comparing runs*):
 *
 * - per metric (and per detail for metrics split by detail), the values of
 *   sessions that ended, without samples taken while an agent's CPU was
 *   saturated (--include-saturated keeps them);
 * - p50 and p95 of each run, and the change of each;
 * - a Mann-Whitney U test on the two sets of values (normal approximation with
 *   tie and continuity correction; two-sided p), and a bootstrap 95 % interval
 *   of the change in p50 (2,000 resamples of each run, seeded: the same inputs
 *   give the same interval);
 * - "slower" / "faster" only when all three agree: p < ALPHA, the interval
 *   excludes 0, and the p50 moved at least MIN_CHANGE (5 % of A's p50 and the
 *   unit's smallest change that matters — 5 ms, 0.01 of a layout-shift score,
 *   one count, one frame per second, 1 KiB: a change nobody would act on is
 *   not reported as one, also when A's p50 is 0). Fewer than
 *   MIN_VALUES values on either side: "too few values" — never a verdict.
 *
 * ALPHA is per metric (0.001): a comparison judges dozens of metrics, and
 * two runs of the same configuration must not show a change by chance.
 * Pure; the command reads the runs' samples.jsonl.
 */

export const COMPARE_ALPHA = 0.001;
export const COMPARE_MIN_VALUES = 8;
export const COMPARE_MIN_CHANGE = {
  share: 0.05,
  byUnit: { ms: 5, ratio: 0.01, count: 1, fps: 1, bytes: 1024 } as const satisfies Record<MetricUnit, number>,
} as const;

/** The smallest change of a metric's p50 in `unit` that a comparison calls a change (0 for a unit it does not know: the share alone). */
export function minChange(unit: string): number {
  return Object.hasOwn(COMPARE_MIN_CHANGE.byUnit, unit) ? COMPARE_MIN_CHANGE.byUnit[unit as keyof typeof COMPARE_MIN_CHANGE.byUnit] : 0;
}
export const COMPARE_BOOTSTRAP_RESAMPLES = 2_000;

export interface CompareSample {
  readonly sessionId: string;
  readonly metric: string;
  readonly value: number;
  readonly detail?: string | undefined;
  readonly saturated?: boolean | undefined;
}

export type CompareVerdict = 'slower' | 'faster' | 'no change beyond noise' | 'too few values';

export interface MetricComparison {
  /** `api_create`, or `api_request[create]` for a detail. */
  readonly metric: string;
  readonly unit: string;
  readonly a: { readonly count: number; readonly p50: number | null; readonly p95: number | null };
  readonly b: { readonly count: number; readonly p50: number | null; readonly p95: number | null };
  readonly changeP50: number | null;
  readonly changeP95: number | null;
  /** Change of the p50 as a share of A's p50. */
  readonly changeShare: number | null;
  /** Mann-Whitney two-sided p, and the bootstrap 95 % interval of the p50 change. */
  readonly p: number | null;
  readonly interval: readonly [number, number] | null;
  readonly verdict: CompareVerdict;
}

const sorted = (xs: readonly number[]) => Float64Array.from(xs).sort();

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf; |error| < 1.5e-7). Pure. */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Mann-Whitney U two-sided p-value: normal approximation, ties averaged and corrected, continuity-corrected. Pure. */
export function mannWhitneyP(a: readonly number[], b: readonly number[]): number {
  const n1 = a.length;
  const n2 = b.length;
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const n = all.length;
  let rankA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j + 2) / 2; // ranks are 1-based: i+1 … j+1
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) if (all[k]!.g === 0) rankA += rank;
    i = j + 1;
  }
  const u = rankA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return Math.min(1, 2 * (1 - normalCdf(Math.max(0, z))));
}

/** A small seeded generator (mulberry32): the bootstrap gives the same interval for the same runs. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bootstrap 95 % percentile interval of median(b) − median(a). Pure (seeded). */
export function bootstrapMedianChange(a: readonly number[], b: readonly number[], resamples = COMPARE_BOOTSTRAP_RESAMPLES, seed = 1): [number, number] {
  const next = rng(seed);
  const resampleMedian = (xs: readonly number[]) => {
    const r = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) r[i] = xs[Math.floor(next() * xs.length)]!;
    r.sort();
    return percentileSorted(Array.from(r), 50);
  };
  const diffs = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) diffs[i] = resampleMedian(b) - resampleMedian(a);
  diffs.sort();
  const at = (q: number) => diffs[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  return [at(0.025), at(0.975)];
}

function valuesByMetric(samples: readonly CompareSample[], includeSaturated: boolean): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const push = (k: string, v: number) => {
    let xs = out.get(k);
    if (!xs) out.set(k, (xs = []));
    xs.push(v);
  };
  for (const s of samples) {
    if (s.saturated && !includeSaturated) continue;
    push(s.metric, s.value);
    if (splitsByDetail(s.metric) && s.detail !== undefined) push(`${s.metric}[${s.detail}]`, s.value);
  }
  return out;
}

/** One metric's comparison. Pure. */
export function compareValues(metric: string, unit: string, a: readonly number[], b: readonly number[]): MetricComparison {
  const sa = Array.from(sorted(a));
  const sb = Array.from(sorted(b));
  const stat = (xs: number[]) => ({ count: xs.length, p50: xs.length ? percentileSorted(xs, 50) : null, p95: xs.length ? percentileSorted(xs, 95) : null });
  const A = stat(sa);
  const B = stat(sb);
  const changeP50 = A.p50 !== null && B.p50 !== null ? B.p50 - A.p50 : null;
  const changeP95 = A.p95 !== null && B.p95 !== null ? B.p95 - A.p95 : null;
  const changeShare = changeP50 !== null && A.p50 ? changeP50 / A.p50 : null;
  if (sa.length < COMPARE_MIN_VALUES || sb.length < COMPARE_MIN_VALUES)
    return { metric, unit, a: A, b: B, changeP50, changeP95, changeShare, p: null, interval: null, verdict: 'too few values' };
  const p = mannWhitneyP(sa, sb);
  const interval = bootstrapMedianChange(sa, sb);
  const big = Math.abs(changeP50!) >= Math.max(minChange(unit), COMPARE_MIN_CHANGE.share * Math.abs(A.p50!));
  const excludesZero = interval[0] > 0 || interval[1] < 0;
  const verdict: CompareVerdict =
    p < COMPARE_ALPHA && excludesZero && big && changeP50 !== 0 ? (changeP50! > 0 ? 'slower' : 'faster') : 'no change beyond noise';
  return { metric, unit, a: A, b: B, changeP50, changeP95, changeShare, p, interval, verdict };
}

/** Every metric either run recorded, catalog order first, then details and unknown names. Pure. */
export function compareRuns(
  a: readonly CompareSample[],
  b: readonly CompareSample[],
  opts: { includeSaturated?: boolean; declared?: readonly CustomMetricDef[] } = {},
): MetricComparison[] {
  const va = valuesByMetric(a, opts.includeSaturated ?? false);
  const vb = valuesByMetric(b, opts.includeSaturated ?? false);
  const names = [...new Set([...va.keys(), ...vb.keys()])];
  const catalog = Object.keys(METRICS);
  const order = (n: string) => {
    const base = n.replace(/\[.*$/, '');
    const i = catalog.indexOf(base);
    return i === -1 ? catalog.length : i;
  };
  names.sort((x, y) => order(x) - order(y) || (x < y ? -1 : x > y ? 1 : 0));
  return names.map((n) => {
    const base = n.replace(/\[.*$/, '');
    const unit = metricUnit(base, opts.declared) ?? '?';
    return compareValues(n, unit, va.get(n) ?? [], vb.get(n) ?? []);
  });
}
