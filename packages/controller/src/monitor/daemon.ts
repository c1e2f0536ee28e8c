import type { Logger } from 'pino';
import { describeError, type RoundReport, type TargetProfile } from '@userprobe/shared';
import type { ServeConfig } from '../config/config.js';
import type { ListeningHub } from '../hub/hub.js';
import type { Sinks } from '../results/sink-set.js';
import type { EvidenceStore } from '../results/evidence-store.js';
import type { RunRegistry } from '../run/run-registry.js';
import { RunCoordinator } from '../run/coordinator.js';
import { runParamsOf } from '../run/run-params.js';
import type { Progress } from '../run/progress.js';
import { runRetention } from '../db/retention.js';
import { loadMonitorConfig, type CheckConfig, type MonitorConfig } from './monitor-config.js';
import { Monitor, type RoundHandle, type RoundStart } from './monitor.js';
import { PoolView } from './pool-view.js';
import { TargetSet } from './targets.js';
import { Alerts } from './alerts/alerts.js';
import { observeRound } from './alerts/round-observation.js';
import { SlackOutbox } from './alerts/slack-outbox.js';
import type { AlertRecord } from '../results/sink.js';
import { join } from 'node:path';
import { runFolderStore } from '../results/run-results-store.js';
import { configProblemsError } from '../config/config-file.js';

/** How long a round waits for its picked agents (connected when picked: this only covers a reconnect in between). */
export const ROUND_AGENT_WAIT_MS = 10_000;
/** SIGTERM: rounds running get this long to finish before they are aborted. */
export const SHUTDOWN_GRACE_MS = 30_000;
/** The first retention pass, after start (then every `retention.every`). */
export const RETENTION_FIRST_DELAY_MS = 60_000;
/** Slack messages waiting to be sent, in order (alerts/slack-outbox.ts). */
export const ALERTS_OUTBOX_DIR = '.alerts-outbox';

export interface DaemonDeps {
  readonly cfg: ServeConfig;
  readonly configFile: string;
  readonly hub: ListeningHub;
  readonly sinks: Sinks;
  readonly registry: RunRegistry;
  readonly evidence: EvidenceStore;
  readonly log: Logger;
  /** One line for the operator (stderr). */
  readonly note: (line: string) => void;
  /** Every round's report, once recorded. */
  readonly onRound?: (r: RoundReport) => void;
  /** The environment the Slack webhook URL is read from (its variable is named in the config). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
}

export type ReloadResult =
  | { readonly ok: true; readonly added: readonly string[]; readonly removed: readonly string[]; readonly changed: readonly string[] }
  | { readonly ok: false; readonly error: string };

/**
 * `controller serve --config`: the monitor's checks on the standing fleet.
 * Loads and validates the config (every problem at once) and the checks'
 * targets, schedules the checks, reloads on request (SIGHUP) without touching
 * the hub — connected agents and running rounds are not disturbed, and a
 * config with a problem is refused and the running one kept — runs retention
 * on its schedule when MySQL is configured, and stops gracefully.
 */
export class Daemon {
  readonly monitor: Monitor;
  readonly #d: DaemonDeps;
  readonly #log: Logger;
  readonly #targets: TargetSet;
  #config: MonitorConfig;
  #retention: NodeJS.Timeout | null = null;
  #retentionEvery = 0;

  readonly alerts: Alerts;
  readonly #outbox: SlackOutbox;

  private constructor(d: DaemonDeps, config: MonitorConfig, targets: TargetSet, alerts: Alerts, outbox: SlackOutbox) {
    this.alerts = alerts;
    this.#outbox = outbox;
    this.#d = d;
    this.#log = d.log.child({ component: 'daemon' });
    this.#config = config;
    this.#targets = targets;
    this.monitor = new Monitor({
      pool: d.hub.hub,
      log: d.log,
      ...(d.now ? { now: d.now } : {}),
      runRound: (r) => this.#runRound(r),
      recordRound: (r) => this.#recordRound(r),
      targetName: (c) => this.#targets.targetName(c),
    });
  }

