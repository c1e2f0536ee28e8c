import type { AlertStateName } from '../monitor/alerts/alert-engine.js';

/*
 * The controller's Prometheus metrics (`GET /metrics`), each defined once:
 * name, type, labels and help. api/prometheus.ts builds the registry from it
 * and docs/prometheus.md describes every entry (a test holds the two
 * together). Label sets are closed or bounded by the config: checks and
 * their locations, agents' locations, scenarios, statuses — never run ids,
 * session ids or agent ids.
 */

/** One metric: its name, Prometheus type, label names and HELP text. */
export interface PromMetricSpec {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labels: readonly string[];
  readonly help: string;
}

export const PROM_METRICS = {
  agentsConnected: {
    name: 'userprobe_agents_connected',
    type: 'gauge',
    labels: ['location'],
    help: "Agents connected now, per location (the agent's region label, or local); 0 for a location whose agents were seen but are all gone.",
  },
  rounds: {
    name: 'userprobe_rounds_total',
    type: 'counter',
    labels: ['check', 'location', 'status'],
    help: 'Monitor round reports per check, location and status (ok, failed, gap, skipped, missed, not-run).',
  },
  roundLateness: {
    name: 'userprobe_round_start_lateness_seconds',
    type: 'histogram',
    labels: ['check'],
    help: 'How long after its grid slot a round started (rounds that started only).',
  },
  sessions: {
    name: 'userprobe_sessions_total',
    type: 'counter',
    labels: ['scenario', 'status'],
    help: 'Session records stored, per scenario and status (ok, failed, aborted): rounds and load tests.',
  },
  samples: {
    name: 'userprobe_samples_ingested_total',
    type: 'counter',
    labels: [],
    help: "Samples stored from agents' batches (duplicates not counted).",
  },
  batches: {
    name: 'userprobe_batches_total',
    type: 'counter',
    labels: ['outcome'],
    help: "Batches acknowledged to agents: stored, or duplicate (stored before: an agent's replay).",
  },
  mysqlSpool: {
    name: 'userprobe_mysql_spool_entries',
    type: 'gauge',
    labels: [],
    help: "Entries in the controller's MySQL spool, waiting for MySQL (only with --db).",
  },
  mysqlMode: {
    name: 'userprobe_mysql_sink_mode',
    type: 'gauge',
    labels: ['mode'],
    help: "The MySQL sink's mode: 1 for the current one (direct, spooling, failed), 0 for the others (only with --db).",
  },
  runsInProgress: {
    name: 'userprobe_runs_in_progress',
    type: 'gauge',
    labels: ['kind'],
    help: 'Runs in progress on this controller: monitor rounds (one per check and location) and submitted load tests.',
  },
  alertState: {
    name: 'userprobe_alert_state',
    type: 'gauge',
    labels: ['check', 'location', 'kind', 'metric'],
    help: "Each alert's state: 0 ok (or resolved), 1 pending, 2 firing. location * is a rule across the check's locations; metric is the one a latency alert judges, empty for other kinds.",
  },
} as const satisfies Record<string, PromMetricSpec>;

/** The kinds of run `userprobe_runs_in_progress` counts. */
export const RUN_KINDS = ['round', 'load-test'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

/** `userprobe_batches_total`'s outcomes. */
export const BATCH_OUTCOMES = ['stored', 'duplicate'] as const;

/**
 * `userprobe_alert_state`'s value per state of the alert engine
 * (monitor/alerts/alert-engine.ts). `resolved` (right after firing ends, until
 * it settles) reads as ok.
 */
export const ALERT_STATE_VALUES = { ok: 0, pending: 1, firing: 2, resolved: 0 } as const satisfies Record<AlertStateName, number>;

/**
 * Round start lateness buckets, seconds: a round normally starts within
 * milliseconds of its slot; a slot later than a quarter of its interval (1-30 s) is
 * `missed`, not run.
 */
export const ROUND_LATENESS_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;
