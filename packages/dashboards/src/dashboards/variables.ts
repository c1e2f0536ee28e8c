import { CustomVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { coreMetrics, SCENARIOS, type MetricName } from '@userprobe/shared';
import { DATASOURCE } from '../sql/mysql-query.js';
import { sql } from '../sql/sql-snippets.js';
import { metricsWithUnit } from './panels.js';

/*
 * Template variables and the SQL filters written against them.
 *
 * Variables whose options are not a complete, fixed list (checks, targets,
 * locations: their options come from a query bounded by the time range) have
 * a custom "All" value, ALL. Grafana inserts a custom all value as it is, not
 * quoted like a selection (templateSrv: "skip formatting of custom all
 * values"), so `anyOf()` reads `'__all__' IN ('__all__') OR …`: MySQL folds
 * it to true and no filter is applied, whatever the options held. A selection
 * is quoted as usual (`'__all__' IN ('nyc1') OR col IN ('nyc1')`).
 */

/** The custom "All" value (SQL, with its quotes): no check, target or location name can be it. */
export const ALL = "'__all__'";

/** The `check` option of runs that are no check's round (runs.check_name NULL): load tests. */
export const LOAD_TESTS = '(load tests)';

/** `column` matches the selection of `variable` (every row when All). */
export function anyOf(variable: string, column: string): string {
  return `(${ALL} IN ($${variable}) OR ${column} IN ($${variable}))`;
}

/** A runs.check_name column matches `$check`: a check by name, `(load tests)` for NULL. */
export function checkOf(column: string): string {
  return `(${ALL} IN ($check) OR ${column} IN ($check) OR ('${LOAD_TESTS}' IN ($check) AND ${column} IS NULL))`;
}

/** The run of a row (its run_id column) matches `$check` and `$target`; no look-up at all when both are All. */
export function runOf(runIdColumn: string): string {
  return `((${ALL} IN ($check) AND ${ALL} IN ($target)) OR ${runIdColumn} IN (SELECT run_id FROM runs WHERE ${checkOf('check_name')} AND ${anyOf('target', 'target_name')}))`;
}

/** Checks (by name) and `(load tests)`: tells monitors from load tests. */
export function checkVar(o: { defaultLoadTests?: boolean } = {}): QueryVariableBuilder {
  const v = new QueryVariableBuilder('check')
    .label('Check')
    .datasource(DATASOURCE)
    .description(`A monitor check's rounds, or ${LOAD_TESTS}: runs that are no check's round.`)
    .query(
      sql`
      SELECT '${LOAD_TESTS}' AS check_name
      UNION
      SELECT DISTINCT check_name FROM runs WHERE check_name IS NOT NULL
      ORDER BY 1`,
    )
    .multi(true)
    .includeAll(true)
    .allValue(ALL)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc);
  return o.defaultLoadTests === true ? v.current({ selected: true, text: [LOAD_TESTS], value: [LOAD_TESTS] }) : v;
}

/** Targets (tenants) of the runs started in the time range. */
export function targetVar(): QueryVariableBuilder {
  return new QueryVariableBuilder('target')
    .label('Target')
    .datasource(DATASOURCE)
    .description('The target profile (tenant) runs measured.')
    .query('SELECT DISTINCT target_name FROM runs WHERE $__timeFilter(started_at) ORDER BY 1')
    .multi(true)
    .includeAll(true)
    .allValue(ALL)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/** The scenarios: a fixed list (a scenario module runs under its capacity class's name). */
export function scenarioVar(): CustomVariableBuilder {
  return new CustomVariableBuilder('scenario').label('Scenario').values(SCENARIOS.join(',')).multi(true).includeAll(true);
}

/** Locations that ended sessions in the time range. */
export function locationVar(): QueryVariableBuilder {
  return new QueryVariableBuilder('location')
    .label('Location')
    .datasource(DATASOURCE)
    .query('SELECT DISTINCT location FROM sessions WHERE $__timeFilter(ended_at) ORDER BY 1')
    .multi(true)
    .includeAll(true)
    .allValue(ALL)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/**
 * The catalog's ms metrics (static: no query scans samples to list them); the
 * overview repeats a panel per selected one, the core metrics by default.
 * Metrics of other units have panels of their own.
 */
export function delayMetricVar(): CustomVariableBuilder {
  const ms = metricsWithUnit('ms');
  const core = [...new Set(SCENARIOS.flatMap((s) => coreMetrics(s)))].filter((m: MetricName) => ms.includes(m));
  return new CustomVariableBuilder('metric')
    .label('Delay metric')
    .values(ms.join(','))
    .multi(true)
    .includeAll(true)
    .current({ selected: true, text: core, value: core });
}

/** Checks with monitor rounds in the time range (the Monitor dashboard). */
export function monitorCheckVar(): QueryVariableBuilder {
  return new QueryVariableBuilder('check')
    .label('Check')
    .datasource(DATASOURCE)
    .query('SELECT DISTINCT check_name FROM monitor_rounds WHERE $__timeFilter(slot_at) ORDER BY 1')
    .multi(true)
    .includeAll(true)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/** Locations of the selected checks (every one they ever had: a few rows of the primary key). */
export function monitorLocationVar(): QueryVariableBuilder {
  return new QueryVariableBuilder('location')
    .label('Location')
    .datasource(DATASOURCE)
    .query('SELECT DISTINCT location FROM monitor_rounds WHERE check_name IN ($check) ORDER BY 1')
    .multi(true)
    .includeAll(true)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}
