import { DashboardBuilder, DashboardCursorSync } from '@grafana/grafana-foundation-sdk/dashboard';
import type { MetricUnit } from '@userprobe/shared';
import { failedShare, sql } from '../sql/sql-snippets.js';
import { percentilesOverTime } from './percentile-sql.js';
import { COUNT_UNIT, dashboardLinks, Grid, GRAFANA_UNITS, otherUnits, QueryRegistry, SHARE_UNIT, TAGS, tbl, ts, type GeneratedDashboard } from './panels.js';
import { DASHBOARD_UIDS } from './uids.js';
import { anyOf, checkVar, delayMetricVar, locationVar, runOf, scenarioVar, targetVar } from './variables.js';

const UNIT_TITLES: Readonly<Record<MetricUnit, string>> = {
  ms: 'Delays',
  count: 'Counts',
  fps: 'Frames per second',
  ratio: 'Layout shift (score)',
  bytes: 'Sizes',
};

const SOURCE_NOTE =
  'Ranges up to a day: nearest-rank p50/p95 per interval from raw samples, filtered by every variable. ' +
  'Longer ranges with Check and Target on All: the 5-minute rollups (p50: count-weighted mean of the bucket p50s; p95: the worst bucket p95), ' +
  'as fresh as the last retention pass (docs/storage.md).';

export function overviewDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.overview);
  const g = new Grid();
  const delayTitle = '$metric — p50 / p95 per scenario';
  let d = new DashboardBuilder('userprobe — overview')
    .uid(DASHBOARD_UIDS.overview)
    .tags(TAGS)
    .timezone('utc')
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(dashboardLinks())
    .withVariable(checkVar())
    .withVariable(targetVar())
    .withVariable(scenarioVar())
    .withVariable(locationVar())
    .withVariable(delayMetricVar())
    .withPanel(
      g.place(
        ts('Failed sessions per scenario', SHARE_UNIT)
          .min(0)
          .description(
            'Failed ÷ (ok + failed) sessions per scenario, by the time they ended; aborted sessions (a run stopped by its operator or the daemon) are left out.',
          )
          .withTarget(
            q.query(
              'Failed sessions per scenario',
              sql`
      SELECT $__timeGroupAlias(ended_at, $__interval), scenario AS metric,
             ${failedShare('status')} AS failed
        FROM sessions
       WHERE $__timeFilter(ended_at) AND scenario IN ($scenario) AND ${anyOf('location', 'location')} AND ${runOf('run_id')}
       GROUP BY 1, 2
       ORDER BY 1`,
              'time_series',
              ['failed'],
            ),
          ),
        12,
        8,
      ),
    )
    .withPanel(
      g.place(
        ts('Sessions per location / agent', COUNT_UNIT)
          .min(0)
          .description('Sessions that ended in each interval, per location and agent name.')
          .withTarget(
            q.query(
              'Sessions per location / agent',
              sql`
      SELECT $__timeGroupAlias(s.ended_at, $__interval), CONCAT(s.location, ' / ', COALESCE(ra.name, s.agent_id)) AS metric,
             COUNT(*) AS sessions
        FROM sessions s
        LEFT JOIN run_agents ra ON ra.run_id = s.run_id AND ra.agent_id = s.agent_id
       WHERE $__timeFilter(s.ended_at) AND s.scenario IN ($scenario) AND ${anyOf('location', 's.location')} AND ${runOf('s.run_id')}
       GROUP BY 1, 2
       ORDER BY 1`,
              'time_series',
              ['sessions'],
            ),
          ),
        12,
        8,
      ),
    );
  const others = otherUnits();
  for (const { unit, metrics } of others) {
    const title = `${UNIT_TITLES[unit]} — p50 / p95 per scenario and metric`;
    d = d.withPanel(
      g.place(
        ts(title, GRAFANA_UNITS[unit])
          .description(`${metrics.join(', ')}. ${SOURCE_NOTE}`)
          .withTarget(q.query(title, percentilesOverTime(`metric IN (${metrics.map((m) => `'${m}'`).join(', ')})`, true), 'time_series', ['p50', 'p95'])),
        Math.floor(24 / others.length),
        8,
      ),
    );
  }
  // On a row of its own: Grafana lays the repeats out side by side, two per row.
  d = d.withPanel(
    g.place(
      ts(delayTitle, GRAFANA_UNITS.ms)
        .repeat('metric')
        .repeatDirection('h')
        .maxPerRow(2)
        .description(SOURCE_NOTE)
        .withTarget(q.query(delayTitle, percentilesOverTime('metric IN ($metric)', false), 'time_series', ['p50', 'p95'])),
      24,
      8,
    ),
  );
  d = d.withPanel(
    g.place(
      tbl('Sessions per agent and location')
        .description('Sessions that ended in the time range.')
        .withTarget(
          q.query(
            'Sessions per agent and location',
            sql`
      SELECT s.location, COALESCE(MAX(ra.name), s.agent_id) AS agent, s.scenario,
             COUNT(*) AS sessions, SUM(s.status = 'ok') AS ok, SUM(s.status <> 'ok') AS failed
        FROM sessions s
        LEFT JOIN run_agents ra ON ra.run_id = s.run_id AND ra.agent_id = s.agent_id
       WHERE $__timeFilter(s.ended_at) AND s.scenario IN ($scenario) AND ${anyOf('location', 's.location')} AND ${runOf('s.run_id')}
       GROUP BY s.location, s.agent_id, s.scenario
       ORDER BY s.location, agent, s.scenario`,
            'table',
            ['location', 'agent', 'scenario', 'sessions', 'ok', 'failed'],
          ),
        ),
      24,
      8,
    ),
  );
  return { file: 'overview.json', dashboard: d.build(), expectations: q.expectations };
}
