import { median, medianStandardError, pooledSigma, range } from './stats.js';

/*
 * Judging a timing against injected ground truth, the way a careful
 * experimenter would (pure; table-tested in verdict.test.ts).
 *
 * A check compares the metric measured under a treatment (a known delay
 * injected into the target) with a reference measured in the same experiment,
 * interleaved with it:
 * - absolute metrics (an API request, a frame round trip, a script load) are
 *   referenced to an independent client outside the browser timing the same
 *   delayed request, so a constant error in the collector shows;
 * - metrics whose undelayed value overlaps other work (a socket connect during
 *   page load, a message relay, a cobrowse snapshot, a call setup) are
 *   referenced to the same metric at a lower dose of the same delay, so the
 *   overlap and the machine's wake-up latency after a long sleep cancel.
 *
 * estimate = median(measured) − median(reference); error = estimate − injected.
 * The bar is the stated accuracy (5 ms + 2 % of the injected delay) plus the
 * noise of the estimate at this moment: NOISE_Z standard errors of the
 * difference of two medians, each from its own arm's spread. A quiet
 * machine gets a bar close to the stated accuracy; a busy one a wider bar,
 * and the report says why. Never a fixed allowance for "slow machines".
 */

export interface Accuracy {
  /** Fixed part, ms. */
  readonly absMs: number;
  /** Proportional part, a share of the injected delay. */
  readonly rel: number;
}

/** What userprobe claims for a timing: within 5 ms + 2 % of the true interval. */
export const STATED_ACCURACY: Accuracy = Object.freeze({ absMs: 5, rel: 0.02 });

/** Standard errors of the estimate the bar allows for the machine's noise (≈ 99.7 % two-sided for a normal spread). */
export const NOISE_Z = 3;

export interface DelayCheck {
  /** What is checked, e.g. `api_create` or `crm_ws_connect`. */
  readonly metric: string;
  /** The delay the treatment adds over the reference, ms. */
  readonly injectedMs: number;
  /** The metric under the treatment, one value per round. */
  readonly measured: readonly number[];
  /**
   * The reference, one value per round (see the module comment), expressed so
   * that measured − reference should equal `injectedMs`: the same metric at a
   * lower dose, or an independent client's overhead (its elapsed time minus
   * the delay it was served).
   */
  readonly reference: readonly number[];
  /** How the reference was measured, for the report. */
  readonly referenceIs: string;
  readonly accuracy?: Accuracy;
  /**
   * Optional hard floor: every measured value must be at least this (the
   * injected delay lies inside the measured interval, whatever the noise).
   * The delay must then be exact: a bare Node timer can fire up to 1 ms
   * early (its millisecond clock), the demo target's Delays never does.
   */
  readonly floorMs?: number;
}

export interface Verdict {
  readonly ok: boolean;
  readonly metric: string;
  readonly injectedMs: number;
  readonly estimateMs: number;
  readonly errorMs: number;
  readonly toleranceMs: number;
  readonly noiseMs: number;
  /** The larger of the two arms' spreads (σ from the median absolute deviation). */
  readonly sigmaMs: number;
  readonly barMs: number;
  /** Measured values below `floorMs`. */
  readonly belowFloor: readonly number[];
  /** One line that says what was measured, against what, and why it passed or failed. */
  readonly text: string;
}

const f1 = (x: number): string => x.toFixed(1);
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
const spread = (xs: readonly number[]): string => {
  const r = range(xs);
  return `[${f1(r.min)}…${f1(r.max)}, n=${xs.length}]`;
};

