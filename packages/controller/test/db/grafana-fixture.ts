import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { METRIC_NAMES, METRICS, MetricBatchSchema, type MetricBatch, type RoundReport, type RoundStatus, type ScenarioName } from '@userprobe/shared';
import { createMysqlSink } from '../../src/db/mysql-sink.js';
import { runRetention } from '../../src/db/retention.js';
import type { AgentInfo, RunInfo } from '../../src/results/sink.js';
import { testAgent, testBatch, testRun } from './batches.js';
import { CHECKOUT_METRIC, withCustomMetric } from './custom-metric-batch.js';
import type { TestDb } from './test-db.js';

/*
 * Test support: what the Grafana query test reads, stored the way the
 * controller stores it (the sink: runs, batches, monitor rounds), plus the
 * alert engine's tables written directly. Times are relative to `now`:
 *
 * - load tests (runs.check_name NULL, target `demo`): `run-chat` (chat-load in
 *   fra1 and nyc3, failures at its end, slow 2.5 s samples in fra1 in the last
 *   15 minutes) and `run-cob` (cobrowse in nyc3, one failure);
 * - check `chat` (chat-load, target `demo`), a round every 5 minutes over the
 *   last hour: fra1 ok and fast; nyc3 failed (2 of 3 sessions) and slow
 *   (2.5 s); sgp1 only gaps (no agent);
 * - check `cob` (cobrowse, target `tenant-b`) in fra1 every 10 minutes: ok,
 *   skipped, missed and not-run slots;
 * - one sample of every metric that is not in ms, in `run-chat`;
 * - samples of a custom metric (CHECKOUT_METRIC, declared in their batch) in
 *   chat's last nyc3 round, the run view's default run: CUSTOM_VALUES;
 * - rollups of all of it; alert states and alert history of both checks.
 */

/** The slow value (ms) of chat's nyc3 rounds and of the load test's last minutes in fra1. */
export const SLOW_MS = 2_500;
/** The checks and their locations. */
export const CHECKS = { chat: { locations: ['fra1', 'nyc3', 'sgp1'] }, cob: { locations: ['fra1'] } } as const;

const MIN = 60_000;

/** The custom metric's samples (ms) in chat's last nyc3 round. */
export const CUSTOM_VALUES = [800, 1_000, 1_200, 3_000] as const;

