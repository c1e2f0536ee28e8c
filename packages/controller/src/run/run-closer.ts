import type { Logger } from 'pino';
import {
  SESSIONS_METRIC,
  describeError,
  type BrowserKind,
  type HarMode,
  type RunFinished,
  type ScenarioName,
  type CustomMetricDef,
  type SkippedMetric,
  type Threshold,
} from '@userprobe/shared';
import type { RunStatus, Sink } from '../results/sink.js';
import type { SampleLine, SessionLine } from '../results/run-folder.js';
import { summarizeRun, allSessionsOk, type RunSummary, type SummaryAgent } from './summary.js';
import type { EvidenceBudget, EvidenceUsage } from '../results/evidence-store.js';
import { RunError, agentsMissing, runAborted, runTimeout } from './run-errors.js';
import { judgeThresholds, thresholdsFailed, type ThresholdResult } from './thresholds.js';
import { endText, outcomeCounts, type EndReason, type MachineState } from './run-machine.js';

/*
 * Closing a run: read what is durable, summarize it with what became of every
 * planned session (lost, not run, reassigned), judge the outcome, tell the
 * sinks, write summary.json. The same for a run that ends under its
 * controller, one a restarted controller re-adopted, and `controller reconcile`.
 */

/** What a run's results folder holds: its samples and session records. */
export interface RunRows {
  readonly samples: readonly SampleLine[];
  readonly sessions: readonly SessionLine[];
  /** The custom metrics the run's batches declared (metrics.json); absent: none. */
  readonly metrics?: readonly CustomMetricDef[];
}

export interface RunResultsStore {
  read(runId: string): Promise<RunRows>;
  writeSummary(runId: string, summary: RunSummary): Promise<string>;
}

export interface CloseDeps {
  readonly sinks: readonly Sink[];
  readonly results: RunResultsStore;
  readonly log: Logger;
  readonly evidence?: { usage(runId: string): Promise<EvidenceUsage & { readonly budget: EvidenceBudget }> };
}

export interface CloseInput {
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly browser: BrowserKind;
  readonly har: HarMode;
  /** Planned sessions; null when sessions repeat (--duration). */
  readonly expectedSessions: number | null;
  /** Core metrics the run's profile gives no step for (skippedMetrics of the assignment's profile); none when unknown. */
  readonly skipped?: readonly SkippedMetric[];
  readonly agents: readonly SummaryAgent[];
  readonly finished: ReadonlyMap<string, RunFinished>;
  readonly state: MachineState;
  readonly end: EndReason;
  readonly endedAt: number;
  /** Judged on the summary (run/thresholds.ts); their results go into summary.json. */
  readonly thresholds?: readonly Threshold[];
  /** The abort-on-fail threshold that stopped the run while it went (its abort is the threshold's failure, not the run's). */
  readonly stoppedBy?: ThresholdResult | null;
}

export type RunOutcome =
  | {
      readonly kind: 'completed';
      readonly status: RunStatus;
      readonly exitCode: 0 | 1 | 3 | 99;
      readonly summary: RunSummary;
      readonly summaryPath: string;
      readonly error: RunError | null;
      /** The rows the summary was made from, for the writers that follow (JUnit, report.html): read once. */
      readonly rows: RunRows;
    }
  | { readonly kind: 'not-run'; readonly exitCode: 2 | 3; readonly error: RunError | import('@userprobe/shared').PlanError };

/** Pure: the run's error from how it ended and what was lost (null: it ran to the end with nothing lost). */
export function endError(end: EndReason, lost: readonly string[], notRun: readonly string[]): RunError | null {
  switch (end.kind) {
    case 'completed':
      if (lost.length === 0 && notRun.length === 0) return null;
      return agentsMissing(
        `the run lost ${lost.length} running session(s)${lost.length ? ` (${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''})` : ''}` +
          ` and could not run ${notRun.length}${notRun.length ? ` (${notRun.slice(0, 5).join(', ')}${notRun.length > 5 ? ', …' : ''})` : ''} because an agent was lost; ` +
          'the summary lists them; their partial samples are kept out of the percentiles',
      );
    case 'aborted':
      return runAborted(endText(end));
    case 'agent-lost':
      return agentsMissing(`${endText(end)}; rerun, or let the run reassign a lost agent's sessions (--on-agent-loss reassign)`);
    case 'start-failed':
    case 'drain-timeout':
    case 'bound':
      return runTimeout(endText(end));
    default: {
      const never: never = end;
      throw new Error(`unhandled end ${JSON.stringify(never)}`);
    }
  }
}

