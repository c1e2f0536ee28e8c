import { pct, rankWindow, sql } from '../sql/sql-snippets.js';
import { ALL, anyOf, runOf } from './variables.js';

/*
 * Percentiles over time for the overview, cheap at any range. Up to
 * RAW_RANGE_MAX_S the panels compute nearest-rank p50/p95 per interval from
 * raw samples, filtered by every variable. Longer ranges read the 5-minute
 * rollups instead — p50 the count-weighted mean of the buckets' p50, p95 the
 * worst bucket's p95 — which exist per metric, scenario and location only, so
 * they are used only when check and target are All (otherwise raw samples
 * still answer). Both halves are in every query; the one that does not apply
 * has a WHERE that is false from constants alone (the range and the custom all
 * value, see variables.ts), which MySQL notices before reading a row
 * ("Impossible WHERE"; the query test checks with ANALYZE that the other
 * half's table is never read).
 *
 * Rollups are as fresh as the last retention pass (`retention.every` of the
 * daemon, or the `controller retention` timer).
 */

/** A day, plus an hour's slack so Grafana's "Last 24 hours" stays on raw samples. */
export const RAW_RANGE_MAX_S = 25 * 3_600;

/** True (from constants) when a panel reads rollups rather than raw samples. */
export const ROLLUPS_APPLY = `($__unixEpochTo() - $__unixEpochFrom() > ${RAW_RANGE_MAX_S} AND ${ALL} IN ($check) AND ${ALL} IN ($target))`;

/**
 * `metricFilter` is a condition on the `metric` column, true in both tables.
 * `byMetric`: one series per scenario and metric (`metric` = "scenario metric"),
 * else one per scenario (a `scenario` column; the panel shows one metric).
 */
export function percentilesOverTime(metricFilter: string, byMetric: boolean): string {
  const rawKeys = byMetric ? 'scenario, metric AS m' : 'scenario';
  const rawPartition = byMetric ? '$__timeGroup(ts, $__interval), scenario, metric' : '$__timeGroup(ts, $__interval), scenario';
  const series = byMetric ? "CONCAT(scenario, ' ', m) AS metric" : 'scenario';
  const rawGroup = byMetric ? 'time, scenario, m' : 'time, scenario';
  const rollupSeries = byMetric ? "CONCAT(scenario, ' ', metric) AS metric" : 'scenario';
  return sql`
    (SELECT time, ${series}, ${pct(50, 'p50')}, ${pct(95, 'p95')}
       FROM (SELECT $__timeGroupAlias(ts, $__interval), ${rawKeys}, value, ${rankWindow(rawPartition)}
               FROM samples
              WHERE NOT ${ROLLUPS_APPLY} AND $__timeFilter(ts) AND ${metricFilter}
                AND scenario IN ($scenario) AND ${anyOf('location', 'location')} AND ${runOf('run_id')}) AS t
      GROUP BY ${rawGroup})
    UNION ALL
    (SELECT $__timeGroupAlias(bucket_start, $__interval), ${rollupSeries},
            SUM(p50 * count) / SUM(count) AS p50, MAX(p95) AS p95
       FROM rollups
      WHERE ${ROLLUPS_APPLY} AND $__timeFilter(bucket_start) AND ${metricFilter}
        AND scenario IN ($scenario) AND ${anyOf('location', 'location')}
      GROUP BY 1, 2)
    ORDER BY time`;
}