export async function seedGrafanaData(db: TestDb, now: number, log: Logger): Promise<void> {
  const sink = createMysqlSink({ url: db.url, spoolDir: await mkdtemp(join(tmpdir(), 'up-gq-')), log });
  await sink.open();
  const recordRound = sink.roundRecorded?.bind(sink);
  if (recordRound === undefined) throw new Error('the MySQL sink records no monitor rounds');
  const round = (r: Partial<RoundReport> & Pick<RoundReport, 'check' | 'location' | 'slotAt' | 'status' | 'scenario' | 'targetName'>): Promise<void> =>
    recordRound({
      startedAt: null,
      endedAt: r.slotAt,
      runId: null,
      agents: [],
      sessions: { planned: 1, ok: 0, failed: 0 },
      reason: null,
      failedStep: null,
      exitCode: null,
      ...r,
    });
  const runRound = async (o: {
    check: string;
    location: string;
    agent: AgentInfo;
    slotAt: number;
    startDelayMs: number;
    scenario: ScenarioName;
    target: string;
    sessions: number;
    failed: number;
    value: () => number;
    /** Values of CHECKOUT_METRIC the round's batch also carries. */
    custom?: readonly number[];
  }): Promise<void> => {
    const runId = `${o.check}.${o.location}.${o.slotAt}`;
    const startedAt = o.slotAt + o.startDelayMs;
    const run: RunInfo = { ...testRun(runId, o.scenario, startedAt), targetName: o.target, checkName: o.check };
    await sink.runStarted(run, [o.agent]);
    const batch = testBatch({
      runId,
      agentId: o.agent.agentId,
      seq: 1,
      sessions: o.sessions,
      failed: o.failed,
      scenario: o.scenario,
      t0: startedAt + 1_000,
      value: o.value,
    });
    await sink.writeBatch(o.custom === undefined ? batch : withCustomMetric(batch, CHECKOUT_METRIC, o.custom), o.agent);
    const endedAt = startedAt + 20_000;
    const status: RoundStatus = o.failed > 0 ? 'failed' : 'ok';
    await sink.runEnded(runId, status === 'ok' ? 'passed' : 'failed', endedAt);
    await round({
      check: o.check,
      location: o.location,
      slotAt: o.slotAt,
      startedAt,
      endedAt,
      status,
      runId,
      scenario: o.scenario,
      targetName: o.target,
      agents: [o.agent.name],
      sessions: { planned: o.sessions, ok: o.sessions - o.failed, failed: o.failed },
      reason: o.failed > 0 ? `${o.failed} of ${o.sessions} sessions failed` : null,
      failedStep: o.failed > 0 ? { step: 'open-widget', count: o.failed } : null,
      exitCode: o.failed > 0 ? 1 : 0,
    });
  };

  // Load tests.
  const fra = testAgent('agent-fra', 'fra1');
  const nyc = testAgent('agent-nyc', 'nyc3');
  const t0 = now - 80 * MIN;
  await sink.runStarted(testRun('run-chat', 'chat-load', t0), [fra, nyc]);
  for (let seq = 1; seq <= 4; seq++) {
    for (const a of [fra, nyc]) {
      await sink.writeBatch(
        testBatch({
          runId: 'run-chat',
          agentId: a.agentId,
          seq,
          sessions: 3,
          failed: seq === 4 ? 1 : 0,
          t0: t0 + seq * 9 * MIN,
          value: (s, m) => 100 + 10 * s + m,
        }),
        a,
      );
    }
  }
  for (const [i, ago] of [12, 7, 2].entries()) {
    await sink.writeBatch(testBatch({ runId: 'run-chat', agentId: 'agent-fra', seq: 5 + i, sessions: 3, t0: now - ago * MIN, value: () => SLOW_MS }), fra);
  }
  await sink.writeBatch(withEveryOtherUnit(testBatch({ runId: 'run-chat', agentId: 'agent-fra', seq: 8, sessions: 1, t0: now - 30 * MIN })), fra);
  await sink.runEnded('run-chat', 'failed', now - 5 * MIN);
  await sink.runStarted(testRun('run-cob', 'cobrowse', t0), [nyc]);
  await sink.writeBatch(testBatch({ runId: 'run-cob', agentId: 'agent-nyc', seq: 1, sessions: 2, scenario: 'cobrowse', failed: 1, t0: now - 20 * MIN }), nyc);
  await sink.runEnded('run-cob', 'failed', now - 1_000);

  // Check `chat`: the newest run is its last nyc3 round (with failed sessions: the run view's default run).
  const monFra = testAgent('mon-fra', 'fra1');
  const monNyc = testAgent('mon-nyc', 'nyc3');
  for (let k = 12; k >= 1; k--) {
    const slotAt = now - k * 5 * MIN;
    await runRound({
      check: 'chat',
      location: 'fra1',
      agent: monFra,
      slotAt,
      startDelayMs: 500,
      scenario: 'chat-load',
      target: 'demo',
      sessions: 1,
      failed: 0,
      value: () => 100,
    });
    await runRound({
      check: 'chat',
      location: 'nyc3',
      agent: monNyc,
      slotAt,
      startDelayMs: 1_000,
      scenario: 'chat-load',
      target: 'demo',
      sessions: 3,
      failed: 2,
      value: () => SLOW_MS,
      ...(k === 1 ? { custom: CUSTOM_VALUES } : {}),
    });
    await round({ check: 'chat', location: 'sgp1', slotAt, status: 'gap', scenario: 'chat-load', targetName: 'demo', reason: 'no agent in sgp1' });
  }
  // Check `cob`.
  const cobStatuses: RoundStatus[] = ['ok', 'skipped', 'ok', 'missed', 'ok', 'not-run'];
  for (const [i, status] of cobStatuses.entries()) {
    const slotAt = now - (60 - i * 10) * MIN - 30_000;
    if (status === 'ok') {
      await runRound({
        check: 'cob',
        location: 'fra1',
        agent: monFra,
        slotAt,
        startDelayMs: 200,
        scenario: 'cobrowse',
        target: 'tenant-b',
        sessions: 1,
        failed: 0,
        value: () => 300,
      });
    } else {
      await round({ check: 'cob', location: 'fra1', slotAt, status, scenario: 'cobrowse', targetName: 'tenant-b', reason: `${status} for the test` });
    }
  }
  await sink.close();
  await runRetention(db.url, { log, rollupOnly: true });

  // The controller's alert engine (written by it, read by Grafana).
  // UTC text, whatever the admin connection's time zone.
  const at = (minAgo: number): string => new Date(now - minAgo * MIN).toISOString().slice(0, 23).replace('T', ' ');
  const states: unknown[][] = [
    ['chat|fra1|latency|api_create', 'chat', 'fra1', 'latency', 'api_create', 'ok', null, at(50), at(1), null, 150, 1500, null],
    ['chat|nyc3|failure', 'chat', 'nyc3', 'failure', null, 'firing', 'failed', at(40), at(1), at(40), 0.67, 0.2, '2 of 3 sessions failed at open-widget'],
    ['chat|*|dark', 'chat', '*', 'dark', null, 'resolved', null, at(20), at(1), at(20), null, null, null],
    ['cob|fra1|no-data', 'cob', 'fra1', 'no-data', null, 'pending', 'degraded', at(15), at(1), null, 0, 1, 'missed for the test'],
  ];
  for (const s of states) {
    await db.admin.query(
      "INSERT INTO alert_states (alert_key, check_name, location, kind, metric, state, severity, since, updated_at, last_notified_at, value, threshold, detail, memory) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')",
      s,
    );
  }
  const history: unknown[][] = [
    ['chat-failure', 'chat', 'failure', 'firing', 'failed', 'chat-load', 'nyc3', null, 0.67, 0.2, '2 of 3 sessions failed', at(40)],
    ['chat-dark', 'chat', 'dark', 'resolved', null, 'chat-load', '*', null, null, null, 'measuring again', at(20)],
    ['legacy', null, null, 'firing', null, 'chat-load', 'fra1', 'api_create', 2500, 1500, 'a row from before migration 003', at(30)],
  ];
  for (const h of history) {
    await db.admin.query(
      'INSERT INTO alerts (rule, check_name, kind, state, severity, scenario, location, metric, value, threshold, message, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      h,
    );
  }
}

/** The batch plus one sample of every catalog metric whose unit is not ms, in its first session. */
function withEveryOtherUnit(b: MetricBatch): MetricBatch {
  const first = b.samples[0]!;
  const extra = METRIC_NAMES.filter((m) => METRICS[m].unit !== 'ms').map((metric, i) => ({
    sessionId: first.sessionId,
    metric,
    value: 1 + i,
    ts: first.ts + i,
  }));
  return MetricBatchSchema.parse({ ...b, samples: [...b.samples, ...extra] });
}