  /** Load the config and its targets (a ConfigError lists every problem), then schedule the checks. */
  static async start(d: DaemonDeps): Promise<Daemon> {
    const config = await loadMonitorConfig(d.configFile);
    const targets = new TargetSet(d.log);
    const problems = await targets.prepare(config.checks);
    if (problems.length > 0) {
      await targets.close();
      throw configProblemsError(config.file, problems);
    }
    const webhookUrl = d.env?.[config.alerts.webhookEnv]?.trim() || null;
    const outbox = await SlackOutbox.open({ dir: join(d.cfg.outDir, ALERTS_OUTBOX_DIR), webhookUrl, log: d.log });
    if (webhookUrl === null)
      d.note(
        `alerts: judged and recorded, not sent: ${config.alerts.webhookEnv} is not set (a Slack incoming webhook URL); messages wait in ${join(d.cfg.outDir, ALERTS_OUTBOX_DIR)}`,
      );
    const alerts = await Alerts.open({
      outDir: d.cfg.outDir,
      settings: config.alerts,
      outbox,
      log: d.log,
      onChange: async (s, sent) => {
        const record: AlertRecord = {
          ...s,
          notification:
            sent === null
              ? null
              : {
                  kind: sent.n.kind,
                  text: sent.message.text,
                  runId: sent.n.round?.report.runId ?? null,
                  scenario: sent.n.round?.report.scenario ?? null,
                  at: sent.n.at,
                },
        };
        for (const sink of d.sinks.all) await sink.alertChanged?.(record);
      },
    });
    const daemon = new Daemon(d, config, targets, alerts, outbox);
    d.note(`monitor: ${config.checks.length} check(s) from ${config.file}: ${config.checks.map(describeCheck).join('; ')}`);
    return daemon;
  }