/** Pure: the planned start of each slot's first session (never reassigned): the agreed start plus its ramp offset. */
export function plannedStarts(state: Pick<MachineState, 'startAt' | 'slots'>): Map<string, number> {
  return new Map([...state.slots.values()].filter((s) => s.attempt === 1).map((s) => [s.slot, state.startAt + s.offsetMs]));
}

export async function closeRun(input: CloseInput, d: CloseDeps): Promise<Extract<RunOutcome, { kind: 'completed' }>> {
  const log = d.log.child({ component: 'run-closer', runId: input.runId });
  const rows = await d.results.read(input.runId);
  const { samples, sessions } = rows;
  let evidence: Parameters<typeof summarizeRun>[0]['evidence'];
  if (d.evidence) {
    try {
      const u = await d.evidence.usage(input.runId);
      evidence = { har: input.har, budget: u.budget, sessions: u.sessions, bytes: u.bytes, skippedFiles: u.skippedFiles, skippedBytes: u.skippedBytes };
    } catch (e) {
      log.warn({ err: describeError(e) }, 'evidence usage unavailable for the summary');
    }
  }
  const gaps = outcomeCounts(input.state);
  // A lost session whose record arrived after all (an agent's spool) is not lost.
  const recorded = new Set(sessions.map((s) => s.sessionId));
  const lost = gaps.lost.filter((id) => !recorded.has(id));
  const counted = summarizeRun({
    runId: input.runId,
    scenario: input.scenario,
    browser: input.browser,
    evidence,
    ramp: [...input.finished].map(([agentId, f]) => ({ agentId, rampMs: f.rampMs, peakConcurrent: f.peakConcurrent, startGate: f.startGate })),
    expectedSessions: input.expectedSessions,
    skipped: input.skipped,
    metrics: rows.metrics,
    plannedStarts: plannedStarts(input.state),
    agents: input.agents,
    gaps: { lost, notRun: gaps.notRun, reassigned: gaps.reassigned },
    samples: samples.map((s) => ({ agentId: s.agentId, sessionId: s.sessionId, metric: s.metric, value: s.value, detail: s.detail, saturated: s.saturated })),
    sessions: sessions.map((s) => ({
      agentId: s.agentId,
      sessionId: s.sessionId,
      status: s.status,
      failedStep: s.failedStep,
      startMs: Date.parse(s.startedAt),
      endMs: Date.parse(s.endedAt),
    })),
  });
  const thresholds = input.thresholds ?? [];
  const stoppedBy = input.stoppedBy ?? null;
  const summary: RunSummary = { ...counted, thresholds: judgeThresholds(counted, thresholds), stoppedBy };
  // Stopped by an abort-on-fail threshold: the threshold failed (exit 99), the run did not.
  const error = stoppedBy !== null && input.end.kind === 'aborted' ? null : endError(input.end, lost, gaps.notRun);
  const aborted = input.end.kind === 'aborted' && stoppedBy === null;
  const thresholdsOk = thresholdsFailed(summary.thresholds).length === 0 && stoppedBy === null;
  // A threshold on `sessions` says how many unsuccessful sessions are acceptable: then it decides, not "all ok".
  const sessionsOk = thresholds.some((t) => t.metric === SESSIONS_METRIC) || allSessionsOk(summary);
  const status: RunStatus = aborted ? 'aborted' : error === null && sessionsOk && thresholdsOk ? 'passed' : 'failed';
  for (const sink of d.sinks) {
    try {
      await sink.runEnded(input.runId, status, input.endedAt);
    } catch (e) {
      log.error({ sink: sink.name, err: describeError(e) }, 'sink could not record the end of the run');
    }
  }
  const summaryPath = await d.results.writeSummary(input.runId, summary);
  const exitCode = error !== null ? 3 : !thresholdsOk ? 99 : status === 'passed' ? 0 : 1;
  return { kind: 'completed', status, exitCode, summary, summaryPath, error, rows };
}
