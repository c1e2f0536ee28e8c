import type { AlertState, Notification } from './alert-engine.js';

/**
 * A notification as a Slack message (incoming webhook, Block Kit): what
 * fired, where, the value against its threshold or baseline, the failing
 * step and the most common error, an absolute link to the Monitor dashboard
 * filtered to the check, location and time, and where the evidence is. `text`
 * is the one-line fallback Slack shows in notifications. Pure.
 */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly unknown[];
}

export interface MessageContext {
  readonly scenario: string;
  readonly grafanaUrl: string | null;
  /** The dashboard's uid (grafana/dashboards). */
  readonly dashboardUid: string;
}

export const MONITOR_DASHBOARD_UID = 'userprobe-monitor';

const ICON = { firing: '🔴', resolved: '✅', reminder: '🔁' } as const;
const VERB = { firing: 'Firing', resolved: 'Resolved', reminder: 'Still firing' } as const;

export function alertTitle(a: AlertState): string {
  switch (a.kind) {
    case 'failure':
      return `${a.check} failing in ${a.location === '*' ? 'several locations' : a.location}`;
    case 'latency':
      return `${a.check} slow in ${a.location === '*' ? 'several locations' : a.location}: ${a.metric ?? 'latency'}`;
    case 'no-data':
      return `${a.check} measures nothing`;
    case 'dark':
      return `${a.check}: location ${a.location} is dark (no agent)`;
  }
}

export function dashboardLink(a: AlertState, ctx: MessageContext, at: number): string | null {
  if (ctx.grafanaUrl === null) return null;
  const q = new URLSearchParams({ 'var-check': a.check, from: String(Math.min(a.since, at) - 3_600_000), to: String(at + 300_000) });
  if (a.location !== '*') q.set('var-location', a.location);
  return `${ctx.grafanaUrl}/d/${ctx.dashboardUid}/userprobe-monitor?${q.toString()}`;
}

export function slackMessage(n: Notification, ctx: MessageContext): SlackMessage {
  const a = n.alert;
  const sev = a.severity === null ? '' : ` [${a.severity}]`;
  const head = `${ICON[n.kind]} ${VERB[n.kind]}${n.kind === 'resolved' ? '' : sev}: ${alertTitle(a)}`;
  const detail = a.detail ?? '';
  const text = `${head} — ${detail}`.slice(0, 3000);
  const link = dashboardLink(a, ctx, n.at);
  const fields = [
    `*Check*\n${a.check} (${ctx.scenario})`,
    `*Location*\n${a.location === '*' ? 'across locations' : a.location}`,
    `*Alert*\n${a.kind}${a.metric ? ` · ${a.metric}` : ''}${a.severity && n.kind !== 'resolved' ? ` · ${a.severity}` : ''}`,
    `*${n.kind === 'resolved' ? 'Resolved' : 'Since'}*\n<!date^${Math.floor((n.kind === 'resolved' ? n.at : a.since) / 1000)}^{date_short_pretty} {time_secs}|${new Date(n.kind === 'resolved' ? n.at : a.since).toISOString()}>`,
  ];
  if (a.value !== null && a.threshold !== null && a.kind !== 'dark') fields.push(`*Value*\n${valueText(a)}`);
  const r = n.round?.report;
  const context: string[] = [];
  if (r?.runId) context.push(`round \`${r.runId}\` (${r.status}${r.agents.length ? ` on ${r.agents.join(', ')}` : ''})`);
  if (n.round?.evidence) context.push(`evidence: ${n.round.evidence}`);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: head.slice(0, 150), emoji: true } },
    { type: 'section', fields: fields.map((t) => ({ type: 'mrkdwn', text: t })) },
  ];
  if (detail) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: detail.slice(0, 2900) } });
  if (context.length) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ').slice(0, 2000) }] });
  if (link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Grafana' }, url: link }] });
  return { text, blocks };
}

function valueText(a: AlertState): string {
  if (a.kind === 'failure') return `${Math.round(a.value! * 100)}% of sessions failed (alert at ${Math.round(a.threshold! * 100)}%)`;
  if (a.kind === 'no-data') return `${Math.round(a.value! / 1000)} s without a round (alert after ${Math.round(a.threshold! / 1000)} s)`;
  return `${Math.round(a.value!)} ms (threshold ${Math.round(a.threshold!)} ms)`;
}
