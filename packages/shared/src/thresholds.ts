import { z } from 'zod';
import { METRICS, isMetricName } from './metrics.js';
import { isCustomMetricName } from './custom-metrics.js';
import { DURATION_ACCEPTED, parseDuration } from './options/duration.js';

/*
 * Thresholds: pass/fail limits a load test is judged on, the way CI gates a
 * build (k6's `thresholds`, Artillery's `ensure`). One is written
 *
 *   METRIC[{DETAIL}]:STAT OP VALUE      e.g. api_create:p95<800ms
 *                                            sessions:error-rate<=2%
 *                                            api_request{create}:p99<1.5s
 *
 * STAT is p50 p90 p95 p99 max mean (of the metric's values) or error-rate
 * (sessions that did not succeed and recorded no value for the metric, over
 * all that should have: `errors / (count + errors)`; for `sessions`, sessions
 * not ok over sessions planned or recorded). VALUE carries its unit: ms or s
 * for time metrics (plain numbers are ms), % for error-rate, a plain number
 * for counts, ratios, fps and bytes. Options, after commas on the command line
 * or as keys in a profile: `abort-on-fail` stops the run as soon as the
 * threshold fails while it runs, judged once it has `min-samples` values (20)
 * and `delay` has passed since the first (10s); `include-saturated` judges the
 * samples taken while an agent's CPU was saturated too (left out by default).
 *
 * Pure parsing here (shared: the profile's `thresholds:` and `--threshold`
 * both use it); judging is the controller's (run/thresholds.ts).
 */

export const THRESHOLD_STATS = ['p50', 'p90', 'p95', 'p99', 'max', 'mean', 'error-rate'] as const;
export type ThresholdStat = (typeof THRESHOLD_STATS)[number];
export const THRESHOLD_OPS = ['<', '<=', '>', '>='] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];
/** The pseudo-metric of session outcomes: only `error-rate` applies. */
export const SESSIONS_METRIC = 'sessions';

export const THRESHOLD_DEFAULT_MIN_SAMPLES = 20;
export const THRESHOLD_DEFAULT_DELAY_MS = 10_000;

export interface Threshold {
  /** As written (normalized spacing): how results and messages name it. */
  readonly text: string;
  readonly metric: string;
  readonly detail: string | null;
  readonly stat: ThresholdStat;
  readonly op: ThresholdOp;
  /** In the metric's unit: ms for time metrics, a fraction 0..1 for error-rate. */
  readonly value: number;
  readonly abortOnFail: boolean;
  readonly minSamples: number;
  readonly delayMs: number;
  /** Judge samples taken while an agent's CPU was saturated too (default: left out, their values may be inflated). */
  readonly includeSaturated: boolean;
}

export const THRESHOLD_ACCEPTED =
  'METRIC[{DETAIL}]:STAT OP VALUE, e.g. api_create:p95<800ms, sessions:error-rate<=2%, msg_visitor_to_agent:max<3s; ' +
  `STAT one of ${THRESHOLD_STATS.join(' ')}; OP one of ${THRESHOLD_OPS.join(' ')}; ` +
  "METRIC a metric of the catalog (docs/metrics.md) or 'sessions'";

const EXPR = /^\s*([a-z][a-z0-9_]*)(?:\{([^{}]+)\})?\s*:\s*([a-z0-9-]+)\s*(<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|%)?\s*$/;

/** The value in the metric's unit, or what is wrong with it. Pure. */
function valueOf(metric: string, stat: ThresholdStat, n: number, unit: string | undefined): number | string {
  if (stat === 'error-rate') {
    if (unit !== '%') return `error-rate takes a percentage such as 5% (got ${n}${unit ?? ''})`;
    if (n > 100) return `error-rate is at most 100% (got ${n}%)`;
    return n / 100;
  }
  const metricUnit = METRICS[metric as keyof typeof METRICS]?.unit;
  if (metricUnit === 'ms') {
    if (unit === '%') return `${metric} is in ms: write the value as 800ms or 1.5s (got ${n}%)`;
    return unit === 's' ? n * 1_000 : n;
  }
  if (unit !== undefined && metricUnit === undefined)
    return `${metric} is not a catalog metric (docs/metrics.md): a custom scenario module's metric takes a plain number in its declared unit (got ${n}${unit})`;
  if (unit !== undefined) return `${metric} is measured in ${metricUnit}: write a plain number (got ${n}${unit})`;
  return n;
}

/**
 * `api_create:p95<800ms` (and options) → a Threshold, or a message saying what
 * is wrong and what is accepted (the caller names where it was written). Pure.
 */
