import { QueryBuilder, RuleBuilder, type Rule } from '@grafana/grafana-foundation-sdk/alerting';
import { TypeReduceBuilder, TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { METRICS } from '@userprobe/shared';
import type { QueryExpectation } from '../dashboards/panels.js';
import { DASHBOARD_UIDS } from '../dashboards/uids.js';
import { DATASOURCE_UID, MysqlQueryBuilder } from '../sql/mysql-query.js';
import { failedShare, pct, rankWindow, sql } from '../sql/sql-snippets.js';
import {
  ALERT_FOR,
  ALERT_P95_THRESHOLDS_MS,
  ALERT_WINDOW_S,
  alertedMetrics,
  FAILED_FOR,
  FAILED_MIN_SESSIONS,
  FAILED_SHARE_THRESHOLD,
  FAILED_WINDOW_S,
  MEASURES_NOTHING_FOR,
  MEASURES_NOTHING_WINDOW_S,
} from './alert-thresholds.js';

/*
 * Grafana's alert rules on monitor rounds, per check × location (labels
 * `check_name`, `scenario`, `location` from the queries; `kind`, `severity`,
 * `source` from the rule, `kind` in the controller's alert vocabulary:
 * latency, failure, no-data). Their messages link to the Monitor dashboard
 * with Grafana's own absolute URL: `externalURL` in an annotation template is
 * Grafana's `server.root_url` (GF_SERVER_ROOT_URL), which always ends in `/`.
 * Annotations are not interpolated from the environment by Grafana's file
 * provisioning (labels are), so a `$` in them is always a template's.
 */

export const FOLDER = 'userprobe';
export const RULE_GROUP = 'userprobe-monitors';
/** Rules earlier versions provisioned, deleted by the rules file (a provisioned rule stays until deleted). */
export const RETIRED_RULE_UIDS = ['userprobe-silent'] as const;

export interface AlertQueryExpectation extends QueryExpectation {
  readonly relativeFromS: number;
}

export interface GeneratedRules {
  readonly rules: Rule[];
  readonly expectations: AlertQueryExpectation[];
}

/** The Monitor dashboard, opened on the alert's check and location when it has them (a no-data alert has no labels). */
export const MONITOR_LINK =
  `{{ externalURL }}d/${DASHBOARD_UIDS.monitor}` +
  '{{ if $labels.check_name }}?var-check={{ $labels.check_name }}&var-location={{ $labels.location }}{{ end }}';

/** The p95 time series one delay rule evaluates: 5-minute buckets of monitor runs, one series per check, scenario and location. */
export function delaySql(metric: string): string {
  return sql`
    SELECT time, check_name, scenario, location, ${pct(95, 'p95')}
      FROM (SELECT $__timeGroupAlias(s.ts, 5m), r.check_name, s.scenario, s.location, s.value,
                   ${rankWindow('$__timeGroup(s.ts, 5m), r.check_name, s.scenario, s.location')}
              FROM samples s
              JOIN runs r ON r.run_id = s.run_id
             WHERE $__timeFilter(s.ts) AND s.metric = '${metric}' AND r.check_name IS NOT NULL) AS t
     GROUP BY time, check_name, scenario, location
     ORDER BY time`;
}

/** One row per check, scenario and location with enough sessions in the window: its failed share, at its last session's end. */
export const FAILED_SQL = sql`
  SELECT UNIX_TIMESTAMP(MAX(s.ended_at)) DIV 1 AS time, r.check_name, s.scenario, s.location,
         ${failedShare('s.status')} AS failed
    FROM sessions s
    JOIN runs r ON r.run_id = s.run_id
   WHERE $__timeFilter(s.ended_at) AND r.check_name IS NOT NULL
   GROUP BY r.check_name, s.scenario, s.location
  HAVING SUM(s.status <> 'aborted') >= ${FAILED_MIN_SESSIONS}
   ORDER BY time`;

/**
 * Rounds that measured — at least one session ended ok or failed — per 5
 * minutes, per check and location: the rule sums them over its window. Gaps,
 * skipped, missed and not-run slots measure nothing; a failed round measured a
 * failure (the failed-session rule's business).
 */
export const MEASURES_NOTHING_SQL = sql`
  SELECT $__timeGroupAlias(slot_at, 5m), check_name, location, SUM(sessions_ok + sessions_failed > 0) AS measured_rounds
    FROM monitor_rounds
   WHERE $__timeFilter(slot_at)
   GROUP BY 1, 2, 3
   ORDER BY 1`;

interface RuleSpec {
  readonly title: string;
  readonly uid: string;
  readonly sql: string;
  readonly column: string;
  readonly windowS: number;
  readonly reducer: 'mean' | 'last' | 'sum';
  readonly evaluator: { type: 'gt' | 'lt'; params: number[] };
  readonly for: string;
  /** Alerting only where no data means nothing is measured. */
  readonly noData: 'OK' | 'Alerting';
  readonly labels: Record<string, string>;
  readonly summary: string;
  readonly description: string;
}

function buildRule(spec: RuleSpec, expectations: AlertQueryExpectation[]): Rule {
  expectations.push({
    dashboardUid: 'alert-rules',
    panelTitle: spec.title,
    refId: 'A',
    format: 'time_series',
    columns: [spec.column],
    relativeFromS: spec.windowS,
  });
  const range = { from: spec.windowS, to: 0 };
  return new RuleBuilder(spec.title)
    .uid(spec.uid)
    .condition('C')
    .withQuery(
      new QueryBuilder('A')
        .datasourceUid(DATASOURCE_UID)
        .relativeTimeRange(range)
        .model(new MysqlQueryBuilder(spec.sql, 'time_series', 'A')),
    )
    .withQuery(
      new QueryBuilder('B')
        .datasourceUid('__expr__')
        .relativeTimeRange(range)
        .model(new TypeReduceBuilder().refId('B').expression('A').reducer(spec.reducer).settings({ mode: 'dropNN' })),
    )
    .withQuery(
      new QueryBuilder('C')
        .datasourceUid('__expr__')
        .relativeTimeRange(range)
        .model(
          new TypeThresholdBuilder()
            .refId('C')
            .expression('B')
            .conditions([{ evaluator: spec.evaluator }]),
        ),
    )
    .forDuration(spec.for)
    .noDataState(spec.noData)
    .execErrState('Error')
    .labels({ ...spec.labels, source: 'userprobe' })
    .annotations({
      summary: spec.summary,
      description: `${spec.description} Dashboard: ${MONITOR_LINK}`,
      dashboard_url: MONITOR_LINK,
      __dashboardUid__: DASHBOARD_UIDS.monitor,
    })
    .build();
}

const where = 'check {{ $labels.check_name }} ({{ $labels.scenario }}) in {{ $labels.location }}';

export function monitorRules(): GeneratedRules {
  const rules: Rule[] = [];
  const expectations: AlertQueryExpectation[] = [];
  for (const metric of alertedMetrics()) {
    const threshold = ALERT_P95_THRESHOLDS_MS[metric];
    if (threshold === undefined) throw new Error(`no alert threshold for core metric ${metric}: add it to ALERT_P95_THRESHOLDS_MS`);
    rules.push(
      buildRule(
        {
          title: `p95 ${metric} above ${threshold} ms`,
          uid: `up-p95-${metric.replace(/_/g, '-')}`,
          sql: delaySql(metric),
          column: 'p95',
          windowS: ALERT_WINDOW_S,
          reducer: 'mean',
          evaluator: { type: 'gt', params: [threshold] },
          for: ALERT_FOR,
          // No samples is not a delay: the "measures nothing" rule covers that.
          noData: 'OK',
          labels: { kind: 'latency', metric, severity: 'warning' },
          summary: `${METRICS[metric].description}: p95 {{ humanize $values.B.Value }} ms for ${where} (threshold ${threshold} ms)`,
          description:
            `Metric ${metric}: the mean 5-minute p95 over the last ${ALERT_WINDOW_S / 60} minutes is {{ humanize $values.B.Value }} ms, ` +
            `above the threshold of ${threshold} ms, for ${where}.`,
        },
        expectations,
      ),
    );
  }
  const pctText = `${FAILED_SHARE_THRESHOLD * 100} %`;
  rules.push(
    buildRule(
      {
        title: `Failed sessions above ${pctText}`,
        uid: 'up-failed-sessions',
        sql: FAILED_SQL,
        column: 'failed',
        windowS: FAILED_WINDOW_S,
        reducer: 'last',
        evaluator: { type: 'gt', params: [FAILED_SHARE_THRESHOLD] },
        for: FAILED_FOR,
        // No sessions is not a failure: the "measures nothing" rule covers that.
        noData: 'OK',
        labels: { kind: 'failure', severity: 'critical' },
        summary: `{{ humanizePercentage $values.B.Value }} of the sessions failed for ${where} (threshold ${pctText})`,
        description:
          `Failed sessions: {{ humanizePercentage $values.B.Value }} of the ok and failed sessions of the last ${FAILED_WINDOW_S / 60} minutes ` +
          `failed, above the threshold of ${pctText}, for ${where} (judged from ${FAILED_MIN_SESSIONS} sessions on; aborted ones are left out).`,
      },
      expectations,
    ),
  );
  const minutes = MEASURES_NOTHING_WINDOW_S / 60;
  rules.push(
    buildRule(
      {
        title: 'Monitoring measures nothing',
        uid: 'up-measures-nothing',
        sql: MEASURES_NOTHING_SQL,
        column: 'measured_rounds',
        windowS: MEASURES_NOTHING_WINDOW_S,
        reducer: 'sum',
        evaluator: { type: 'lt', params: [1] },
        for: MEASURES_NOTHING_FOR,
        // No round recorded at all: the daemon, its MySQL writes or every check stopped. Exactly what this rule is for.
        noData: 'Alerting',
        labels: { kind: 'no-data', severity: 'critical' },
        summary:
          `{{ if $labels.check_name }}Check {{ $labels.check_name }} measured nothing in {{ $labels.location }}` +
          `{{ else }}No monitor round was recorded{{ end }} in the last ${minutes} minutes`,
        description:
          `Rounds with a session that ended ok or failed in the last ${minutes} minutes: ` +
          '{{ if $values.B }}{{ $values.B.Value }}{{ else }}no round recorded{{ end }} (threshold: at least 1). ' +
          'Gaps (no agent, or none with room, in the location), skipped, missed and not-run slots measure nothing; ' +
          'no round at all means the controller daemon, its MySQL writes or its checks stopped.',
      },
      expectations,
    ),
  );
  return { rules, expectations };
}
