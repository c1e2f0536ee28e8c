import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ROUND_STATUSES, SCENARIOS, SESSION_STATUSES, type RoundReport } from '@userprobe/shared';
import type { IngestedEvent } from '../hub/ingest.js';
import { ALERT_STATE_VALUES, BATCH_OUTCOMES, PROM_METRICS, ROUND_LATENESS_BUCKETS_S, RUN_KINDS, type RunKind } from './prometheus-catalog.js';
import type { AlertState } from '../monitor/alerts/alert-engine.js';

/*
 * The controller's Prometheus metrics, served as `GET /metrics` on the
 * operator API (docs/prometheus.md). One private registry per controller —
 * never prom-client's global one: a process (a test) may run several
 * controllers. Counters follow events (`round`, `ingested`); gauges of state
 * (agents, runs in progress, the MySQL sink, alert states) are read from
 * their owners at each scrape, so they cannot drift from what `controller
 * status` shows: an alert still firing from before a restart is there from
 * the first scrape, and the alerts of a check removed from the config go
 * with it.
 */

/** What the gauges read at each scrape. Every source is optional: a missing one exports no series (or zeros). */
export interface MetricSources {
  /** Every agent the fleet directory knows (connected or gone): connected ones are counted per location. */
  readonly agents?: () => readonly { readonly location: string; readonly connected: boolean }[];
  /** The checks scheduled now: their round counters exist (at 0) from the start, so the first failure is an increase. */
  readonly checks?: () => readonly { readonly name: string; readonly locations: readonly string[] }[];
  readonly runsInProgress?: () => Readonly<Record<RunKind, number>>;
  /** The alert engine's states (Daemon.alerts.states()). */
  readonly alerts?: () => readonly Pick<AlertState, 'check' | 'location' | 'kind' | 'metric' | 'state'>[];
  /** The MySQL sink, when there is one (`--db`): its modes and its stats. */
  readonly mysql?: { readonly modes: readonly string[]; readonly stats: () => { readonly spoolSize: number; readonly mode: string } } | null;
}

/** One controller's metrics: what serve feeds them and what the API and the alert engine call. */
export interface ControllerMetrics {
  /** This controller's own registry. */
  readonly registry: Registry;
  /** A monitor round's report (the daemon's onRound). */
  round(r: RoundReport): void;
  /** A batch acknowledged (Ingest's 'ingested' event). */
  ingested(e: IngestedEvent): void;
  /** The text exposition format, and its content type. */
  exposition(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/**
 * The controller's metrics (prometheus-catalog.ts) on a registry of their
 * own; the gauges read `sources` at each scrape. `processMetrics` (default
 * on) adds prom-client's process and Node.js metrics to that registry.
 */
export function createControllerMetrics(sources: MetricSources = {}, opts: { readonly processMetrics?: boolean } = {}): ControllerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const M = PROM_METRICS;

  const agents = new Gauge({
    name: M.agentsConnected.name,
    help: M.agentsConnected.help,
    labelNames: M.agentsConnected.labels,
    registers,
    collect() {
      if (!sources.agents) return;
      const byLocation = new Map<string, number>();
      for (const a of sources.agents()) byLocation.set(a.location, (byLocation.get(a.location) ?? 0) + (a.connected ? 1 : 0));
      agents.reset();
      for (const [location, n] of byLocation) agents.set({ location }, n);
    },
  });
  const rounds = new Counter({
    name: M.rounds.name,
    help: M.rounds.help,
    labelNames: M.rounds.labels,
    registers,
    collect() {
      for (const c of sources.checks?.() ?? []) {
        for (const location of c.locations) for (const status of ROUND_STATUSES) rounds.inc({ check: c.name, location, status }, 0);
      }
    },
  });
  const lateness = new Histogram({
    name: M.roundLateness.name,
    help: M.roundLateness.help,
    labelNames: M.roundLateness.labels,
    registers,
    buckets: [...ROUND_LATENESS_BUCKETS_S],
  });
  const sessions = new Counter({ name: M.sessions.name, help: M.sessions.help, labelNames: M.sessions.labels, registers });
  const samples = new Counter({ name: M.samples.name, help: M.samples.help, registers });
  const batches = new Counter({ name: M.batches.name, help: M.batches.help, labelNames: M.batches.labels, registers });
  for (const scenario of SCENARIOS) for (const status of SESSION_STATUSES) sessions.inc({ scenario, status }, 0);
  for (const outcome of BATCH_OUTCOMES) batches.inc({ outcome }, 0);

  const running = new Gauge({
    name: M.runsInProgress.name,
    help: M.runsInProgress.help,
    labelNames: M.runsInProgress.labels,
    registers,
    collect() {
      const now = sources.runsInProgress?.();
      for (const kind of RUN_KINDS) running.set({ kind }, now?.[kind] ?? 0);
    },
  });
  const alerts = new Gauge({
    name: M.alertState.name,
    help: M.alertState.help,
    labelNames: M.alertState.labels,
    registers,
    collect() {
      if (!sources.alerts) return;
      alerts.reset();
      for (const a of sources.alerts()) alerts.set({ check: a.check, location: a.location, kind: a.kind, metric: a.metric ?? '' }, ALERT_STATE_VALUES[a.state]);
    },
  });

  const mysql = sources.mysql;
  if (mysql) {
    const spool = new Gauge({
      name: M.mysqlSpool.name,
      help: M.mysqlSpool.help,
      registers,
      collect() {
        spool.set(mysql.stats().spoolSize);
      },
    });
    const mode = new Gauge({
      name: M.mysqlMode.name,
      help: M.mysqlMode.help,
      labelNames: M.mysqlMode.labels,
      registers,
      collect() {
        const now = mysql.stats().mode;
        for (const m of new Set([...mysql.modes, now])) mode.set({ mode: m }, m === now ? 1 : 0);
      },
    });
  }
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    round(r) {
      rounds.inc({ check: r.check, location: r.location, status: r.status });
      if (r.startedAt !== null) lateness.observe({ check: r.check }, Math.max(0, r.startedAt - r.slotAt) / 1000);
    },
    ingested(e) {
      batches.inc({ outcome: e.duplicate ? 'duplicate' : 'stored' });
      if (e.duplicate) return;
      samples.inc(e.samples);
      for (const s of e.records) sessions.inc({ scenario: s.scenario, status: s.status });
    },
    async exposition() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
