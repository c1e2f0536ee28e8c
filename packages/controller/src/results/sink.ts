import type { Capacity, MetricBatch, RoundReport, ScenarioName, BrowserKind } from '@userprobe/shared';

export interface RunInfo {
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly browser: BrowserKind;
  readonly total: number;
  readonly targetName: string;
  /** UTC epoch ms. */
  readonly startedAt: number;
  /** The operator's parameters (flags), secret-free. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The monitor check this run is a round of (controller serve --config); absent for a load test. */
  readonly checkName?: string | null;
}

export interface AgentInfo {
  readonly agentId: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly capacity: Capacity;
  /** labels.region, or 'local' — the `location` of every sample from this agent. */
  readonly location: string;
}

/** An alert's state as the controller's alert engine left it, and the notification it sent (MySQL alert_states and alerts). */
export interface AlertRecord {
  readonly key: string;
  readonly check: string;
  readonly location: string;
  readonly kind: string;
  readonly metric: string | null;
  readonly state: string;
  readonly severity: string | null;
  readonly since: number;
  readonly updatedAt: number;
  readonly lastNotifiedAt: number | null;
  readonly value: number | null;
  readonly threshold: number | null;
  readonly detail: string | null;
  readonly memory: unknown;
  readonly notification: {
    readonly kind: string;
    readonly text: string;
    readonly runId: string | null;
    readonly scenario: string | null;
    readonly at: number;
  } | null;
}

export type RunStatus = 'running' | 'passed' | 'failed' | 'aborted';

/**
 * Where ingested batches become durable. The controller acknowledges a batch
 * to its agent only after every sink's `writeBatch` has resolved. The results
 * folder is always a sink; MySQL is one when `--db` / PROBE_DB_URL is set.
 */
export interface Sink {
  readonly name: string;
  open(): Promise<void>;
  runStarted(run: RunInfo, agents: readonly AgentInfo[]): Promise<void>;
  /**
   * Make the batch durable. Resolves 'duplicate' when (runId, agentId, seq) was
   * stored before (nothing is written twice). Rejects with a ProbeError whose
   * code says whether the agent should retry (E_SINK_UNAVAILABLE) or not.
   */
  writeBatch(batch: MetricBatch, agent: AgentInfo): Promise<'stored' | 'duplicate'>;
  runEnded(runId: string, status: RunStatus, endedAt: number): Promise<void>;
  /** A monitor round's report (one per check, location and slot), durable on return. */
  roundRecorded?(round: RoundReport): Promise<void>;
  /** An alert changed state (and maybe notified), durable on return. */
  alertChanged?(alert: AlertRecord): Promise<void>;
  close(): Promise<void>;
}