/** Pure: the verdict on one check. */
export function judgeDelay(c: DelayCheck): Verdict {
  const acc = c.accuracy ?? STATED_ACCURACY;
  if (c.measured.length === 0 || c.reference.length === 0) {
    const text = `${c.metric}: no ${c.measured.length === 0 ? 'measured' : 'reference'} values — the experiment recorded nothing to judge`;
    return {
      ok: false,
      metric: c.metric,
      injectedMs: c.injectedMs,
      estimateMs: Number.NaN,
      errorMs: Number.NaN,
      toleranceMs: Number.NaN,
      noiseMs: Number.NaN,
      sigmaMs: Number.NaN,
      barMs: Number.NaN,
      belowFloor: [],
      text,
    };
  }
  const m = median(c.measured);
  const r = median(c.reference);
  const estimateMs = m - r;
  const errorMs = estimateMs - c.injectedMs;
  const toleranceMs = acc.absMs + acc.rel * c.injectedMs;
  // Each arm's own spread: a quiet arm must not hide a noisy one (the reference client may wake later than the browser on a busy machine).
  const sigmaMeasured = pooledSigma([c.measured]);
  const sigmaReference = pooledSigma([c.reference]);
  const sigmaMs = Math.max(sigmaMeasured, sigmaReference);
  const se = Math.hypot(medianStandardError(sigmaMeasured, c.measured.length), medianStandardError(sigmaReference, c.reference.length));
  const noiseMs = NOISE_Z * se;
  const barMs = toleranceMs + noiseMs;
  const belowFloor = c.floorMs === undefined ? [] : c.measured.filter((x) => x < c.floorMs!);
  const within = Math.abs(errorMs) <= barMs;
  const ok = within && belowFloor.length === 0;
  const floorText = belowFloor.length === 0 ? '' : `; ${belowFloor.length} value(s) below the floor ${f1(c.floorMs!)} ms: ${belowFloor.map(f1).join(', ')}`;
  const text =
    `${ok ? 'ok  ' : 'FAIL'} ${c.metric}: injected ${f1(c.injectedMs)} ms; measured ${f1(m)} ${spread(c.measured)} − reference ${f1(r)} ${spread(c.reference)} ` +
    `(${c.referenceIs}) = ${f1(estimateMs)} ms; error ${signed(errorMs)} ms ${within ? 'within' : 'OUTSIDE'} ±${f1(barMs)} ms ` +
    `(stated ${f1(toleranceMs)} + noise ${f1(noiseMs)} = ${NOISE_Z} SE, spread σ ${f1(sigmaMs)} ms)${floorText}`;
  return { ok, metric: c.metric, injectedMs: c.injectedMs, estimateMs, errorMs, toleranceMs, noiseMs, sigmaMs, barMs, belowFloor, text };
}

export interface AgreementCheck {
  /** What is compared, e.g. `widget usable: mark − request`. */
  readonly what: string;
  /** Per-round differences of two readings of the same event, ms. */
  readonly differences: readonly number[];
  /** The band the median difference must fall in before noise, ms (e.g. −1 … 5: the mark follows the body by the renderer's work). */
  readonly lowMs: number;
  readonly highMs: number;
}

/**
 * Pure: two instruments timing the same event (the page's own clock and CDP's,
 * say) agree when the median of their per-round differences lies in the
 * stated band widened by NOISE_Z standard errors of that median.
 */
export function judgeAgreement(c: AgreementCheck): Verdict {
  const d = median(c.differences);
  const sigmaMs = pooledSigma([c.differences]);
  const noiseMs = NOISE_Z * medianStandardError(sigmaMs, c.differences.length);
  const ok = c.differences.length > 0 && d >= c.lowMs - noiseMs && d <= c.highMs + noiseMs;
  const text =
    `${ok ? 'ok  ' : 'FAIL'} ${c.what}: median ${f1(d)} ms ${c.differences.length ? spread(c.differences) : '[no values]'} ${ok ? 'within' : 'OUTSIDE'} ` +
    `${f1(c.lowMs - noiseMs)} … ${f1(c.highMs + noiseMs)} ms (stated ${f1(c.lowMs)} … ${f1(c.highMs)} ± noise ${f1(noiseMs)} = ${NOISE_Z} SE, σ ${f1(sigmaMs)} ms)`;
  return {
    ok,
    metric: c.what,
    injectedMs: 0,
    estimateMs: d,
    errorMs: d,
    toleranceMs: c.highMs,
    noiseMs,
    sigmaMs,
    barMs: c.highMs + noiseMs,
    belowFloor: [],
    text,
  };
}

