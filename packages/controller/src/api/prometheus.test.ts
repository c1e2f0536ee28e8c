import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { register as globalRegister } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ROUND_STATUSES, type RoundReport, type RoundStatus } from '@userprobe/shared';
import type { IngestedEvent } from '../hub/ingest.js';
import type { AlertState } from '../monitor/alerts/alert-engine.js';
import { SINK_MODES, createMysqlSink, mysqlSinkOf } from '../db/index.js';
import { ResultsSink } from '../results/folder-sink.js';
import { parseExposition } from '../../test/exposition.js';
import { createControllerMetrics, type MetricSources } from './prometheus.js';
import { PROM_METRICS } from './prometheus-catalog.js';

const SLOT = Date.parse('2026-11-29T20:00:00.000Z');

function round(over: Partial<RoundReport> & { status: RoundStatus }): RoundReport {
  return {
    check: 'chat',
    location: 'ams3',
    slotAt: SLOT,
    startedAt: null,
    endedAt: SLOT + 5_000,
    runId: null,
    scenario: 'chat-load',
    targetName: 'demo',
    agents: [],
    sessions: { planned: 0, ok: 0, failed: 0 },
    reason: null,
    failedStep: null,
    exitCode: null,
    ...over,
  };
}

function batch(over: Partial<IngestedEvent>): IngestedEvent {
  return { runId: 'r-1', agentId: 'a-1', seq: 1, duplicate: false, samples: 0, sessions: 0, records: [], ...over };
}

async function scrape(m: ReturnType<typeof createControllerMetrics>) {
  return parseExposition((await m.exposition()).body);
}

