import { coreMetrics, mergeCustomMetrics, ownDeclarations, type CustomMetricDef, type ScenarioName, type SkippedMetric } from '@userprobe/shared';
import type { IngestedEvent } from '../hub/ingest.js';
import { summarizeRun, type RunSummary, type SummaryAgent, type SummarySample, type SummarySession } from './summary.js';
import { judgeThreshold, type ThresholdResult } from './thresholds.js';
import type { Threshold } from '@userprobe/shared';

/*
 * A run as it stands while it runs: every durable batch of the run (the
 * hub's `batch` event carries it once stored; duplicates are skipped), merged
 * across agents, summarized on demand the way the run will be at its end
 * (summary.ts: samples of sessions that have not ended are kept apart). What
 * `abort-on-fail` thresholds are judged on.
 */
export class LiveRun {
  readonly #samples: SummarySample[] = [];
  readonly #sessions: SummarySession[] = [];
  #firstSampleAt: number | null = null;
  /** The summary of what has arrived so far; null when a batch came since it was made. */
  #summary: RunSummary | null = null;
  readonly #runId: string;
  readonly #o: LiveRunOptions;
  /** The custom metrics the run's batches declared so far. */
  #metrics: CustomMetricDef[] = [];

  constructor(runId: string, o: LiveRunOptions) {
    this.#runId = runId;
    this.#o = o;
  }

  /** Take a stored batch of this run (others and duplicates are ignored). */
  add(e: IngestedEvent, now: number): void {
    if (e.runId !== this.#runId || e.duplicate || e.batch === undefined) return;
    for (const s of e.batch.samples)
      this.#samples.push({ agentId: e.agentId, sessionId: s.sessionId, metric: s.metric, value: s.value, detail: s.detail, saturated: s.saturated });
    for (const r of e.batch.sessions) this.#sessions.push({ agentId: e.agentId, sessionId: r.sessionId, status: r.status, failedStep: r.failedStep });
    if (e.batch.metrics) this.#metrics = mergeCustomMetrics(this.#metrics, ownDeclarations(e.batch.metrics));
    if (e.batch.samples.length > 0 || e.batch.sessions.length > 0) {
      this.#summary = null;
      this.#firstSampleAt ??= now;
    }
  }

  /** When the first sample or session record arrived (controller clock), or null. */
  get firstSampleAt(): number | null {
    return this.#firstSampleAt;
  }

  /** The run so far, summarized once per batch that brought something (the progress redraw and the abort check share it). */
  summary(): RunSummary {
    // Sessions not yet recorded are neither missing nor lost while the run goes on.
    this.#summary ??= summarizeRun({
      runId: this.#runId,
      scenario: this.#o.scenario,
      expectedSessions: null,
      skipped: this.#o.skipped,
      metrics: this.#metrics,
      agents: this.#o.agents,
      samples: this.#samples,
      sessions: this.#sessions,
    });
    return this.#summary;
  }
}

/**
 * Pure: the first abort-on-fail threshold that fails now, or null. One is
 * judged only once it has `minSamples` values (sessions, for
 * sessions:error-rate) and `delayMs` has passed since the run's first sample,
 * so a single slow value at the start does not stop a run.
 */
export function abortingThreshold(summary: RunSummary, thresholds: readonly Threshold[], sinceFirstMs: number | null): ThresholdResult | null {
  if (sinceFirstMs === null) return null;
  for (const t of thresholds) {
    if (!t.abortOnFail || sinceFirstMs < t.delayMs) continue;
    const r = judgeThreshold(summary, t);
    if (r.observed !== null && r.count >= t.minSamples && !r.ok) return r;
  }
  return null;
}

/** What the progress block shows of a run while it goes: core metrics so far, and each threshold's state now. */
export interface LiveView {
  readonly metrics: readonly {
    readonly metric: string;
    readonly unit: string;
    readonly count: number;
    readonly p50: number | null;
    readonly p95: number | null;
  }[];
  readonly thresholds: readonly ThresholdResult[];
}

/** Pure: the live view of a summary so far (the scenario's core metrics, in catalog order, and every threshold judged now). */
export function liveView(summary: RunSummary, thresholds: readonly Threshold[]): LiveView {
  const core = new Set<string>([
    ...coreMetrics(summary.scenario).filter((m) => !summary.skipped.some((k) => k.metric === m)),
    ...summary.metrics.filter((m) => m.custom === 'core').map((m) => m.metric),
  ]);
  return {
    metrics: summary.metrics.filter((m) => core.has(m.metric)).map((m) => ({ metric: m.metric, unit: m.unit, count: m.count, p50: m.p50, p95: m.p95 })),
    thresholds: thresholds.map((t) => judgeThreshold(summary, t)),
  };
}
export interface LiveRunOptions {
  readonly scenario: ScenarioName;
  readonly agents: readonly SummaryAgent[];
  /** Core metrics the profile gives no step for (not shown, never missing). */
  readonly skipped?: readonly SkippedMetric[];
}
