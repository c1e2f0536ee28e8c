import {
  CustomVariableBuilder, DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, QueryVariableBuilder,
  VariableRefresh, VariableSort, type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { VisibilityMode } from '@grafana/grafana-foundation-sdk/common';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { METRIC_NAMES, METRICS } from '@userprobe/shared';
import { DATASOURCE } from './mysql-query.js';
import { Grid, QueryRegistry, type QueryExpectation } from './panel-kit.js';
import { pct, rankWindow, sql } from './sql-snippets.js';

export const DASHBOARD_UIDS = { overview: 'userprobe-overview', run: 'userprobe-run', agents: 'userprobe-agents' } as const;
const TAGS = ['userprobe'];
/** Smallest $__interval Grafana picks for these panels (a few sessions every few minutes). */
const MIN_INTERVAL = '1m';

export interface GeneratedDashboard {
  readonly file: string;
  readonly dashboard: Dashboard;
  readonly expectations: readonly QueryExpectation[];
}

function links(): DashboardLinkBuilder {
  return new DashboardLinkBuilder('userprobe').type(DashboardLinkType.Dashboards).tags(TAGS).asDropdown(true).includeVars(true).keepTime(true);
}

function scenarioVar(): QueryVariableBuilder {
  return new QueryVariableBuilder('scenario').label('Scenario').datasource(DATASOURCE)
    .query('SELECT DISTINCT scenario FROM runs ORDER BY 1').multi(true).includeAll(true)
    .refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalAsc);
}

function locationVar(): QueryVariableBuilder {
  return new QueryVariableBuilder('location').label('Location').datasource(DATASOURCE)
    .query('SELECT DISTINCT location FROM run_agents ORDER BY 1').multi(true).includeAll(true)
    .refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalAsc);
}

/** The metric catalog's names: static, so no query has to scan samples to list them. */
function metricVar(): CustomVariableBuilder {
  return new CustomVariableBuilder('metric').label('Metric').values(METRIC_NAMES.join(',')).multi(true).includeAll(true);
}

function ts(title: string, unit: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder().title(title).datasource(DATASOURCE).unit(unit).interval(MIN_INTERVAL)
    .lineWidth(1).fillOpacity(5).showPoints(VisibilityMode.Auto).spanNulls(false);
}

function tbl(title: string): table.PanelBuilder {
  return new table.PanelBuilder().title(title).datasource(DATASOURCE);
}