describe('controller metrics', () => {
  it('counts round reports per check, location and status, with every status at 0 for the scheduled checks', async () => {
    const m = createControllerMetrics({ checks: () => [{ name: 'chat', locations: ['ams3', 'nyc1'] }] }, { processMetrics: false });
    m.round(round({ status: 'ok', startedAt: SLOT + 4 }));
    m.round(round({ status: 'ok', startedAt: SLOT + 30 }));
    m.round(round({ status: 'gap', location: 'nyc1', reason: 'no agent in nyc1' }));
    m.round(round({ status: 'failed', check: 'video', location: 'local', startedAt: SLOT + 2_000 }));
    // A 2-minute check may start up to 30 s late (slotLateLimitMs): 20 s late lands in a bucket of its own, not +Inf only.
    m.round(round({ status: 'ok', check: 'daily', location: 'local', startedAt: SLOT + 20_000 }));
    const x = await scrape(m);
    const rounds = PROM_METRICS.rounds.name;
    expect(x.value(rounds, { check: 'chat', location: 'ams3', status: 'ok' })).toBe(2);
    expect(x.value(rounds, { check: 'chat', location: 'nyc1', status: 'gap' })).toBe(1);
    expect(x.value(rounds, { check: 'video', location: 'local', status: 'failed' })).toBe(1);
    // The scheduled check's series exist before their first increase; a check no longer scheduled keeps what it counted.
    expect(x.select(rounds, { check: 'chat' })).toHaveLength(2 * ROUND_STATUSES.length);
    expect(x.value(rounds, { check: 'chat', location: 'ams3', status: 'failed' })).toBe(0);
    expect(x.select(rounds, { check: 'video' })).toHaveLength(1);

    const late = PROM_METRICS.roundLateness.name;
    expect(x.value(`${late}_count`, { check: 'chat' })).toBe(2);
    expect(x.value(`${late}_sum`, { check: 'chat' })).toBeCloseTo(0.034, 6);
    expect(x.value(`${late}_bucket`, { check: 'chat', le: '0.005' })).toBe(1);
    expect(x.value(`${late}_bucket`, { check: 'chat', le: '0.05' })).toBe(2);
    expect(x.value(`${late}_bucket`, { check: 'video', le: '1' })).toBe(0);
    expect(x.value(`${late}_bucket`, { check: 'video', le: '2.5' })).toBe(1);
    expect(x.value(`${late}_bucket`, { check: 'daily', le: '10' })).toBe(0);
    expect(x.value(`${late}_bucket`, { check: 'daily', le: '30' })).toBe(1);
  });

  it('counts batches by outcome, and samples and sessions of stored batches only', async () => {
    const m = createControllerMetrics({}, { processMetrics: false });
    m.ingested(
      batch({
        samples: 12,
        sessions: 2,
        records: [
          { sessionId: 's1', status: 'ok', scenario: 'chat-load' },
          { sessionId: 's2', status: 'failed', scenario: 'chat-load' },
        ],
      }),
    );
    m.ingested(batch({ seq: 2, samples: 3, sessions: 1, records: [{ sessionId: 's3', status: 'aborted', scenario: 'cobrowse' }] }));
    m.ingested(batch({ seq: 2, duplicate: true, samples: 3, sessions: 1, records: [{ sessionId: 's3', status: 'aborted', scenario: 'cobrowse' }] }));
    const x = await scrape(m);
    expect(x.value(PROM_METRICS.batches.name, { outcome: 'stored' })).toBe(2);
    expect(x.value(PROM_METRICS.batches.name, { outcome: 'duplicate' })).toBe(1);
    expect(x.value(PROM_METRICS.samples.name)).toBe(15);
    const s = PROM_METRICS.sessions.name;
    expect(x.value(s, { scenario: 'chat-load', status: 'ok' })).toBe(1);
    expect(x.value(s, { scenario: 'chat-load', status: 'failed' })).toBe(1);
    expect(x.value(s, { scenario: 'cobrowse', status: 'aborted' })).toBe(1);
    expect(x.value(s, { scenario: 'video-call', status: 'failed' })).toBe(0);
  });

  it('reads agents, runs in progress and the MySQL sink at each scrape', async () => {
    const fleet = [
      { location: 'ams3', connected: true },
      { location: 'ams3', connected: true },
      { location: 'nyc1', connected: true },
    ];
    let runs = { round: 2, 'load-test': 0 };
    let stats = { spoolSize: 0, mode: 'direct' };
    const sources: MetricSources = { agents: () => fleet, runsInProgress: () => runs, mysql: { modes: ['direct', 'spooling', 'failed'], stats: () => stats } };
    const m = createControllerMetrics(sources, { processMetrics: false });
    let x = await scrape(m);
    const agents = PROM_METRICS.agentsConnected.name;
    expect(x.select(agents).map((s) => [s.labels['location'], s.value])).toEqual([
      ['ams3', 2],
      ['nyc1', 1],
    ]);
    expect(x.value(PROM_METRICS.runsInProgress.name, { kind: 'round' })).toBe(2);
    expect(x.value(PROM_METRICS.runsInProgress.name, { kind: 'load-test' })).toBe(0);
    expect(x.value(PROM_METRICS.mysqlSpool.name)).toBe(0);
    expect(x.select(PROM_METRICS.mysqlMode.name).map((s) => [s.labels['mode'], s.value])).toEqual([
      ['direct', 1],
      ['spooling', 0],
      ['failed', 0],
    ]);

    // nyc1's only agent goes: the location reads 0 (dark), not absent.
    fleet[2] = { location: 'nyc1', connected: false };
    runs = { round: 0, 'load-test': 1 };
    stats = { spoolSize: 17, mode: 'spooling' };
    x = await scrape(m);
    expect(x.value(agents, { location: 'nyc1' })).toBe(0);
    expect(x.value(agents, { location: 'ams3' })).toBe(2);
    expect(x.value(PROM_METRICS.runsInProgress.name, { kind: 'load-test' })).toBe(1);
    expect(x.value(PROM_METRICS.mysqlSpool.name)).toBe(17);
    expect(x.value(PROM_METRICS.mysqlMode.name, { mode: 'spooling' })).toBe(1);
    expect(x.value(PROM_METRICS.mysqlMode.name, { mode: 'direct' })).toBe(0);
  });

  it('reads the MySQL sink serve finds among its sinks (not opened here: direct, nothing spooled)', async () => {
    const log = pino({ level: 'silent' });
    const results = new ResultsSink({ outDir: join(tmpdir(), 'unused'), log });
    expect(mysqlSinkOf([results])).toBeNull();
    const mysql = mysqlSinkOf([results, createMysqlSink({ url: 'mysql://u:p@127.0.0.1:1/x', log, spoolDir: join(tmpdir(), 'unused-spool') })]);
    expect(mysql?.name).toBe('mysql');
    const x = await scrape(createControllerMetrics({ mysql: { modes: SINK_MODES, stats: () => mysql!.stats() } }, { processMetrics: false }));
    expect(x.value(PROM_METRICS.mysqlSpool.name)).toBe(0);
    expect(x.select(PROM_METRICS.mysqlMode.name).map((s) => [s.labels['mode'], s.value])).toEqual([
      ['direct', 1],
      ['spooling', 0],
      ['failed', 0],
    ]);
  });

  it('has no MySQL series without a MySQL sink', async () => {
    const x = await scrape(createControllerMetrics({ mysql: null }, { processMetrics: false }));
    expect(x.types.has(PROM_METRICS.mysqlSpool.name)).toBe(false);
    expect(x.types.has(PROM_METRICS.mysqlMode.name)).toBe(false);
    expect(x.select(PROM_METRICS.runsInProgress.name).map((s) => s.value)).toEqual([0, 0]);
  });

  it("reads the alert engine's states at each scrape: 0 ok or resolved, 1 pending, 2 firing; an alert the engine forgot goes", async () => {
    type Alert = Pick<AlertState, 'check' | 'location' | 'kind' | 'metric' | 'state'>;
    const failure: Alert = { check: 'chat', location: 'ams3', kind: 'failure', metric: null, state: 'pending' };
    const noData: Alert = { check: 'chat', location: '*', kind: 'no-data', metric: null, state: 'firing' };
    const create: Alert = { check: 'chat', location: 'a "quoted" \\ place', kind: 'latency', metric: 'api_create', state: 'ok' };
    const widget: Alert = { ...create, metric: 'widget_load', state: 'firing' };
    let states: Alert[] = [failure, noData, create, widget];
    const m = createControllerMetrics({ alerts: () => states }, { processMetrics: false });
    const a = PROM_METRICS.alertState.name;
    const labels = (x: Alert) => ({ check: x.check, location: x.location, kind: x.kind, metric: x.metric ?? '' });
    let x = await scrape(m);
    expect(x.value(a, labels(failure))).toBe(1);
    expect(x.value(a, labels(noData))).toBe(2);
    // Two latency alerts of one check and location, told apart by their metric.
    expect(x.value(a, labels(create))).toBe(0);
    expect(x.value(a, labels(widget))).toBe(2);
    states = [
      { ...failure, state: 'firing' },
      { ...noData, state: 'resolved' },
    ];
    x = await scrape(m);
    expect(x.value(a, labels(failure))).toBe(2);
    expect(x.value(a, labels(noData))).toBe(0);
    expect(x.select(a)).toHaveLength(2);
  });

  it("keeps each controller's metrics in its own registry, with process metrics, never the global one", async () => {
    const one = createControllerMetrics();
    const two = createControllerMetrics();
    one.round(round({ status: 'ok' }));
    const [x1, x2] = [await scrape(one), await scrape(two)];
    expect(x1.value(PROM_METRICS.rounds.name, { check: 'chat', location: 'ams3', status: 'ok' })).toBe(1);
    expect(x2.select(PROM_METRICS.rounds.name)).toEqual([]);
    for (const x of [x1, x2]) {
      // Present in each registry. The CPU counter counts from the registry's creation, so a scrape
      // a few ms later may still read 0 (the kernel accounts CPU time in ticks): present, not positive.
      expect(x.types.get('process_cpu_user_seconds_total')).toBe('counter');
      expect(x.value('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
      expect(x.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    }
    expect(globalRegister.getSingleMetric(PROM_METRICS.rounds.name)).toBeUndefined();
    expect((await one.exposition()).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("exports exactly the catalog's metrics, each with its type, help and labels", async () => {
    const m = createControllerMetrics(
      {
        agents: () => [{ location: 'ams3', connected: true }],
        checks: () => [{ name: 'chat', locations: ['ams3'] }],
        mysql: { modes: ['direct'], stats: () => ({ spoolSize: 0, mode: 'direct' }) },
        alerts: () => [{ check: 'chat', location: 'ams3', kind: 'latency', metric: 'api_create', state: 'ok' }],
      },
      { processMetrics: false },
    );
    m.round(round({ status: 'ok', startedAt: SLOT }));
    const x = await scrape(m);
    const catalog = Object.values(PROM_METRICS);
    expect([...x.types.keys()].sort()).toEqual(catalog.map((c) => c.name).sort());
    for (const c of catalog) {
      expect(x.types.get(c.name), c.name).toBe(c.type);
      expect(x.help.get(c.name), c.name).toBe(c.help);
      const family = x.samples.filter((s) => s.name === c.name || s.name.startsWith(`${c.name}_`));
      expect(family.length, c.name).toBeGreaterThan(0);
      for (const s of family)
        expect(
          Object.keys(s.labels)
            .filter((l) => l !== 'le')
            .sort(),
          s.name,
        ).toEqual([...c.labels].sort());
    }
  });
});

describe('docs/prometheus.md', () => {
  const doc = readFileSync(new URL('../../../../docs/prometheus.md', import.meta.url), 'utf8');

  it('describes every metric of the catalog with its type and labels, and no other userprobe_ metric', () => {
    for (const c of Object.values(PROM_METRICS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${c.name}\``));
      expect(row, `a table row for ${c.name}`).toBeDefined();
      const cells = row!.split('|').map((s) => s.trim());
      expect(cells[2], `${c.name}: type`).toBe(c.type);
      expect(cells[3], `${c.name}: labels`).toBe(c.labels.length ? c.labels.map((l) => `\`${l}\``).join(', ') : '—');
    }
    const named = new Set([...doc.matchAll(/`(userprobe_[a-z_]+?)(?:_bucket|_sum|_count)?(?:\{|`)/g)].map((m) => m[1]!));
    expect([...named].filter((n) => !Object.values(PROM_METRICS).some((c) => c.name === n))).toEqual([]);
  });
});
