import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeError, writeJsonDurable } from '@userprobe/shared';
import type { CheckConfig } from '../monitor-config.js';
import {
  alertKey,
  darkVerdict,
  failureVerdict,
  judge,
  latencyVerdict,
  newAlert,
  noDataDecision,
  withBaseline,
  type AlertState,
  type Decision,
  type Notification,
  type RoundObservation,
} from './alert-engine.js';
import type { AlertPolicy, AlertSettings } from './alert-policy.js';
import { MONITOR_DASHBOARD_UID, slackMessage, type SlackMessage } from './slack-message.js';
import type { SlackOutbox } from './slack-outbox.js';

/**
 * The daemon's alerts: the engine's decisions (alert-engine.ts) over every
 * round and, for no data, over time; states kept in `<out>/alert-states.json`
 * (durable, read at start: a restart neither forgets nor re-announces a
 * firing alert) and handed to `onChange` (the MySQL sink mirrors them into
 * alert_states and the alerts history, Prometheus exports them);
 * notifications go to the Slack outbox, which never blocks a round.
 */
export const ALERT_STATES_FILE = 'alert-states.json';
export const NO_DATA_TICK_MS = 1_000;

export interface AlertCheck {
  readonly check: CheckConfig;
  readonly policy: AlertPolicy;
}

export interface AlertsOptions {
  readonly outDir: string;
  readonly settings: AlertSettings;
  readonly outbox: SlackOutbox | null;
  readonly log: Logger;
  readonly now?: () => number;
  /** Every state change (and its notification, if one was sent). */
  /** Every state change, with the notification it sent and that message (null when it sent none). */
  readonly onChange?: (s: AlertState, sent: { n: Notification; message: SlackMessage } | null) => Promise<void> | void;
}

export class Alerts {
  readonly #o: AlertsOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #states = new Map<string, AlertState>();
  #checks = new Map<string, AlertCheck>();
  #timer: NodeJS.Timeout | null = null;
  #saving: Promise<void> = Promise.resolve();

