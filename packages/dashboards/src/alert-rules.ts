import {
  ContactPointBuilder, NotificationPolicyBuilder, QueryBuilder, RuleBuilder, type ContactPoint, type NotificationPolicy, type Rule,
} from '@grafana/grafana-foundation-sdk/alerting';
import { TypeReduceBuilder, TypeThresholdBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { METRICS } from '@userprobe/shared';
import {
  ALERT_FOR, ALERT_P95_THRESHOLDS_MS, ALERT_WINDOW_S, RULE_GROUP_INTERVAL, SILENCE_FOR, SILENCE_WINDOW_S, alertedMetrics,
} from './alert-thresholds.js';
import { DASHBOARD_UIDS } from './dashboards.js';
import { DATASOURCE_UID, MysqlQueryBuilder } from './mysql-query.js';
import type { QueryExpectation } from './panel-kit.js';
import { pct, rankWindow, sql } from './sql-snippets.js';

export const FOLDER = 'userprobe';
export const RULE_GROUP = 'userprobe-delays';
export const CONTACT_POINT = 'userprobe-slack';
/** The Slack webhook URL comes from this environment variable of the Grafana process. */
export const SLACK_WEBHOOK_ENV = 'USERPROBE_SLACK_WEBHOOK_URL';

export interface AlertQueryExpectation extends QueryExpectation {
  readonly relativeFromS: number;
}

export interface GeneratedRules {
  readonly rules: Rule[];
  readonly expectations: AlertQueryExpectation[];
}

/** The p95 time series one delay rule evaluates: 5-minute buckets, one series per scenario and location. */
export function delaySql(metric: string): string {
  return sql`
    SELECT time, scenario, location, ${pct(95, 'p95')}
      FROM (SELECT $__timeGroupAlias(ts, 5m), scenario, location, value,
                   ${rankWindow('$__timeGroup(ts, 5m), scenario, location')}
              FROM samples
             WHERE $__timeFilter(ts) AND metric = '${metric}') AS t
     GROUP BY time, scenario, location
     ORDER BY time`;
}

const SILENCE_SQL = sql`
  SELECT $__timeGroupAlias(ended_at, 5m), scenario, COUNT(*) AS sessions
    FROM sessions
   WHERE $__timeFilter(ended_at)
   GROUP BY 1, 2
   ORDER BY 1`;

function dashboardLink(metric: string): string {
  return `/d/${DASHBOARD_UIDS.overview}?var-metric=${metric}&var-scenario={{ $labels.scenario }}&var-location={{ $labels.location }}`;
}

export function delayRules(): GeneratedRules {
  const rules: RuleBuilder[] = [];
  const expectations: AlertQueryExpectation[] = [];
  for (const metric of alertedMetrics()) {
    const threshold = ALERT_P95_THRESHOLDS_MS[metric];
    if (threshold === undefined) throw new Error(`no alert threshold for core metric ${metric}: add it to ALERT_P95_THRESHOLDS_MS`);
    const title = `p95 ${metric} above ${threshold} ms`;
    expectations.push({ dashboardUid: 'alert-rules', panelTitle: title, refId: 'A', format: 'time_series', columns: ['p95'], relativeFromS: ALERT_WINDOW_S });
    rules.push(
      new RuleBuilder(title)
        .uid(`up-p95-${metric.replace(/_/g, '-')}`)
        .condition('C')
        .withQuery(new QueryBuilder('A').datasourceUid(DATASOURCE_UID).relativeTimeRange({ from: ALERT_WINDOW_S, to: 0 })
          .model(new MysqlQueryBuilder(delaySql(metric), 'time_series', 'A')))
        .withQuery(new QueryBuilder('B').datasourceUid('__expr__').relativeTimeRange({ from: ALERT_WINDOW_S, to: 0 })
          .model(new TypeReduceBuilder().refId('B').expression('A').reducer('mean').settings({ mode: 'dropNN' })))
        .withQuery(new QueryBuilder('C').datasourceUid('__expr__').relativeTimeRange({ from: ALERT_WINDOW_S, to: 0 })
          .model(new TypeThresholdBuilder().refId('C').expression('B').conditions([{ evaluator: { type: 'gt', params: [threshold] } }])))
        .forDuration(ALERT_FOR)
        // No samples is not a delay (the silence rule covers "nothing measured").
        .noDataState('OK')
        .execErrState('Error')
        .labels({ metric, severity: 'warning', source: 'userprobe' })
        .annotations({
          summary: `${METRICS[metric].description}: p95 {{ humanize $values.B.Value }} ms in {{ $labels.scenario }} / {{ $labels.location }} (threshold ${threshold} ms)`,
          description:
            `Metric ${metric}: the mean 5-minute p95 over the last ${ALERT_WINDOW_S / 60} minutes is {{ humanize $values.B.Value }} ms, ` +
            `above the threshold of ${threshold} ms, for scenario {{ $labels.scenario }} at location {{ $labels.location }}. ` +
            `Dashboard: ${dashboardLink(metric)}`,
          __dashboardUid__: DASHBOARD_UIDS.overview,
        }),
    );
  }
  const silenceTitle = 'userprobe monitoring is silent';
  expectations.push({ dashboardUid: 'alert-rules', panelTitle: silenceTitle, refId: 'A', format: 'time_series', columns: ['sessions'], relativeFromS: SILENCE_WINDOW_S });
  rules.push(
    new RuleBuilder(silenceTitle)
      .uid('userprobe-silent')
      .condition('C')
      .withQuery(new QueryBuilder('A').datasourceUid(DATASOURCE_UID).relativeTimeRange({ from: SILENCE_WINDOW_S, to: 0 })
        .model(new MysqlQueryBuilder(SILENCE_SQL, 'time_series', 'A')))
      .withQuery(new QueryBuilder('B').datasourceUid('__expr__').relativeTimeRange({ from: SILENCE_WINDOW_S, to: 0 })
        .model(new TypeReduceBuilder().refId('B').expression('A').reducer('sum').settings({ mode: 'dropNN' })))
      .withQuery(new QueryBuilder('C').datasourceUid('__expr__').relativeTimeRange({ from: SILENCE_WINDOW_S, to: 0 })
        .model(new TypeThresholdBuilder().refId('C').expression('B').conditions([{ evaluator: { type: 'lt', params: [1] } }])))
      .forDuration(SILENCE_FOR)
      // No rows at all means nothing was measured: that is exactly what this rule is for.
      .noDataState('Alerting')
      .execErrState('Error')
      .labels({ severity: 'critical', source: 'userprobe' })
      .annotations({
        summary: `No userprobe session ended in the last ${SILENCE_WINDOW_S / 60} minutes`,
        description: `Monitoring recorded no sessions (metric: sessions, value: {{ if $values.B }}{{ $values.B.Value }}{{ else }}none{{ end }}, threshold: at least 1 per ${SILENCE_WINDOW_S / 60} minutes). Check the controller, its agents and MySQL. Dashboard: /d/${DASHBOARD_UIDS.agents}`,
        __dashboardUid__: DASHBOARD_UIDS.agents,
      }),
  );
  return { rules: rules.map((r) => r.build()), expectations };
}

export function contactPoint(): ContactPoint {
  return new ContactPointBuilder().name(CONTACT_POINT).uid(CONTACT_POINT).type('slack').settings({
    url: `\${${SLACK_WEBHOOK_ENV}}`,
    title: '{{ template "slack.default.title" . }}',
    text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}',
  }).build();
}

export function notificationPolicy(): NotificationPolicy {
  return new NotificationPolicyBuilder().receiver(CONTACT_POINT).groupBy(['alertname', 'scenario', 'location'])
    .groupWait('30s').groupInterval('5m').repeatInterval('4h').build();
}

export { RULE_GROUP_INTERVAL };