export function parseThreshold(
  expr: string,
  options: { abortOnFail?: boolean; minSamples?: number; delay?: string | number; includeSaturated?: boolean } = {},
): { ok: Threshold } | { problem: string } {
  const m = EXPR.exec(expr);
  if (!m) return { problem: `"${expr}" is not a threshold; accepted: ${THRESHOLD_ACCEPTED}` };
  const [, metric, detail, statText, op, num, unit] = m as unknown as [string, string, string | undefined, string, ThresholdOp, string, string | undefined];
  if (!(THRESHOLD_STATS as readonly string[]).includes(statText))
    return { problem: `"${expr}": unknown statistic "${statText}"; accepted: ${THRESHOLD_STATS.join(', ')}` };
  const stat = statText as ThresholdStat;
  if (metric === SESSIONS_METRIC) {
    if (stat !== 'error-rate') return { problem: `"${expr}": sessions takes only error-rate (e.g. sessions:error-rate<2%)` };
    if (detail !== undefined) return { problem: `"${expr}": sessions has no detail` };
  } else if (!isMetricName(metric) && !isCustomMetricName(metric)) {
    return {
      problem: `"${expr}": unknown metric "${metric}"; accepted: a metric of the catalog (docs/metrics.md), 'sessions', or a metric a custom scenario module declares`,
    };
  }
  const value = valueOf(metric, stat, Number(num), unit);
  if (typeof value === 'string') return { problem: `"${expr}": ${value}` };
  let delayMs = THRESHOLD_DEFAULT_DELAY_MS;
  if (options.delay !== undefined) {
    try {
      delayMs = parseDuration(options.delay, 'delay');
    } catch {
      return { problem: `"${expr}": delay "${options.delay}" is not ${DURATION_ACCEPTED}` };
    }
  }
  const minSamples = options.minSamples ?? THRESHOLD_DEFAULT_MIN_SAMPLES;
  if (!Number.isInteger(minSamples) || minSamples < 1) return { problem: `"${expr}": min-samples must be a whole number ≥ 1 (got ${minSamples})` };
  const text = `${metric}${detail === undefined ? '' : `{${detail.trim()}}`}:${stat}${op}${num}${unit ?? ''}`;
  return {
    ok: {
      text,
      metric,
      detail: detail === undefined ? null : detail.trim(),
      stat,
      op,
      value,
      abortOnFail: options.abortOnFail ?? false,
      minSamples,
      delayMs,
      includeSaturated: options.includeSaturated ?? false,
    },
  };
}

/**
 * The command-line form: the expression, then options after commas —
 * `api_create:p95<800ms,abort-on-fail,min-samples=50,delay=30s`. Pure.
 */
export function parseThresholdFlag(flag: string): { ok: Threshold } | { problem: string } {
  const [expr = '', ...opts] = flag.split(',');
  const o: { abortOnFail?: boolean; minSamples?: number; delay?: string; includeSaturated?: boolean } = {};
  for (const raw of opts) {
    const opt = raw.trim();
    const [k, v] = opt.split('=', 2) as [string, string | undefined];
    if (k === 'abort-on-fail' && v === undefined) o.abortOnFail = true;
    else if (k === 'include-saturated' && v === undefined) o.includeSaturated = true;
    else if (k === 'min-samples' && v !== undefined && /^\d+$/.test(v)) o.minSamples = Number(v);
    else if (k === 'delay' && v !== undefined) o.delay = v;
    else
      return {
        problem: `"${flag}": unknown option "${opt}"; accepted after the expression: ,abort-on-fail ,min-samples=N ,delay=DURATION (e.g. 10s) ,include-saturated`,
      };
  }
  return parseThreshold(expr, o);
}

/** A profile's `thresholds:` entry: the expression, or an object with its options. Validated, kept as written (agents re-validate the profile). */
export const ThresholdEntrySchema = z
  .union([
    z.string().min(1),
    z.strictObject({
      threshold: z.string().min(1),
      abortOnFail: z.boolean().optional(),
      minSamples: z.number().int().min(1).optional(),
      delay: z.union([z.string(), z.number()]).optional(),
      includeSaturated: z.boolean().optional(),
    }),
  ])
  .superRefine((v, ctx) => {
    const r = parseEntry(v);
    if ('problem' in r) ctx.addIssue({ code: 'custom', message: r.problem });
  });
export type ThresholdEntry = z.infer<typeof ThresholdEntrySchema>;

function parseEntry(v: ThresholdEntry) {
  if (typeof v === 'string') return parseThreshold(v);
  const o: { abortOnFail?: boolean; minSamples?: number; delay?: string | number; includeSaturated?: boolean } = {};
  if (v.includeSaturated !== undefined) o.includeSaturated = v.includeSaturated;
  if (v.abortOnFail !== undefined) o.abortOnFail = v.abortOnFail;
  if (v.minSamples !== undefined) o.minSamples = v.minSamples;
  if (v.delay !== undefined) o.delay = v.delay;
  return parseThreshold(v.threshold, o);
}

/** A Threshold → the entry that writes it back (run-state.json keeps a run's thresholds this way). Pure. */
export function thresholdEntryOf(t: Threshold): Exclude<ThresholdEntry, string> {
  return { threshold: t.text, abortOnFail: t.abortOnFail, minSamples: t.minSamples, delay: t.delayMs, includeSaturated: t.includeSaturated };
}

/** A validated profile entry → its Threshold. Pure; throws only on an entry the schema did not validate. */
export function thresholdOfEntry(e: ThresholdEntry): Threshold {
  const r = parseEntry(e);
  if ('problem' in r) throw new Error(`unvalidated threshold entry: ${r.problem}`);
  return r.ok;
}
