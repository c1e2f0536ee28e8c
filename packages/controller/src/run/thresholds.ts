import {
  ConfigError,
  METRICS,
  SESSIONS_METRIC,
  isMetricName,
  thresholdOfEntry,
  type ScenarioName,
  type TargetProfile,
  type Threshold,
  type ThresholdOp,
} from '@userprobe/shared';
import type { MetricSummary, RunSummary, Stats } from './summary.js';

/*
 * Judging a run's thresholds (shared/thresholds.ts says how they are written)
 * on the merged data of every agent: the run's summary, with samples taken
 * while an agent's CPU was saturated left out (their values may be inflated by
 * the measurement itself; `thresholdStats`). A threshold with nothing to judge
 * fails and says so: a gate that passes on no data gates nothing.
 */

export interface ThresholdResult {
  /** As written, e.g. `api_create:p95<800ms`. */
  readonly threshold: string;
  readonly metric: string;
  readonly detail: string | null;
  readonly stat: Threshold['stat'];
  readonly op: ThresholdOp;
  /** The limit in the metric's unit (ms; a fraction for error-rate). */
  readonly limit: number;
  /** The value judged (same unit), or null when there was nothing to judge. */
  readonly observed: number | null;
  /** Values judged (unsaturated samples; sessions for sessions:error-rate). */
  readonly count: number;
  /** Samples left out because they were taken while an agent's CPU was saturated. */
  readonly saturatedExcluded: number;
  readonly ok: boolean;
  /** Why it failed without a value, or null. */
  readonly reason: string | null;
  readonly abortOnFail: boolean;
  readonly includeSaturated: boolean;
  /** The metric's unit as the summary knows it (a custom module's declaration included); absent when nothing was recorded. */
  readonly unit?: string;
}

/** The stats a threshold compares against (a metric's or a detail's row): without saturated samples unless asked. */
export function thresholdStats(
  m: Pick<MetricSummary, 'count' | 'p50' | 'p90' | 'p95' | 'p99' | 'max' | 'mean' | 'unsaturated'>,
  opts: { includeSaturated?: boolean } = {},
): Stats {
  return opts.includeSaturated ? { count: m.count, p50: m.p50, p90: m.p90, p95: m.p95, p99: m.p99, max: m.max, mean: m.mean } : m.unsaturated;
}

export function compare(observed: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
  }
}

/**
 * A run's thresholds: the profile's `thresholds:`, then `--threshold`'s (the
 * same expression twice is judged once, the flag's options winning). Each must
 * name a metric the scenario records (a custom module may record any). Throws
 * a ConfigError naming every problem.
 */
export function runThresholds(
  cfg: { readonly scenario: ScenarioName; readonly scenarioModule: string | null; readonly thresholds: readonly Threshold[] },
  profile: Pick<TargetProfile, 'thresholds'>,
): Threshold[] {
  const byText = new Map<string, Threshold>();
  for (const t of [...(profile.thresholds ?? []).map(thresholdOfEntry), ...cfg.thresholds]) byText.set(t.text, t);
  const all = [...byText.values()];
  const problems = cfg.scenarioModule === null ? all.map((t) => thresholdScenarioProblem(t, cfg.scenario)).filter((p) => p !== null) : [];
  // A name outside the catalog is a custom scenario module's metric: without a module it can only be a typo.
  if (cfg.scenarioModule === null)
    for (const t of all)
      if (t.metric !== SESSIONS_METRIC && !isMetricName(t.metric))
        problems.push(
          `threshold ${t.text}: unknown metric "${t.metric}"; accepted: a metric of the catalog (docs/metrics.md) or 'sessions' (a custom scenario module's own metrics with --scenario-module)`,
        );
  if (problems.length) throw new ConfigError(problems.join('; '));
  return all;
}

/** A problem with a threshold for this run's scenario (its metric is never recorded by it), or null. Pure. */
export function thresholdScenarioProblem(t: Threshold, scenario: ScenarioName): string | null {
  if (t.metric === SESSIONS_METRIC || !isMetricName(t.metric)) return null;
  const scenarios: readonly string[] = METRICS[t.metric].scenarios;
  if (scenarios.includes(scenario)) return null;
  return `threshold ${t.text}: ${scenario} does not record ${t.metric} (it is recorded by ${scenarios.join(', ')}); see docs/metrics.md for ${scenario}'s metrics`;
}

function statOf(s: Stats, stat: Exclude<Threshold['stat'], 'error-rate'>): number | null {
  return s[stat];
}

