import { coreMetrics, isScenarioName } from '@userprobe/shared';

/*
 * Pure part of the rollup job: percentile rows (from SQL) and failed sessions
 * of one bucket become the rows upserted into `rollups`.
 */

export interface PercentileRow {
  readonly metric: string;
  readonly scenario: string;
  readonly location: string;
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface FailedSession {
  readonly scenario: string;
  readonly location: string;
  /** Metrics the session did record before it failed. */
  readonly recorded: readonly string[];
}

export interface RollupRow {
  readonly metric: string;
  readonly scenario: string;
  readonly location: string;
  readonly count: number;
  readonly errors: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly max: number | null;
}

/**
 * `errors` of (metric, scenario, location) = failed sessions there that did
 * not record that metric although it is a core metric of the scenario. A
 * metric nobody measured in the bucket still gets a row when it has errors.
 */
export function mergeRollups(percentiles: readonly PercentileRow[], failed: readonly FailedSession[]): RollupRow[] {
  const key = (m: string, s: string, l: string): string => `${m}\u0000${s}\u0000${l}`;
  const out = new Map<string, RollupRow>();
  for (const p of percentiles) out.set(key(p.metric, p.scenario, p.location), { ...p, errors: 0 });
  for (const f of failed) {
    if (!isScenarioName(f.scenario)) continue;
    const recorded = new Set(f.recorded);
    for (const metric of coreMetrics(f.scenario)) {
      if (recorded.has(metric)) continue;
      const k = key(metric, f.scenario, f.location);
      const row = out.get(k) ?? { metric, scenario: f.scenario, location: f.location, count: 0, errors: 0, p50: null, p95: null, max: null };
      out.set(k, { ...row, errors: row.errors + 1 });
    }
  }
  return [...out.values()].sort((a, b) => (a.metric + a.scenario + a.location).localeCompare(b.metric + b.scenario + b.location));
}