export function overviewDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.overview);
  const g = new Grid();
  const pctTitle = '$metric — p50 / p95 per scenario';
  const d = new DashboardBuilder('userprobe — overview').uid(DASHBOARD_UIDS.overview).tags(TAGS).timezone('utc')
    .time({ from: 'now-24h', to: 'now' }).refresh('1m').tooltip(DashboardCursorSync.Crosshair).link(links())
    .withVariable(scenarioVar()).withVariable(locationVar()).withVariable(metricVar())
    .withPanel(g.place(ts('Failed sessions (%) per scenario', 'percent').min(0).description(
      'Share of sessions that ended failed or aborted, per scenario, by the time they ended.',
    ).withTarget(q.query('Failed sessions (%) per scenario', sql`
      SELECT $__timeGroupAlias(ended_at, $__interval), scenario AS metric,
             100 * SUM(status <> 'ok') / COUNT(*) AS failed_pct
        FROM sessions
       WHERE $__timeFilter(ended_at) AND scenario IN ($scenario) AND location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['failed_pct'])), 12, 8))
    .withPanel(g.place(ts('Sessions per location / agent', 'short').min(0).description(
      'Sessions that ended in each interval, per location and agent name.',
    ).withTarget(q.query('Sessions per location / agent', sql`
      SELECT $__timeGroupAlias(s.ended_at, $__interval), CONCAT(s.location, ' / ', COALESCE(ra.name, s.agent_id)) AS metric,
             COUNT(*) AS sessions
        FROM sessions s
        LEFT JOIN run_agents ra ON ra.run_id = s.run_id AND ra.agent_id = s.agent_id
       WHERE $__timeFilter(s.ended_at) AND s.scenario IN ($scenario) AND s.location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['sessions'])), 12, 8))
    .withPanel(g.place(ts(pctTitle, 'ms').repeat('metric').repeatDirection('h').maxPerRow(2).description(
      'Nearest-rank p50 and p95 of the metric in each interval, per scenario (raw samples; kept for the raw retention period).',
    ).withTarget(q.query(pctTitle, sql`
      SELECT time, scenario, ${pct(50, 'p50')}, ${pct(95, 'p95')}
        FROM (SELECT $__timeGroupAlias(ts, $__interval), scenario, value,
                     ${rankWindow('$__timeGroup(ts, $__interval), scenario')}
                FROM samples
               WHERE $__timeFilter(ts) AND metric IN ($metric) AND scenario IN ($scenario) AND location IN ($location)) AS t
       GROUP BY time, scenario
       ORDER BY time`, 'time_series', ['p50', 'p95'])), 12, 8))
    .withPanel(g.place(ts('Long term: p95 from 5-minute rollups', 'ms').description(
      'Worst 5-minute p95 in each interval per scenario and metric, from the rollups table (kept after raw samples are deleted; see docs/storage.md).',
    ).withTarget(q.query('Long term: p95 from 5-minute rollups', sql`
      SELECT $__timeGroupAlias(bucket_start, $__interval), CONCAT(scenario, ' ', metric) AS metric, MAX(p95) AS p95
        FROM rollups
       WHERE $__timeFilter(bucket_start) AND metric IN ($metric) AND scenario IN ($scenario) AND location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['p95'])), 24, 8))
    .withPanel(g.place(tbl('Sessions per agent and location').description('Sessions that ended in the time range.')
      .withTarget(q.query('Sessions per agent and location', sql`
      SELECT s.location, COALESCE(MAX(ra.name), s.agent_id) AS agent, s.scenario,
             COUNT(*) AS sessions, SUM(s.status = 'ok') AS ok, SUM(s.status <> 'ok') AS failed
        FROM sessions s
        LEFT JOIN run_agents ra ON ra.run_id = s.run_id AND ra.agent_id = s.agent_id
       WHERE $__timeFilter(s.ended_at) AND s.scenario IN ($scenario) AND s.location IN ($location)
       GROUP BY s.location, s.agent_id, s.scenario
       ORDER BY s.location, agent, s.scenario`, 'table', ['location', 'agent', 'scenario', 'sessions', 'ok', 'failed'])), 24, 8));
  return { file: 'overview.json', dashboard: d.build(), expectations: q.expectations };
}

export function runDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.run);
  const g = new Grid();
  const runVar = new QueryVariableBuilder('run').label('Run').datasource(DATASOURCE)
    .query(sql`
      SELECT run_id AS __value,
             CONCAT(DATE_FORMAT(started_at, '%Y-%m-%d %H:%i UTC'), ' · ', scenario, ' · ', status, ' · ', run_id) AS __text
        FROM runs
       ORDER BY started_at DESC
       LIMIT 500`)
    .refresh(VariableRefresh.OnDashboardLoad).multi(false).includeAll(false);
  const statsSql = (partition: string, select: string, group: string): string => sql`
      SELECT ${select}, COUNT(*) AS count, ${pct(50, 'p50')}, ${pct(95, 'p95')}, ${pct(99, 'p99')}, MAX(value) AS max,
             SUM(saturated) AS saturated
        FROM (SELECT agent_id, location, metric, value, saturated, ${rankWindow(partition)}
                FROM samples WHERE run_id = '$run') AS t
       GROUP BY ${group}
       ORDER BY ${group}`;
  const d = new DashboardBuilder('userprobe — run').uid(DASHBOARD_UIDS.run).tags(TAGS).timezone('utc')
    .time({ from: 'now-7d', to: 'now' }).link(links()).withVariable(runVar)
    .withPanel(g.place(tbl('Run').withTarget(q.query('Run', sql`
      SELECT run_id, scenario, browser, target_name, status, total_sessions, started_at, ended_at,
             (SELECT COUNT(*) FROM sessions s WHERE s.run_id = r.run_id AND s.status = 'ok') AS ok,
             (SELECT COUNT(*) FROM sessions s WHERE s.run_id = r.run_id AND s.status <> 'ok') AS failed
        FROM runs r
       WHERE run_id = '$run'`, 'table',
      ['run_id', 'scenario', 'browser', 'target_name', 'status', 'total_sessions', 'started_at', 'ended_at', 'ok', 'failed'])), 24, 5))
    .withPanel(g.place(tbl('Metrics (whole run)').description('Nearest-rank percentiles over every sample of the run; `saturated` counts samples taken while the agent CPU was saturated.')
      .withTarget(q.query('Metrics (whole run)', statsSql('metric', 'metric', 'metric'), 'table',
        ['metric', 'count', 'p50', 'p95', 'p99', 'max', 'saturated'])), 12, 10))
    .withPanel(g.place(tbl('Metrics per agent').withTarget(q.query('Metrics per agent',
      statsSql('agent_id, location, metric', 'agent_id, location, metric', 'agent_id, location, metric'), 'table',
      ['agent_id', 'location', 'metric', 'count', 'p50', 'p95', 'p99', 'max', 'saturated'])), 12, 10))
    .withPanel(g.place(ts('Metrics over the run (mean per interval)', 'ms').description('Set the time range to the run\'s (see the Run table).')
      .withTarget(q.query('Metrics over the run (mean per interval)', sql`
      SELECT $__timeGroupAlias(ts, $__interval), metric, AVG(value) AS value
        FROM samples
       WHERE run_id = '$run' AND $__timeFilter(ts)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['value'])), 24, 8))
    .withPanel(g.place(tbl('Failed sessions').description('Evidence paths are relative to the run\'s results folder on the controller.')
      .withTarget(q.query('Failed sessions', sql`
      SELECT s.ended_at, s.session_id, COALESCE(ra.name, s.agent_id) AS agent, s.location, s.status, s.failed_step,
             s.error_code, s.error_message, s.artifact_path AS evidence
        FROM sessions s
        LEFT JOIN run_agents ra ON ra.run_id = s.run_id AND ra.agent_id = s.agent_id
       WHERE s.run_id = '$run' AND s.status <> 'ok'
       ORDER BY s.ended_at`, 'table',
      ['ended_at', 'session_id', 'agent', 'location', 'status', 'failed_step', 'error_code', 'error_message', 'evidence'])), 24, 10));
  return { file: 'run.json', dashboard: d.build(), expectations: q.expectations };
}