export interface OffsetCheck {
  /** What is compared, e.g. `websocket connect: page's own view − CDP's`. */
  readonly what: string;
  /** Per-round differences of the two instruments at the low dose of the injected delay, and at the high dose, ms. */
  readonly low: readonly number[];
  readonly high: readonly number[];
  /** The high dose's extra delay, ms (the stated accuracy scales with it). */
  readonly injectedMs: number;
  /** The smallest the offset may be before noise, ms (e.g. −1: the first instrument's interval holds the second's). */
  readonly lowMs: number;
  readonly accuracy?: Accuracy;
}

/**
 * Pure: two instruments timing the same interval differ by an offset that is
 * the machine's (the page's own work, a late timestamp of a busy renderer)
 * and must not depend on the delay injected inside the interval: the median
 * offset at the high dose minus the one at the low dose lies within the stated
 * accuracy plus NOISE_Z standard errors of that difference, and the offset is
 * at least `lowMs` (less noise). The offset itself is reported, not bounded:
 * how large it is says how fast this machine's renderer is, not whether the
 * instrument is right.
 */
export function judgeOffset(c: OffsetCheck): Verdict {
  const acc = c.accuracy ?? STATED_ACCURACY;
  const all = [...c.low, ...c.high];
  const toleranceMs = acc.absMs + acc.rel * c.injectedMs;
  if (c.low.length === 0 || c.high.length === 0) {
    const text = `FAIL ${c.what}: no values at the ${c.low.length === 0 ? 'low' : 'high'} dose — the experiment recorded nothing to judge`;
    return {
      ok: false,
      metric: c.what,
      injectedMs: c.injectedMs,
      estimateMs: NaN,
      errorMs: NaN,
      toleranceMs,
      noiseMs: NaN,
      sigmaMs: NaN,
      barMs: NaN,
      belowFloor: [],
      text,
    };
  }
  const sigmaLow = pooledSigma([c.low]);
  const sigmaHigh = pooledSigma([c.high]);
  const sigmaMs = Math.max(sigmaLow, sigmaHigh);
  const drift = median(c.high) - median(c.low);
  const noiseMs = NOISE_Z * Math.hypot(medianStandardError(sigmaLow, c.low.length), medianStandardError(sigmaHigh, c.high.length));
  const barMs = toleranceMs + noiseMs;
  const offset = median(all);
  const floorNoise = NOISE_Z * medianStandardError(pooledSigma([all]), all.length);
  const aboveLow = offset >= c.lowMs - floorNoise;
  const steady = Math.abs(drift) <= barMs;
  const ok = aboveLow && steady;
  const text =
    `${ok ? 'ok  ' : 'FAIL'} ${c.what}: offset ${f1(offset)} ms ${spread(all)} ${aboveLow ? '≥' : 'BELOW'} ${f1(c.lowMs - floorNoise)} ms; ` +
    `with ${f1(c.injectedMs)} ms more injected it moved ${signed(drift)} ms (low ${f1(median(c.low))}, high ${f1(median(c.high))}) ` +
    `${steady ? 'within' : 'OUTSIDE'} ±${f1(barMs)} ms (stated ${f1(toleranceMs)} + noise ${f1(noiseMs)} = ${NOISE_Z} SE, spread σ ${f1(sigmaMs)} ms)`;
  return { ok, metric: c.what, injectedMs: c.injectedMs, estimateMs: drift, errorMs: drift, toleranceMs, noiseMs, sigmaMs, barMs, belowFloor: [], text };
}