  private constructor(o: AlertsOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'alerts' });
    this.#now = o.now ?? Date.now;
  }

  static async open(o: AlertsOptions): Promise<Alerts> {
    const a = new Alerts(o);
    try {
      const doc = JSON.parse(await readFile(join(o.outDir, ALERT_STATES_FILE), 'utf8')) as { states?: AlertState[] };
      for (const s of doc.states ?? []) a.#states.set(s.key, s);
      const firing = [...a.#states.values()].filter((s) => s.state === 'firing');
      if (firing.length) a.#log.info({ firing: firing.map((s) => s.key) }, 'alerts still firing from before the restart (not announced again)');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') a.#log.warn({ err: describeError(e) }, 'alert states unreadable: starting from ok');
    }
    return a;
  }

  /** The checks and their policies (at start and at every reload); alerts of removed checks are forgotten. */
  apply(checks: readonly AlertCheck[]): void {
    this.#checks = new Map(checks.map((c) => [c.check.name, c]));
    for (const [key, s] of this.#states) if (!this.#checks.has(s.check)) this.#states.delete(key);
    if (this.#timer === null) {
      this.#timer = setInterval(() => {
        void this.#tickAll();
      }, NO_DATA_TICK_MS);
      this.#timer.unref();
    }
  }

  states(): readonly AlertState[] {
    return [...this.#states.values()];
  }

  /** Judge one round (its report and what it measured). */
  async observe(o: RoundObservation): Promise<void> {
    const c = this.#checks.get(o.report.check);
    if (!c) return;
    const now = this.#now();
    const { policy } = c;
    const r = o.report;
    const decisions: Decision[] = [];
    if (policy.failure) {
      const v = failureVerdict(o, policy.failure.share);
      if (v)
        decisions.push(judge(this.#get(r.check, r.location, 'failure', null, now), v, { k: policy.failure.k, n: policy.failure.n, policy, now, round: o }));
    }
    if (policy.latency) {
      for (const metric of policy.latency.metrics) {
        const s = this.#get(r.check, r.location, 'latency', metric, now);
        const v = latencyVerdict(o, metric, s, policy.latency);
        if (!v) continue;
        const d = judge(s, v, { k: policy.latency.k, n: policy.latency.n, policy, now, round: o });
        decisions.push({ ...d, state: withBaseline(d.state, v.value, v.bad || d.state.state === 'firing', policy.latency.baselineRounds), changed: true });
      }
    }
    if (policy.darkRounds !== null) {
      const v = darkVerdict(o);
      if (v)
        decisions.push(
          judge(this.#get(r.check, r.location, 'dark', null, now), v, {
            k: policy.darkRounds,
            n: policy.darkRounds,
            policy: { ...policy, clearRounds: 1 },
            now,
            round: o,
          }),
        );
    }
    if (policy.noDataIntervals !== null && r.startedAt !== null) {
      decisions.push(
        noDataDecision(this.#get(r.check, '*', 'no-data', null, now), {
          now,
          intervalMs: c.check.intervalMs,
          intervals: policy.noDataIntervals,
          policy,
          startedNow: true,
        }),
      );
    }
    await this.#apply(decisions, c);
    if (policy.agree > 1) await this.#agreement(c, now, o);
  }

  /** Send a sample message through the outbox (controller alerts test). */
  static sample(check: string, scenario: string, settings: AlertSettings, now: number): ReturnType<typeof slackMessage> {
    const a: AlertState = {
      ...newAlert(check, 'ams3', 'failure', null, now - 120_000),
      state: 'firing',
      severity: 'failed',
      value: 1,
      threshold: 0.5,
      detail:
        'This is a test message from `controller alerts test`: 2 of 2 session(s) failed, most at step widget_load (2); most common error (2×): step "widget_load" did not finish within 10000 ms',
    };
    return slackMessage({ kind: 'firing', alert: a, round: null, at: now }, { scenario, grafanaUrl: settings.grafanaUrl, dashboardUid: MONITOR_DASHBOARD_UID });
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#saving;
  }

  #get(check: string, location: string, kind: AlertState['kind'], metric: string | null, now: number): AlertState {
    return this.#states.get(alertKey(check, location, kind, metric)) ?? newAlert(check, location, kind, metric, now);
  }

  async #tickAll(): Promise<void> {
    const now = this.#now();
    for (const c of this.#checks.values()) {
      if (c.policy.noDataIntervals === null) continue;
      const d = noDataDecision(this.#get(c.check.name, '*', 'no-data', null, now), {
        now,
        intervalMs: c.check.intervalMs,
        intervals: c.policy.noDataIntervals,
        policy: c.policy,
        startedNow: false,
      });
      if (d.changed || d.notifications.length) await this.#apply([d], c);
    }
  }

  /** Across locations: fire when at least `agree` locations fire the same alert; the per-location alerts then send nothing themselves. */
  async #agreement(c: AlertCheck, now: number, o: RoundObservation): Promise<void> {
    const groups = new Map<string, AlertState[]>();
    for (const s of this.#states.values()) {
      if (s.check !== c.check.name || s.location === '*' || (s.kind !== 'failure' && s.kind !== 'latency')) continue;
      const k = `${s.kind}|${s.metric ?? ''}`;
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    const out: Decision[] = [];
    for (const [, members] of groups) {
      const firing = members.filter((s) => s.state === 'firing');
      const first = members[0]!;
      const agg = this.#get(c.check.name, '*', first.kind, first.metric, now);
      const bad = firing.length >= c.policy.agree;
      const detail =
        `${firing.length} of ${members.length} location(s) firing (${firing.map((s) => s.location).join(', ') || 'none'}); alert at ${c.policy.agree}` +
        (firing[0]?.detail ? ` — ${firing[0].location}: ${firing[0].detail}` : '');
      out.push(
        judge(
          agg,
          { bad, severity: firing.some((s) => s.severity === 'failed') ? 'failed' : 'degraded', value: firing.length, threshold: c.policy.agree, detail },
          { k: 1, n: 1, policy: { ...c.policy, clearRounds: 1 }, now, round: o },
        ),
      );
    }
    await this.#apply(out, c);
  }

  async #apply(decisions: readonly Decision[], c: AlertCheck): Promise<void> {
    let dirty = false;
    for (const d of decisions) {
      this.#states.set(d.state.key, d.state);
      dirty = true;
      // With agreement across locations, a location's own alert is recorded but not sent.
      const quiet = c.policy.agree > 1 && d.state.location !== '*' && (d.state.kind === 'failure' || d.state.kind === 'latency');
      let first: { n: Notification; message: SlackMessage } | null = null;
      for (const n of d.notifications) {
        this.#log.warn({ alert: n.alert.key, kind: n.kind, severity: n.alert.severity, detail: n.alert.detail, quiet }, `alert ${n.kind}`);
        if (quiet) continue;
        const message = slackMessage(n, { scenario: c.check.scenario, grafanaUrl: this.#o.settings.grafanaUrl, dashboardUid: MONITOR_DASHBOARD_UID });
        first ??= { n, message };
        await this.#o.outbox?.enqueue(message).catch((e: unknown) => this.#log.error({ err: describeError(e) }, 'could not queue a Slack message'));
      }
      if (d.changed || d.notifications.length)
        await Promise.resolve(this.#o.onChange?.(d.state, first)).catch((e: unknown) => this.#log.error({ err: describeError(e) }, 'alert state not mirrored'));
    }
    if (dirty) await this.#save();
  }

  #save(): Promise<void> {
    const states = [...this.#states.values()];
    this.#saving = this.#saving
      .then(() => writeJsonDurable(join(this.#o.outDir, ALERT_STATES_FILE), { version: 1, states }))
      .catch((e: unknown) => this.#log.error({ err: describeError(e) }, 'alert states not saved'));
    return this.#saving;
  }
}
