import { coreMetrics, MetricBatchSchema, type MetricBatch, type ScenarioName } from '@userprobe/shared';
import type { AgentInfo, RunInfo } from '../../src/results/sink.js';

/* Test support: valid runs, agents and batches with known contents. */

export function testRun(runId: string, scenario: ScenarioName = 'chat-load', startedAt = Date.UTC(2030, 0, 1, 12, 0, 0)): RunInfo {
  return { runId, scenario, browser: 'shell', total: 10, targetName: 'demo', startedAt, params: { total: 10 } };
}

export function testAgent(agentId: string, location = 'local'): AgentInfo {
  return {
    agentId,
    name: agentId,
    labels: location === 'local' ? {} : { region: location },
    capacity: { 'chat-load': 4, 'video-call': 1, cobrowse: 2 },
    location,
  };
}

export interface BatchSpec {
  readonly runId: string;
  readonly agentId: string;
  readonly seq: number;
  /** Sessions in this batch; each records every core metric of the scenario once and ends in the batch. */
  readonly sessions: number;
  readonly scenario?: ScenarioName;
  /** Timestamp of the first sample; samples follow 1 ms apart. */
  readonly t0?: number;
  /** Sessions (from the end) that failed after their first core metric. */
  readonly failed?: number;
  readonly value?: (sessionIndex: number, metricIndex: number) => number;
}

/** A batch validated by the shared schema, exactly as the controller receives it. */
export function testBatch(spec: BatchSpec): MetricBatch {
  const scenario = spec.scenario ?? 'chat-load';
  const metrics = coreMetrics(scenario);
  const t0 = spec.t0 ?? Date.UTC(2030, 0, 1, 12, 0, 0);
  const failed = spec.failed ?? 0;
  let t = t0;
  const samples: MetricBatch['samples'] = [];
  const sessions: MetricBatch['sessions'] = [];
  for (let i = 0; i < spec.sessions; i++) {
    const sessionId = `${spec.agentId}-s${spec.seq}-${i}`;
    const isFailed = i >= spec.sessions - failed;
    const recorded = isFailed ? metrics.slice(0, 1) : metrics;
    const startedAt = t;
    recorded.forEach((metric, m) => {
      samples.push({ sessionId, metric, value: spec.value?.(i, m) ?? 100 + i + m, ts: t++ });
    });
    sessions.push({
      sessionId,
      scenario,
      browser: 'shell',
      status: isFailed ? 'failed' : 'ok',
      startedAt,
      endedAt: t,
      failedStep: isFailed ? 'open-widget' : null,
      error: isFailed ? { code: 'E_STEP_TIMEOUT', message: 'widget did not become usable in 30000 ms' } : null,
      artifacts: isFailed ? [`sessions/${sessionId}/visitor.png`, `sessions/${sessionId}/visitor.har`] : [],
    });
  }
  return MetricBatchSchema.parse({ runId: spec.runId, agentId: spec.agentId, seq: spec.seq, createdAt: t, samples, sessions });
}
