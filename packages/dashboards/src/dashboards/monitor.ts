import { VisibilityMode } from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, DashboardCursorSync } from '@grafana/grafana-foundation-sdk/dashboard';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import { coreMetrics, METRICS, ROUND_STATUSES, SCENARIOS, type MetricName, type RoundStatus } from '@userprobe/shared';
import { DATASOURCE } from '../sql/mysql-query.js';
import { failedShare, pct, rankWindow, sql } from '../sql/sql-snippets.js';
import {
  colouredCells,
  dashboardLinks,
  Grid,
  GRAFANA_UNITS,
  MIN_INTERVAL,
  QueryRegistry,
  SHARE_UNIT,
  TAGS,
  tbl,
  ts,
  valueMappings,
  type GeneratedDashboard,
} from './panels.js';
import { DASHBOARD_UIDS } from './uids.js';
import { monitorCheckVar, monitorLocationVar } from './variables.js';

/*
 * The Monitor dashboard: per check × location, the rounds of the daemon
 * (monitor_rounds), the core metrics of its runs (runs.check_name), and the
 * controller's alert engine (alert_states, alerts).
 */

/**
 * How a round status is drawn. `rank` orders them from ok to worst: an
 * interval with several rounds shows its worst one.
 */
export const ROUND_DISPLAY: Readonly<Record<RoundStatus, { rank: number; color: string }>> = {
  ok: { rank: 0, color: 'green' },
  skipped: { rank: 1, color: 'blue' },
  missed: { rank: 2, color: 'purple' },
  gap: { rank: 3, color: 'orange' },
  'not-run': { rank: 4, color: 'dark-red' },
  failed: { rank: 5, color: 'red' },
};

/** The controller's alert states (sql/003_alerts.sql) and severities, firing first. */
const ALERT_STATE_DISPLAY = [
  ['firing', 'red'],
  ['pending', 'orange'],
  ['resolved', 'green'],
  ['ok', 'green'],
] as const;
const SEVERITY_DISPLAY = [
  ['failed', 'red'],
  ['degraded', 'orange'],
] as const;

/** Every scenario's core metrics (all ms; a check has one scenario, so its panel shows its own). */
export function monitoredMetrics(): MetricName[] {
  const core = [...new Set(SCENARIOS.flatMap((s) => coreMetrics(s)))];
  const notMs = core.filter((m) => METRICS[m].unit !== 'ms');
  if (notMs.length > 0) throw new Error(`core metrics ${notMs.join(', ')} are not ms: give them a panel of their unit on the Monitor dashboard`);
  return core;
}

const byRank = (): RoundStatus[] => [...ROUND_STATUSES].sort((a, b) => ROUND_DISPLAY[a].rank - ROUND_DISPLAY[b].rank);

