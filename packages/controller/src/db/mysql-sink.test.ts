// Run this file's process in a non-UTC zone: stored times must not depend on it.
process.env.TZ = 'Asia/Kolkata';

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { coreMetrics, ERROR_CODES, MetricBatchSchema, type MetricBatch, type ProbeError } from '@userprobe/shared';
import { migrate } from './migrate.js';
import { createMysqlSink, type MysqlSink } from './mysql-sink.js';
import { GROUP_LANES } from './limits.js';
import { ADMIN, createTestDb, type TestDb } from '../../test/db/test-db.js';
import { testAgent, testBatch, testRun } from '../../test/db/batches.js';
import { CHECKOUT_METRIC, withCustomMetric } from '../../test/db/custom-metric-batch.js';

const log = pino({ level: 'silent' });
const M = coreMetrics('chat-load').length;

async function count(db: TestDb, sql: string): Promise<number> {
  const [rows] = await db.admin.query<RowDataPacket[]>(sql);
  return Number(rows[0]!['n']);
}

describe('MySQL sink', () => {
  let db: TestDb;
  let sink: MysqlSink;
  let writerUrl: string;
  beforeAll(async () => {
    db = await createTestDb();
    await migrate(db.url, { log });
    writerUrl = (await db.createUser('SELECT, INSERT, UPDATE, DELETE')).url;
    sink = createMysqlSink({ url: writerUrl, spoolDir: await mkdtemp(join(tmpdir(), 'up-sink-')), log });
    await sink.open();
  });
  afterAll(async () => {
    await sink.close();
    await db.drop();
  });

  it('a run writes exactly sessions × core metrics sample rows', async () => {
    const agents = [testAgent('a1', 'fra1'), testAgent('a2', 'nyc3')];
    await sink.runStarted(testRun('run-1'), agents);
    expect(await sink.writeBatch(testBatch({ runId: 'run-1', agentId: 'a1', seq: 1, sessions: 3 }), agents[0]!)).toBe('stored');
    expect(await sink.writeBatch(testBatch({ runId: 'run-1', agentId: 'a2', seq: 1, sessions: 3 }), agents[1]!)).toBe('stored');
    await sink.runEnded('run-1', 'passed', Date.UTC(2030, 0, 1, 12, 5, 0));

    expect(await count(db, "SELECT COUNT(*) AS n FROM samples WHERE run_id = 'run-1'")).toBe(6 * M);
    expect(await count(db, "SELECT COUNT(*) AS n FROM sessions WHERE run_id = 'run-1'")).toBe(6);
    expect(await count(db, "SELECT COUNT(*) AS n FROM ingested_batches WHERE run_id = 'run-1'")).toBe(2);
    expect(await count(db, "SELECT COUNT(*) AS n FROM run_agents WHERE run_id = 'run-1'")).toBe(2);
    const [runs] = await db.admin.query<RowDataPacket[]>("SELECT scenario, status, total_sessions FROM runs WHERE run_id = 'run-1'");
    expect(runs[0]).toMatchObject({ scenario: 'chat-load', status: 'passed', total_sessions: 10 });
    const [loc] = await db.admin.query<RowDataPacket[]>(
      "SELECT location, COUNT(*) AS n FROM samples WHERE run_id = 'run-1' GROUP BY location ORDER BY location",
    );
    expect(loc.map((r): unknown[] => [r['location'], Number(r['n'])])).toEqual([
      ['fra1', 3 * M],
      ['nyc3', 3 * M],
    ]);
  });

  it("tags a monitor round's run with its check, stores round reports (a replay overwrites) and alert states with their history", async () => {
    await sink.runStarted({ ...testRun('chat.ams3.20300101T120000Z'), checkName: 'chat' }, [testAgent('a1', 'ams3')]);
    const [tagged] = await db.admin.query<RowDataPacket[]>(
      "SELECT run_id, check_name FROM runs WHERE run_id IN ('run-1', 'chat.ams3.20300101T120000Z') ORDER BY run_id",
    );
    expect(tagged.map((r): unknown[] => [r['run_id'], r['check_name']])).toEqual([
      ['chat.ams3.20300101T120000Z', 'chat'],
      ['run-1', null],
    ]);
    const slotAt = Date.UTC(2030, 0, 1, 12, 0, 0);
    const round = {
      check: 'chat',
      location: 'nyc1',
      slotAt,
      startedAt: null,
      endedAt: slotAt + 5,
      status: 'gap' as const,
      runId: null,
      scenario: 'chat-load',
      targetName: 'demo',
      agents: [],
      sessions: { planned: 0, ok: 0, failed: 0 },
      reason: 'no agent in nyc1',
      failedStep: null,
      exitCode: null,
    };
    await sink.roundRecorded(round);
    await sink.roundRecorded({ ...round, reason: 'no agent in nyc1 (again)' });
    const [rounds] = await db.admin.query<RowDataPacket[]>(
      "SELECT status, reason, run_id, DATE_FORMAT(slot_at, '%Y-%m-%d %H:%i:%s') AS slot FROM monitor_rounds WHERE check_name = 'chat'",
    );
    expect(rounds).toEqual([{ status: 'gap', reason: 'no agent in nyc1 (again)', run_id: null, slot: '2030-01-01 12:00:00' }]);
    const alert = {
      key: 'chat|nyc1|dark|',
      check: 'chat',
      location: 'nyc1',
      kind: 'dark',
      metric: null,
      state: 'firing',
      severity: 'degraded',
      since: slotAt,
      updatedAt: slotAt + 10,
      lastNotifiedAt: slotAt + 10,
      value: null,
      threshold: null,
      detail: 'no agent in nyc1',
      memory: { window: [true, true] },
      notification: {
        kind: 'firing',
        text: '🔴 Firing [degraded]: chat: location nyc1 is dark (no agent) — no agent in nyc1',
        runId: null,
        scenario: 'chat-load',
        at: slotAt + 10,
      },
    };
    await sink.alertChanged(alert);
    await sink.alertChanged({
      ...alert,
      state: 'resolved',
      updatedAt: slotAt + 20,
      notification: { ...alert.notification, kind: 'resolved', text: '✅ Resolved: …', at: slotAt + 20 },
    });
    const [states] = await db.admin.query<RowDataPacket[]>("SELECT state, severity, memory FROM alert_states WHERE alert_key = 'chat|nyc1|dark|'");
    expect(states).toEqual([{ state: 'resolved', severity: 'degraded', memory: '{"window":[true,true]}' }]);
    const [history] = await db.admin.query<RowDataPacket[]>("SELECT check_name, kind, state, message FROM alerts WHERE check_name = 'chat' ORDER BY id");
    expect(history.map((r): unknown[] => [r['check_name'], r['kind'], r['state']])).toEqual([
      ['chat', 'dark', 'firing'],
      ['chat', 'dark', 'resolved'],
    ]);
    expect(String(history[0]!['message'])).toContain('location nyc1 is dark');
  });

  it('stores failed sessions with step, error and evidence path', async () => {
    const a = testAgent('a3');
    await sink.writeBatch(testBatch({ runId: 'run-1', agentId: 'a3', seq: 1, sessions: 2, failed: 1 }), a);
    const [rows] = await db.admin.query<RowDataPacket[]>(
      "SELECT status, failed_step, error_code, artifact_path FROM sessions WHERE agent_id = 'a3' ORDER BY session_id",
    );
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { status: 'ok', failed_step: null, error_code: null, artifact_path: null },
      { status: 'failed', failed_step: 'open-widget', error_code: 'E_STEP_TIMEOUT', artifact_path: 'sessions/a3-s1-1/visitor.png' },
    ]);
  });

  it('the same batch delivered twice (also concurrently) is stored once', async () => {
    const a = testAgent('a4');
    const b = testBatch({ runId: 'run-2', agentId: 'a4', seq: 7, sessions: 4 });
    expect(await sink.writeBatch(b, a)).toBe('stored');
    expect(await sink.writeBatch(b, a)).toBe('duplicate');
    const c = testBatch({ runId: 'run-2', agentId: 'a4', seq: 8, sessions: 4 });
    const both = await Promise.all([sink.writeBatch(c, a), sink.writeBatch(c, a)]);
    expect(both.sort()).toEqual(['duplicate', 'stored']);
    expect(await count(db, "SELECT COUNT(*) AS n FROM samples WHERE run_id = 'run-2'")).toBe(8 * M);
    expect(await count(db, "SELECT COUNT(*) AS n FROM ingested_batches WHERE run_id = 'run-2'")).toBe(2);
  });

  it("stores a custom metric's samples and its run's declaration; a later declaration updates it, a duplicate batch writes nothing, another run keeps its own", async () => {
    const a = testAgent('a6', 'fra1');
    const customRows = async (): Promise<unknown[]> => {
      const [rows] = await db.admin.query<RowDataPacket[]>(
        "SELECT name, unit, kind, description FROM custom_metrics WHERE run_id = 'run-custom' AND name = 'checkout_total'",
      );
      return rows.map((r) => ({ ...r }));
    };
    const first = withCustomMetric(testBatch({ runId: 'run-custom', agentId: 'a6', seq: 1, sessions: 2 }), CHECKOUT_METRIC, [1200, 1500.5]);
    expect(await sink.writeBatch(first, a)).toBe('stored');
    const [samples] = await db.admin.query<RowDataPacket[]>(
      "SELECT value, location, scenario FROM samples WHERE run_id = 'run-custom' AND metric = 'checkout_total' ORDER BY value",
    );
    expect(samples.map((r) => ({ ...r }))).toEqual([
      { value: 1200, location: 'fra1', scenario: 'chat-load' },
      { value: 1500.5, location: 'fra1', scenario: 'chat-load' },
    ]);
    expect(await customRows()).toEqual([{ name: 'checkout_total', unit: 'ms', kind: 'core', description: 'From the cart button to the order confirmation' }]);

    const reworded = { ...CHECKOUT_METRIC, kind: 'extra' as const, description: 'Cart button to confirmation page' };
    const second = withCustomMetric(testBatch({ runId: 'run-custom', agentId: 'a6', seq: 2, sessions: 1 }), reworded, [900]);
    expect(await sink.writeBatch(second, a)).toBe('stored');
    expect(await customRows()).toEqual([{ name: 'checkout_total', unit: 'ms', kind: 'extra', description: 'Cart button to confirmation page' }]);

    // The first batch again: a duplicate, so its (older) declaration is not written back either.
    expect(await sink.writeBatch(first, a)).toBe('duplicate');
    expect(await customRows()).toEqual([{ name: 'checkout_total', unit: 'ms', kind: 'extra', description: 'Cart button to confirmation page' }]);
    expect(await count(db, "SELECT COUNT(*) AS n FROM samples WHERE run_id = 'run-custom' AND metric = 'checkout_total'")).toBe(3);
    // Another run's module gives the same name another unit: each run keeps its own.
    const other = withCustomMetric(testBatch({ runId: 'run-other', agentId: 'a6', seq: 1, sessions: 1 }), { ...CHECKOUT_METRIC, unit: 'count' }, [3]);
    expect(await sink.writeBatch(other, a)).toBe('stored');
    expect(await customRows()).toEqual([{ name: 'checkout_total', unit: 'ms', kind: 'extra', description: 'Cart button to confirmation page' }]);
    expect(await count(db, "SELECT COUNT(*) AS n FROM custom_metrics WHERE name = 'checkout_total'")).toBe(2);
  });

  it('stores UTC: a known epoch reads back the same from a session in another time zone', async () => {
    const epoch = Date.UTC(2031, 5, 15, 23, 59, 58, 765);
    const a = testAgent('a5');
    await sink.writeBatch(testBatch({ runId: 'run-tz', agentId: 'a5', seq: 1, sessions: 1, t0: epoch }), a);
    const other = await createConnection({ ...ADMIN, database: db.name, dateStrings: true });
    try {
      await other.query("SET time_zone = '+05:30'");
      const [rows] = await other.query<RowDataPacket[]>("SELECT DATE_FORMAT(MIN(ts), '%Y-%m-%d %H:%i:%s.%f') AS s FROM samples WHERE run_id = 'run-tz'");
      expect(rows[0]!['s']).toBe('2031-06-15 23:59:58.765000');
      await other.query("SET time_zone = '+00:00'");
      const [epochRows] = await other.query<RowDataPacket[]>("SELECT UNIX_TIMESTAMP(MIN(ts)) * 1000 AS ms FROM samples WHERE run_id = 'run-tz'");
      expect(Number(epochRows[0]!['ms'])).toBe(epoch);
    } finally {
      await other.end();
    }
    expect(new Date(epoch).getTimezoneOffset()).toBe(-330); // the process really is in +05:30
  });

  it('group commit: 40 batches sent at once are each acked, stored exactly once in fewer transactions, with the very rows one-at-a-time INSERTs store', async () => {
    const a = testAgent('a7', 'fra1');
    // Text LOAD DATA treats specially, and non-ASCII, in the one free-text column of a sample.
    const odd = (b: MetricBatch, i: number): MetricBatch =>
      MetricBatchSchema.parse({ ...b, samples: b.samples.map((x, j) => (j === 0 ? { ...x, detail: `tab\there\\ \\N né 😀 ${i}` } : x)) });
    const batches = (runId: string) =>
      Array.from({ length: 40 }, (_, i) => odd(testBatch({ runId, agentId: 'a7', seq: i + 1, sessions: 2, value: (s, m) => 0.1 * (i + s + m) + 1e-7 }), i));
    const plain = createMysqlSink({ url: writerUrl, spoolDir: await mkdtemp(join(tmpdir(), 'up-sink-')), log, groupMaxBatches: 1, samplesVia: 'insert' });
    await plain.open();
    try {
      for (const b of batches('run-plain')) expect(await plain.writeBatch(b, a)).toBe('stored');
    } finally {
      await plain.close();
    }
    const before = sink.stats();
    expect(new Set(await Promise.all(batches('run-group').map((b) => sink.writeBatch(b, a))))).toEqual(new Set(['stored']));
    const after = sink.stats();
    expect(after.stored - before.stored).toBe(40);
    expect(after.commits - before.commits).toBeLessThan(20); // the first GROUP_LANES alone, the rest grouped
    const rows = async (runId: string) => {
      const [r] = await db.admin.query<RowDataPacket[]>(
        'SELECT session_id, agent_id, scenario, metric, value, ts, location, browser, saturated, detail FROM samples WHERE run_id = ? ORDER BY session_id, metric',
        [runId],
      );
      return r.map((x) => ({ ...x }));
    };
    const grouped = await rows('run-group');
    expect(grouped).toHaveLength(40 * 2 * M);
    expect(grouped).toEqual(await rows('run-plain'));
    expect(grouped.filter((r) => r['detail'] !== null)).toHaveLength(40);
    expect(await count(db, "SELECT COUNT(*) AS n FROM sessions WHERE run_id = 'run-group'")).toBe(80);
    expect(await count(db, "SELECT COUNT(*) AS n FROM ingested_batches WHERE run_id = 'run-group'")).toBe(40);
  });

  it('a group that meets a replay or a batch MySQL refuses is written one batch at a time: the others stored, the replay a duplicate, the bad one refused (never truncated)', async () => {
    const a = testAgent('a8');
    const b = (seq: number) => testBatch({ runId: 'run-split', agentId: 'a8', seq, sessions: 1 });
    expect(await sink.writeBatch(b(3), a)).toBe('stored');
    // The first batches fill the lanes; the rest wait and go as one group.
    const lanes = Array.from({ length: GROUP_LANES }, (_, i) => sink.writeBatch(b(100 + i), a));
    const group = [sink.writeBatch(b(4), a), sink.writeBatch(b(3), a), sink.writeBatch(b(5), a)];
    expect(await Promise.all([...lanes, ...group])).toEqual([...lanes.map(() => 'stored'), 'stored', 'duplicate', 'stored']);
    expect(await count(db, "SELECT COUNT(*) AS n FROM samples WHERE run_id = 'run-split'")).toBe((3 + GROUP_LANES) * M);

    // An agent location longer than its column (128): LOAD DATA would cut it with a warning; the sink refuses the batch instead.
    const far = testAgent('a8', 'x'.repeat(200));
    // Samples only (their sessions end in a later batch), so only the samples' load meets the long location.
    const samplesOnly = MetricBatchSchema.parse({ ...b(13), sessions: [] });
    const fill = Array.from({ length: GROUP_LANES }, (_, i) => sink.writeBatch(b(200 + i), a));
    const mixed = [sink.writeBatch(b(12), a), sink.writeBatch(samplesOnly, far), sink.writeBatch(b(14), a)];
    const settled = await Promise.allSettled([...fill, ...mixed]);
    expect(settled.map((x) => x.status)).toEqual([...fill.map(() => 'fulfilled'), 'fulfilled', 'rejected', 'fulfilled']);
    const refusal = (settled[GROUP_LANES + 1] as PromiseRejectedResult).reason as ProbeError;
    expect(refusal.code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect(refusal.message).toMatch(/ER_DATA_TOO_LONG.*location.*will not be retried/);
    expect(await count(db, "SELECT COUNT(*) AS n FROM ingested_batches WHERE run_id = 'run-split'")).toBe(5 + 2 * GROUP_LANES);
    expect(await count(db, "SELECT COUNT(*) AS n FROM samples WHERE run_id = 'run-split' AND location LIKE 'xxx%'")).toBe(0);
    expect(sink.stats().mode).toBe('direct');
  });

  it('marks the touched 5-minute buckets dirty for the rollup job', async () => {
    const [rows] = await db.admin.query<RowDataPacket[]>("SELECT DATE_FORMAT(bucket_start, '%Y-%m-%d %H:%i:%s') AS b FROM rollup_dirty ORDER BY bucket_start");
    expect(rows.map((r): unknown => r['b'])).toContain('2031-06-15 23:55:00');
  });
});

