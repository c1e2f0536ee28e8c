import { DashboardBuilder, QueryVariableBuilder, VariableRefresh } from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from '../sql/mysql-query.js';
import { pct, rankWindow, sql } from '../sql/sql-snippets.js';
import { dashboardLinks, Grid, GRAFANA_UNITS, otherUnits, QueryRegistry, seriesOf, TAGS, tbl, ts, unitCase, type GeneratedDashboard } from './panels.js';
import { DASHBOARD_UIDS } from './uids.js';
import { anyOf, checkOf, checkVar, LOAD_TESTS, targetVar } from './variables.js';

/** Newest runs the picker lists (for the selected checks and targets). */
const RUN_PICKER_LIMIT = 500;

/** SQL: the unit of a metric column, from the catalog or else from the chosen run's declaration of the custom metric (custom_metrics). */
function metricUnit(column: string): string {
  return `COALESCE(${unitCase(column)}, (SELECT cm.unit FROM custom_metrics cm WHERE cm.run_id = '$run' AND cm.name = ${column}))`;
}

/**
 * The run's samples of the custom metrics it declared, per metric. Only those
 * samples are ranked (filtered before the window), not every sample of the run;
 * the join brings the unit and description the run's module gave each.
 */
function customMetricsSql(): string {
  return sql`
      SELECT t.metric, c.unit, c.description, COUNT(*) AS count, ${pct(50, 'p50')}, ${pct(95, 'p95')}, MAX(value) AS max
        FROM (SELECT metric, value, ${rankWindow('metric')}
                FROM samples
               WHERE run_id = '$run' AND metric IN (SELECT name FROM custom_metrics WHERE run_id = '$run')) AS t
        JOIN custom_metrics c ON c.run_id = '$run' AND c.name = t.metric
       GROUP BY t.metric, c.unit, c.description
       ORDER BY t.metric`;
}

