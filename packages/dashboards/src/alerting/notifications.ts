import { ContactPointBuilder, NotificationPolicyBuilder, type ContactPoint, type NotificationPolicy } from '@grafana/grafana-foundation-sdk/alerting';

export const CONTACT_POINT = 'userprobe-slack';
/** The Slack webhook URL comes from this environment variable of the Grafana process. */
export const SLACK_WEBHOOK_ENV = 'USERPROBE_SLACK_WEBHOOK_URL';
/** Every userprobe rule carries this label: the matcher of a route to the contact point. */
export const SOURCE_LABEL = { name: 'source', value: 'userprobe' } as const;
export const GROUP_BY = ['alertname', 'check_name', 'location'];

export function contactPoint(): ContactPoint {
  return new ContactPointBuilder()
    .name(CONTACT_POINT)
    .uid(CONTACT_POINT)
    .type('slack')
    .settings({
      url: `\${${SLACK_WEBHOOK_ENV}}`,
      title: '{{ template "slack.default.title" . }}',
      text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}',
    })
    .build();
}

/**
 * The opt-in policy tree (grafana/optional/): Grafana's policy file replaces
 * an organisation's whole tree, so it is not provisioned by default. For a
 * Grafana that serves only userprobe: everything to Slack. Elsewhere, add a
 * route matching SOURCE_LABEL to the existing tree (grafana/README.md).
 */
export function notificationPolicy(): NotificationPolicy {
  return new NotificationPolicyBuilder().receiver(CONTACT_POINT).groupBy(GROUP_BY).groupWait('30s').groupInterval('5m').repeatInterval('4h').build();
}