export function monitorDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.monitor);
  const g = new Grid();
  const statusRank = `CASE status ${byRank()
    .map((s) => `WHEN '${s}' THEN ${ROUND_DISPLAY[s].rank}`)
    .join(' ')} END`;
  const roundsTitle = 'Rounds per check × location';
  const rounds = new statetimeline.PanelBuilder()
    .title(roundsTitle)
    .datasource(DATASOURCE)
    .interval(MIN_INTERVAL)
    .unit('none')
    .description(
      'Each round of the daemon at its slot: ok, failed (failed sessions, or the run failed), not-run (the run could not start), ' +
        'gap (no agent, or none with room, in the location), missed (the slot passed while the controller was stopped or stalled), ' +
        'skipped (the previous round still ran, or checks were paused for a load test). An interval with several rounds shows the worst.',
    )
    .mappings(valueMappings(byRank().map((s) => [ROUND_DISPLAY[s].rank, s, ROUND_DISPLAY[s].color] as const)))
    .mergeValues(true)
    .showValue(VisibilityMode.Never)
    .fillOpacity(80)
    .lineWidth(0)
    .withTarget(
      q.query(
        roundsTitle,
        sql`
      SELECT $__timeGroupAlias(slot_at, $__interval), CONCAT(check_name, ' / ', location) AS metric,
             MAX(${statusRank}) AS status
        FROM monitor_rounds
       WHERE $__timeFilter(slot_at) AND check_name IN ($check) AND location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`,
        'time_series',
        ['status'],
      ),
    );
  const latestTitle = 'Latest round per check × location';
  const latest = tbl(latestTitle)
    .description('The newest round in the time range, and the newest ok one (empty: none in the range).')
    .overrideByName('status', colouredCells(valueMappings(byRank().map((s) => [s, s, ROUND_DISPLAY[s].color] as const))))
    .withTarget(
      q.query(
        latestTitle,
        sql`
      SELECT check_name, location, status, slot_at, reason, sessions_ok, sessions_failed, last_ok_at, run_id
        FROM (SELECT check_name, location, status, slot_at, reason, sessions_ok, sessions_failed, run_id,
                     MAX(CASE WHEN status = 'ok' THEN slot_at END) OVER (PARTITION BY check_name, location) AS last_ok_at,
                     ROW_NUMBER() OVER (PARTITION BY check_name, location ORDER BY slot_at DESC) AS rn
                FROM monitor_rounds
               WHERE $__timeFilter(slot_at) AND check_name IN ($check) AND location IN ($location)) AS t
       WHERE rn = 1
       ORDER BY check_name, location`,
        'table',
        ['check_name', 'location', 'status', 'slot_at', 'reason', 'sessions_ok', 'sessions_failed', 'last_ok_at', 'run_id'],
      ),
    );
  const metrics = monitoredMetrics()
    .map((m) => `'${m}'`)
    .join(', ');
  const p95Title = '$check — p95 of the core metrics per location';
  const p95 = ts(p95Title, GRAFANA_UNITS.ms)
    .repeat('check')
    .repeatDirection('h')
    .maxPerRow(2)
    .description("Nearest-rank p95 per interval of the core metrics of the check's rounds (raw samples), one series per location and metric.")
    .withTarget(
      q.query(
        p95Title,
        sql`
      SELECT time, CONCAT(location, ' ', m) AS metric, ${pct(95, 'p95')}
        FROM (SELECT $__timeGroupAlias(s.ts, $__interval), s.location, s.metric AS m, s.value,
                     ${rankWindow('$__timeGroup(s.ts, $__interval), s.location, s.metric')}
                FROM samples s
                JOIN runs r ON r.run_id = s.run_id
               WHERE $__timeFilter(s.ts) AND s.metric IN (${metrics}) AND r.check_name IN ($check) AND s.location IN ($location)) AS t
       GROUP BY time, location, m
       ORDER BY time`,
        'time_series',
        ['p95'],
      ),
    );
  const failedTitle = 'Failed sessions per check × location';
  const failed = ts(failedTitle, SHARE_UNIT)
    .min(0)
    .description(
      "Failed ÷ (ok + failed) sessions of the checks' rounds, by the time they ended (aborted sessions are left out): what the failed-session alert rule evaluates.",
    )
    .withTarget(
      q.query(
        failedTitle,
        sql`
      SELECT $__timeGroupAlias(s.ended_at, $__interval), CONCAT(r.check_name, ' / ', s.location) AS metric,
             ${failedShare('s.status')} AS failed
        FROM sessions s
        JOIN runs r ON r.run_id = s.run_id
       WHERE $__timeFilter(s.ended_at) AND r.check_name IN ($check) AND s.location IN ($location)
       GROUP BY 1, 2
       ORDER BY 1`,
        'time_series',
        ['failed'],
      ),
    );
  const statesTitle = 'Alert states (controller)';
  const states = tbl(statesTitle)
    .unit('none')
    .description(
      "The controller's alert engine, one row per check, location (* = across its locations) and rule; firing first. `value` and `threshold` are in the rule's unit.",
    )
    .overrideByName('state', colouredCells(valueMappings(ALERT_STATE_DISPLAY.map(([s, c]) => [s, s, c] as const))))
    .overrideByName('severity', colouredCells(valueMappings(SEVERITY_DISPLAY.map(([s, c]) => [s, s, c] as const))))
    .withTarget(
      q.query(
        statesTitle,
        sql`
      SELECT check_name, location, kind, metric, state, severity, since, updated_at, value, threshold, detail
        FROM alert_states
       WHERE check_name IN ($check) AND (location = '*' OR location IN ($location))
       ORDER BY CASE state ${ALERT_STATE_DISPLAY.map(([s], i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE ${ALERT_STATE_DISPLAY.length} END,
                since DESC`,
        'table',
        ['check_name', 'location', 'kind', 'metric', 'state', 'severity', 'since', 'updated_at', 'value', 'threshold', 'detail'],
      ),
    );
  const historyTitle = 'Alerts (history)';
  const history = tbl(historyTitle)
    .unit('none')
    .description("State changes of the controller's alerts in the time range, newest first (at most 200).")
    .overrideByName('state', colouredCells(valueMappings(ALERT_STATE_DISPLAY.map(([s, c]) => [s, s, c] as const))))
    .withTarget(
      q.query(
        historyTitle,
        sql`
      SELECT at, check_name, location, kind, rule, state, severity, metric, value, threshold, message
        FROM alerts
       WHERE $__timeFilter(at) AND check_name IN ($check) AND (location IS NULL OR location = '*' OR location IN ($location))
       ORDER BY at DESC
       LIMIT 200`,
        'table',
        ['at', 'check_name', 'location', 'kind', 'rule', 'state', 'severity', 'metric', 'value', 'threshold', 'message'],
      ),
    );
  const d = new DashboardBuilder('userprobe — monitor')
    .uid(DASHBOARD_UIDS.monitor)
    .tags(TAGS)
    .timezone('utc')
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(dashboardLinks())
    .withVariable(monitorCheckVar())
    .withVariable(monitorLocationVar())
    .withPanel(g.place(rounds, 24, 9))
    .withPanel(g.place(latest, 24, 7))
    .withPanel(g.place(states, 24, 7))
    .withPanel(g.place(failed, 24, 8))
    .withPanel(g.place(p95, 24, 8))
    .withPanel(g.place(history, 24, 8));
  return { file: 'monitor.json', dashboard: d.build(), expectations: q.expectations };
}