export function agentsDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.agents);
  const g = new Grid();
  const d = new DashboardBuilder('userprobe — agent health').uid(DASHBOARD_UIDS.agents).tags(TAGS).timezone('utc')
    .time({ from: 'now-24h', to: 'now' }).refresh('1m').link(links()).withVariable(locationVar())
    .withPanel(g.place(tbl('Agents').description('Every agent seen in the time range: runs joined, sessions, failures, share of samples taken while its CPU was saturated.')
      .withTarget(q.query('Agents', sql`
      SELECT ra.agent_id, MAX(ra.name) AS name, MAX(ra.location) AS location, COUNT(DISTINCT ra.run_id) AS runs,
             MAX(ra.joined_at) AS last_joined,
             (SELECT COUNT(*) FROM sessions s WHERE s.agent_id = ra.agent_id AND $__timeFilter(s.ended_at)) AS sessions,
             (SELECT COUNT(*) FROM sessions s WHERE s.agent_id = ra.agent_id AND s.status <> 'ok' AND $__timeFilter(s.ended_at)) AS failed,
             (SELECT 100 * AVG(sa.saturated) FROM samples sa WHERE sa.agent_id = ra.agent_id AND $__timeFilter(sa.ts)) AS saturated_pct
        FROM run_agents ra
       WHERE $__timeFilter(ra.joined_at) AND ra.location IN ($location)
       GROUP BY ra.agent_id
       ORDER BY location, name`, 'table',
      ['agent_id', 'name', 'location', 'runs', 'last_joined', 'sessions', 'failed', 'saturated_pct'])), 24, 8))
    .withPanel(g.place(ts('Samples taken while saturated (%) per agent', 'percent').min(0).max(100).description(
      'An agent whose CPU is saturated inflates its timings; its samples are flagged and shown here.',
    ).withTarget(q.query('Samples taken while saturated (%) per agent', sql`
      SELECT $__timeGroupAlias(ts, $__interval), agent_id AS metric, 100 * AVG(saturated) AS saturated_pct
        FROM samples
       WHERE $__timeFilter(ts) AND location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['saturated_pct'])), 12, 8))
    .withPanel(g.place(ts('Failed sessions per agent', 'short').min(0).withTarget(q.query('Failed sessions per agent', sql`
      SELECT $__timeGroupAlias(ended_at, $__interval), agent_id AS metric, SUM(status <> 'ok') AS failed
        FROM sessions
       WHERE $__timeFilter(ended_at) AND location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['failed'])), 12, 8))
    .withPanel(g.place(ts('Batches ingested per agent (direct / via the controller spool)', 'short').min(0).description(
      '`spool` batches were acknowledged from the controller\'s disk spool while MySQL was unreachable and written later.',
    ).withTarget(q.query('Batches ingested per agent (direct / via the controller spool)', sql`
      SELECT $__timeGroupAlias(ingested_at, $__interval), CONCAT(agent_id, ' ', via) AS metric, COUNT(*) AS batches
        FROM ingested_batches
       WHERE $__timeFilter(ingested_at)
       GROUP BY 1, 2
       ORDER BY 1`, 'time_series', ['batches'])), 12, 8))
    .withPanel(g.place(tbl('Failing steps per agent').withTarget(q.query('Failing steps per agent', sql`
      SELECT agent_id, location, scenario, failed_step, error_code, COUNT(*) AS sessions, MAX(ended_at) AS last_seen
        FROM sessions
       WHERE $__timeFilter(ended_at) AND status <> 'ok' AND location IN ($location)
       GROUP BY agent_id, location, scenario, failed_step, error_code
       ORDER BY sessions DESC`, 'table', ['agent_id', 'location', 'scenario', 'failed_step', 'error_code', 'sessions', 'last_seen'])), 12, 8));
  return { file: 'agents.json', dashboard: d.build(), expectations: q.expectations };
}

export function allDashboards(): GeneratedDashboard[] {
  return [overviewDashboard(), runDashboard(), agentsDashboard()];
}

/** Units of the catalog's metrics, for alert messages. */
export function metricUnit(name: string): string {
  return (METRICS as Record<string, { unit: string } | undefined>)[name]?.unit ?? '';
}