/** One threshold against a summary. Pure. */
export function judgeThreshold(summary: RunSummary, t: Threshold): ThresholdResult {
  const m = summary.metrics.find((x) => x.metric === t.metric);
  const base = {
    ...(m ? { unit: m.unit } : {}),
    threshold: t.text,
    metric: t.metric,
    detail: t.detail,
    stat: t.stat,
    op: t.op,
    limit: t.value,
    abortOnFail: t.abortOnFail,
    includeSaturated: t.includeSaturated,
  };
  const verdict = (observed: number | null, count: number, saturatedExcluded: number, reason: string | null): ThresholdResult => ({
    ...base,
    observed,
    count,
    saturatedExcluded,
    ok: observed !== null && compare(observed, t.op, t.value),
    reason: observed === null ? reason : null,
  });
  if (t.metric === SESSIONS_METRIC) {
    const s = summary.sessions;
    const bad = s.recorded - s.ok + s.lost + s.notRun + s.missing;
    const all = s.recorded + s.lost + s.notRun + s.missing;
    return verdict(all === 0 ? null : bad / all, all, 0, 'no session ran');
  }
  if (m === undefined) return verdict(null, 0, 0, `no ${t.metric} sample was recorded`);
  const row = t.detail === null ? m : m.byDetail.find((d) => d.detail === t.detail);
  if (row === undefined)
    return verdict(
      null,
      0,
      0,
      `no ${t.metric} sample has the detail "${t.detail}"${m.byDetail.length ? ` (recorded: ${m.byDetail.map((d) => d.detail).join(', ')})` : ''}`,
    );
  if (t.stat === 'error-rate') {
    const errors = t.detail === null ? m.errors : 0;
    const all = row.count + errors;
    return verdict(all === 0 ? null : errors / all, all, 0, `no ${t.metric} sample was recorded and no session failed before it`);
  }
  // The metric's row, or its detail's: without the saturated samples unless the threshold takes them.
  const stats = thresholdStats({ ...row, unsaturated: row.unsaturated }, { includeSaturated: t.includeSaturated });
  const observed = statOf(stats, t.stat);
  return verdict(
    observed,
    stats.count,
    t.includeSaturated ? 0 : row.saturated,
    row.count === 0
      ? `no ${t.metric} sample was recorded`
      : `no unsaturated ${t.metric} sample: all ${row.count} were taken while an agent's CPU was saturated (fewer sessions per agent, or more agents)`,
  );
}

/** Every threshold against the summary, in the order given. Pure. */
export function judgeThresholds(summary: RunSummary, thresholds: readonly Threshold[]): ThresholdResult[] {
  return thresholds.map((t) => judgeThreshold(summary, t));
}

/** A value in the threshold's unit, for people: `812 ms`, `3.1 %`, `0.12`. */
export function formatThresholdValue(r: Pick<ThresholdResult, 'metric' | 'stat' | 'unit'>, v: number): string {
  if (r.stat === 'error-rate') return `${(v * 100).toFixed(v * 100 >= 10 || v === 0 ? 0 : 1)} %`;
  const unit = isMetricName(r.metric) ? METRICS[r.metric].unit : r.unit !== undefined && r.unit !== '?' ? r.unit : '';
  if (unit === 'ms') return `${Math.round(v)} ms`;
  return `${Number.isInteger(v) ? v : v.toFixed(3)}${unit && unit !== 'count' ? ` ${unit}` : ''}`;
}

/** What a threshold judged: `p95 412 ms over 40 value(s) (3 saturated left out)`, or why there was nothing to judge. Pure. */
export function thresholdObservation(r: ThresholdResult): string {
  if (r.observed === null) return r.reason ?? 'nothing to judge';
  const saturated = r.includeSaturated ? ' (saturated samples included)' : r.saturatedExcluded ? ` (${r.saturatedExcluded} saturated left out)` : '';
  return `${r.stat} ${formatThresholdValue(r, r.observed)} over ${r.count} ${r.metric === SESSIONS_METRIC ? 'session(s)' : 'value(s)'}${saturated}`;
}

/** `pass  api_create:p95<800ms  p95 412 ms over 40 value(s) (3 saturated left out)` — one line per threshold. Pure. */
export function thresholdLine(r: ThresholdResult): string {
  return `${r.ok ? 'pass' : 'FAIL'}  ${r.threshold}  ${thresholdObservation(r)}${r.abortOnFail ? '  [abort-on-fail]' : ''}`;
}

export function thresholdsFailed(results: readonly ThresholdResult[]): ThresholdResult[] {
  return results.filter((r) => !r.ok);
}