  /** Schedule the checks (after start: the caller may first start local agents for them). */
  begin(): void {
    this.alerts.apply(this.#config.checks.map((check) => ({ check, policy: check.alerts })));
    this.monitor.apply(this.#config.checks);
    this.#armRetention();
  }

  /** The checks' targets and scenario modules, resolved (what local agents must be allowed to open and load). */
  async targets(): Promise<readonly { readonly profile: TargetProfile; readonly scenarioModule: string | null }[]> {
    const out = [];
    for (const c of this.#config.checks) {
      const held = await this.#targets.acquire(c);
      held.release();
      out.push({ profile: held.target.profile, scenarioModule: c.run.scenarioModule });
    }
    return out;
  }

  get config(): MonitorConfig {
    return this.#config;
  }

  /** Read the config file again and apply it; a config with a problem changes nothing. */
  async reload(): Promise<ReloadResult> {
    let next: MonitorConfig;
    try {
      next = await loadMonitorConfig(this.#d.configFile);
      const problems = await this.#targets.prepare(next.checks);
      if (problems.length > 0) throw configProblemsError(next.file, problems);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      this.#log.error({ err: describeError(e) }, 'monitor config not reloaded: the running one is kept');
      this.#d.note(`reload refused, the running config is kept: ${error}`);
      return { ok: false, error };
    }
    this.#config = next;
    this.alerts.apply(next.checks.map((check) => ({ check, policy: check.alerts })));
    const diff = this.monitor.apply(next.checks);
    await this.#targets.retain(next.checks);
    this.#armRetention();
    this.#d.note(
      `monitor config reloaded: ${next.checks.length} check(s)` +
        `${diff.added.length ? `; added ${diff.added.join(', ')}` : ''}${diff.removed.length ? `; removed ${diff.removed.join(', ')}` : ''}${diff.changed.length ? `; changed ${diff.changed.join(', ')}` : ''}`,
    );
    return { ok: true, ...diff };
  }

  /** No new rounds; running ones get `graceMs` to finish, then are aborted; targets closed. */
  async stop(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    if (this.#retention) clearTimeout(this.#retention);
    this.#retention = null;
    await this.monitor.stop(graceMs);
    await this.alerts.stop();
    await this.#outbox.stop();
    await this.#targets.close();
  }

  async #runRound(r: RoundStart): Promise<RoundHandle> {
    const { cfg, hub, sinks, registry, evidence } = this.#d;
    const held = await this.#targets.acquire(r.check);
    const view = new PoolView(hub.hub, { agentIds: new Set(r.picks.map((p) => p.agentId)) });
    const check = r.check;
    evidence.setBudget(r.runId, { maxSessions: check.run.evidenceSessions, maxBytes: check.run.evidenceBytes });
    const params = runParamsOf(check.run, held.target, {
      runId: r.runId,
      total: r.sessions,
      expectAgents: r.picks.length,
      agentWaitMs: ROUND_AGENT_WAIT_MS,
      rampUpMs: Math.min(check.run.rampUpMs, r.sessions * 1_000),
      checkName: check.name,
      // A round is judged by the check's alert policy (monitor/alerts), not by the profile's load-test thresholds.
      thresholds: [],
      params: { check: check.name, location: r.location, slotAt: new Date(r.slotAt).toISOString(), ...checkParams(check) },
    });
    const log = this.#d.log.child({ check: check.name, location: r.location });
    const coordinator = new RunCoordinator(
      { ...params, drainTimeoutMs: cfg.drainTimeoutMs, lossGraceMs: cfg.lossGraceMs },
      {
        pool: view,
        sinks: sinks.all,
        progress: quietProgress(log),
        log,
        evidence,
        registry,
        results: runFolderStore(cfg.outDir, sinks.results),
      },
    );
    const outcome = coordinator.run().finally(() => {
      view.close();
      held.release();
      void this.#targets.retain(this.#config.checks);
    });
    return { abort: (why) => coordinator.abort(why), outcome };
  }

  async #recordRound(r: RoundReport): Promise<void> {
    try {
      for (const sink of this.#d.sinks.all) await sink.roundRecorded?.(r);
    } finally {
      this.#d.onRound?.(r);
    }
    const check = this.#config.checks.find((c) => c.name === r.check);
    if (check) await this.alerts.observe(await observeRound(r, { outDir: this.#d.cfg.outDir, policy: check.alerts, settings: this.#config.alerts }));
  }

  #armRetention(): void {
    const { cfg } = this.#d;
    if (cfg.dbUrl === null) return;
    const every = this.#config.retention.everyMs;
    if (this.#retention !== null && every === this.#retentionEvery) return;
    if (this.#retention) clearTimeout(this.#retention);
    this.#retentionEvery = every;
    const pass = (delay: number) => {
      this.#retention = setTimeout(() => {
        void runRetention(cfg.dbUrl!, { rawDays: this.#config.retention.rawDays, log: this.#d.log })
          .then(
            (r) => this.#log.info(r, 'retention done'),
            (e: unknown) => this.#log.error({ err: describeError(e) }, 'retention failed; tried again at the next pass'),
          )
          .finally(() => {
            if (this.#retention !== null) pass(this.#config.retention.everyMs);
          });
      }, delay);
      this.#retention.unref();
    };
    pass(Math.min(RETENTION_FIRST_DELAY_MS, every));
  }
}

function describeCheck(c: CheckConfig): string {
  const where = c.locations === null ? 'any agent' : `${c.locations.label} ${c.locations.values.join(', ')}`;
  return `${c.name} (${c.scenario}, every ${Math.round(c.intervalMs / 1000)}s, ${c.sessionsPerLocation} per location, ${where})`;
}

/** What a round's run.json says of its check's options (secret-free: no profile variables' values). */
function checkParams(c: CheckConfig): Record<string, unknown> {
  const r = c.run;
  return {
    scenario: c.scenario,
    target: c.target,
    intervalMs: c.intervalMs,
    sessionsPerLocation: c.sessionsPerLocation,
    browser: r.browser,
    scenarioModule: r.scenarioModule,
    ...r.options,
  };
}

/** A round's progress goes to the log (debug), not the terminal: the daemon prints one line per round instead. */
function quietProgress(log: Logger): Progress {
  return {
    note: (line) => log.debug({ line }, 'round progress'),
    session: () => undefined,
    plan: () => undefined,
    reshare: (from, to, sessions) => log.info({ from, to, sessions }, 'sessions reassigned'),
    flush: () => undefined,
  };
}