export function runDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.run);
  const g = new Grid();
  // Monitor rounds are runs too, a few a minute: the picker starts on load tests.
  const runVar = new QueryVariableBuilder('run')
    .label('Run')
    .datasource(DATASOURCE)
    .query(
      sql`
      SELECT run_id AS __value,
             CONCAT(DATE_FORMAT(started_at, '%Y-%m-%d %H:%i UTC'), ' · ', COALESCE(check_name, 'load test'), ' · ', scenario,
                    ' · ', target_name, ' · ', status, ' · ', run_id) AS __text
        FROM runs
       WHERE ${checkOf('check_name')} AND ${anyOf('target', 'target_name')}
       ORDER BY started_at DESC
       LIMIT ${RUN_PICKER_LIMIT}`,
    )
    .refresh(VariableRefresh.OnDashboardLoad)
    .multi(false)
    .includeAll(false);
  const statsSql = (partition: string, select: string, group: string): string => sql`
      SELECT ${select}, ${metricUnit('t.metric')} AS unit, COUNT(*) AS count, ${pct(50, 'p50')}, ${pct(95, 'p95')}, ${pct(99, 'p99')},
             MAX(value) AS max, SUM(saturated) AS saturated
        FROM (SELECT agent_id, location, metric, value, saturated, ${rankWindow(partition)}
                FROM samples WHERE run_id = '$run') AS t
       GROUP BY ${group}
       ORDER BY ${group}`;
  const statsNote =
    'Nearest-rank percentiles over every sample of the run, in the unit of the `unit` column; `count` and `saturated` (samples taken while the agent CPU was saturated) are counts.';
  let overTime = ts('Metrics over the run (mean per interval)', GRAFANA_UNITS.ms).description(
    `Set the time range to the run's (see the Run table). Metrics are in ms except ${otherUnits()
      .map((u) => `${u.metrics.join(', ')} (${GRAFANA_UNITS[u.unit]})`)
      .join('; ')}.`,
  );
  for (const { unit, metrics } of otherUnits()) overTime = overTime.overrideByRegexp(seriesOf(metrics), [{ id: 'unit', value: GRAFANA_UNITS[unit] }]);
  const d = new DashboardBuilder('userprobe — run')
    .uid(DASHBOARD_UIDS.run)
    .tags(TAGS)
    .timezone('utc')
    .time({ from: 'now-7d', to: 'now' })
    .link(dashboardLinks())
    .withVariable(checkVar({ defaultLoadTests: true }))
    .withVariable(targetVar())
    .withVariable(runVar)
    .withPanel(
      g.place(
        tbl('Run')
          .description(`check_name is empty for a load test (${LOAD_TESTS} in the Check picker).`)
          .withTarget(
            q.query(
              'Run',
              sql`
      SELECT run_id, check_name, scenario, browser, target_name, status, total_sessions, started_at, ended_at,
             (SELECT COUNT(*) FROM sessions s WHERE s.run_id = r.run_id AND s.status = 'ok') AS ok,
             (SELECT COUNT(*) FROM sessions s WHERE s.run_id = r.run_id AND s.status <> 'ok') AS failed
        FROM runs r
       WHERE run_id = '$run'`,
              'table',
              ['run_id', 'check_name', 'scenario', 'browser', 'target_name', 'status', 'total_sessions', 'started_at', 'ended_at', 'ok', 'failed'],
            ),
          ),
        24,
        5,
      ),
    )
    .withPanel(
      g.place(
        tbl('Metrics (whole run)')
          .unit('none')
          .description(statsNote)
          .withTarget(
            q.query('Metrics (whole run)', statsSql('metric', 'metric', 'metric'), 'table', [
              'metric',
              'unit',
              'count',
              'p50',
              'p95',
              'p99',
              'max',
              'saturated',
            ]),
          ),
        12,
        10,
      ),
    )
    .withPanel(
      g.place(
        tbl('Metrics per agent')
          .unit('none')
          .description(statsNote)
          .withTarget(
            q.query('Metrics per agent', statsSql('agent_id, location, metric', 'agent_id, location, metric', 'agent_id, location, metric'), 'table', [
              'agent_id',
              'location',
              'metric',
              'unit',
              'count',
              'p50',
              'p95',
              'p99',
              'max',
              'saturated',
            ]),
          ),
        12,
        10,
      ),
    )
    .withPanel(
      g.place(
        tbl('Custom metrics')
          .unit('none')
          .description(
            "Metrics the run's custom scenario module declares, with the unit and description of their latest declaration (empty for a built-in scenario). " +
              'Nearest-rank percentiles over every sample of the run, in the unit of the `unit` column; `count` is a count of samples.',
          )
          .withTarget(q.query('Custom metrics', customMetricsSql(), 'table', ['metric', 'unit', 'description', 'count', 'p50', 'p95', 'max'])),
        24,
        6,
      ),
    )
    .withPanel(
      g.place(
        overTime.withTarget(
          q.query(
            'Metrics over the run (mean per interval)',
            sql`
      SELECT $__timeGroupAlias(ts, $__interval), metric, AVG(value) AS value
        FROM samples
       WHERE run_id = '$run' AND $__timeFilter(ts)
       GROUP BY 1, 2
       ORDER BY 1`,
            'time_series',
            ['value'],
          ),
        ),
        24,
        8,
      ),
    )
    .withPanel(
      g.place(
        tbl('Failed sessions')
          .description("Evidence paths are relative to the run's results folder on the controller.")
          .withTarget(
            q.query(
              'Failed sessions',
              sql`
      SELECT s.ended_at, s.session_id, COALESCE(ra.name, s.agent_id) AS agent, s.location, s.status, s.failed_step,
             s.error_code, s.error_message, s.artifact_path AS evidence
        FROM sessions s
        LEFT JOIN run_agents ra ON ra.run_id = s.run_id AND ra.agent_id = s.agent_id
       WHERE s.run_id = '$run' AND s.status <> 'ok'
       ORDER BY s.ended_at`,
              'table',
              ['ended_at', 'session_id', 'agent', 'location', 'status', 'failed_step', 'error_code', 'error_message', 'evidence'],
            ),
          ),
        24,
        10,
      ),
    );
  return { file: 'run.json', dashboard: d.build(), expectations: q.expectations };
}