describe('MySQL sink permanent errors', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.drop();
  });

  const logged: string[] = [];
  const capturing = pino({ level: 'debug' }, { write: (line: string) => logged.push(line) });

  async function openError(url: string): Promise<{ err: unknown; ms: number }> {
    const sink = createMysqlSink({ url, spoolDir: await mkdtemp(join(tmpdir(), 'up-sink-')), log: capturing });
    const t0 = Date.now();
    const err = await sink.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - t0;
    await sink.close();
    return { err, ms };
  }

  it('bad credentials fail fast with E_SINK_PERMANENT, never showing the password', async () => {
    const { url } = await db.createUser('SELECT, INSERT, UPDATE, DELETE');
    const bad = url.replace(/:[^:@/]+@/, ':not-the-password-42@');
    const { err, ms } = await openError(bad);
    expect((err as { code: string }).code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect((err as Error).message).toMatch(/ER_ACCESS_DENIED_ERROR.*user or password is wrong/);
    expect((err as Error).message).not.toContain('not-the-password-42');
    expect(JSON.stringify(err)).not.toContain('not-the-password-42');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain('not-the-password-42');
    expect(ms).toBeLessThan(2_000); // no retry loop: one refused handshake (tolerance for a busy 2-core machine)
  });

  it('a database without the schema says to run `controller migrate`', async () => {
    const { err } = await openError(db.url);
    expect((err as { code: string }).code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect((err as Error).message).toContain('run `controller migrate');
  });

  it('an unknown database is permanent too', async () => {
    const { err } = await openError(db.url.replace(db.name, `${db.name}_nope`));
    expect((err as { code: string }).code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect((err as Error).message).toContain('ER_BAD_DB_ERROR');
  });

  it('a table dropped after open() fails the batch with E_SINK_PERMANENT instead of spinning', async () => {
    await migrate(db.url, { log });
    const sink = createMysqlSink({ url: db.url, spoolDir: await mkdtemp(join(tmpdir(), 'up-sink-')), log });
    await sink.open();
    await db.admin.query('DROP TABLE samples');
    const t0 = Date.now();
    const err = await sink.writeBatch(testBatch({ runId: 'r', agentId: 'a', seq: 1, sessions: 1 }), testAgent('a')).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect((err as Error).message).toContain('run `controller migrate`');
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(sink.stats()).toMatchObject({ mode: 'failed', spoolSize: 0 });
    await sink.close();
  });
});
