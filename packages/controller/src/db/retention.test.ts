import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { RowDataPacket } from 'mysql2/promise';
import { coreMetrics, percentileSorted } from '@userprobe/shared';
import { migrate } from './migrate.js';
import { createMysqlSink, type MysqlSink } from './mysql-sink.js';
import { runRetention } from './retention.js';
import { createTestDb, type TestDb } from '../../test/db/test-db.js';
import { testAgent, testBatch, testRun } from '../../test/db/batches.js';

const log = pino({ level: 'silent' });
const DAY = 86_400_000;
const NOW = Date.UTC(2030, 2, 1, 0, 0, 0);
const M = coreMetrics('chat-load').length;

/** Deterministic pseudo-random values (LCG), so a failure reproduces. */
function values(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.round((x / 2 ** 31) * 1000 * 1000) / 1000;
  });
}

describe('retention and rollups', () => {
  let db: TestDb;
  let sink: MysqlSink;
  beforeAll(async () => {
    db = await createTestDb();
    await migrate(db.url, { log });
    sink = createMysqlSink({ url: db.url, spoolDir: await mkdtemp(join(tmpdir(), 'up-ret-')), log });
    await sink.open();
  });
  afterAll(async () => {
    await sink.close();
    await db.drop();
  });

  it('nearest-rank p50/p95 in SQL equal percentiles.ts for every group size 1..80', async () => {
    const bucket = NOW - 2 * DAY; // 2030-02-27 00:00
    const rows: unknown[][] = [];
    for (let n = 1; n <= 80; n++) {
      for (const [i, v] of values(n, n).entries()) {
        rows.push(['run-pct', `s${n}-${i}`, 'a', 'chat-load', 'api_init', v, new Date(bucket + i * 10), `L${n}`, 'shell', 0, null]);
      }
    }
    await db.admin.query('INSERT INTO samples (run_id, session_id, agent_id, scenario, metric, value, ts, location, browser, saturated, detail) VALUES ?', [
      rows,
    ]);
    await db.admin.query('INSERT INTO rollup_dirty (bucket_start) VALUES (?)', [new Date(bucket)]);
    const res = await runRetention(db.url, { log, rollupOnly: true });
    expect(res).toMatchObject({ bucketsRolledUp: 1, rollupRows: 80, samplesDeleted: 0 });
    const [got] = await db.admin.query<RowDataPacket[]>(
      "SELECT location, count, errors, p50, p95, max FROM rollups WHERE metric = 'api_init' AND bucket_start = ?",
      [new Date(bucket)],
    );
    expect(got).toHaveLength(80);
    for (const r of got) {
      const n = Number(String(r['location']).slice(1));
      const sorted = values(n, n).sort((a, b) => a - b);
      expect({ n, count: r['count'], errors: r['errors'], p50: r['p50'], p95: r['p95'], max: r['max'] }).toEqual({
        n,
        count: n,
        errors: 0,
        p50: percentileSorted(sorted, 50),
        p95: percentileSorted(sorted, 95),
        max: sorted[n - 1],
      });
    }
  });

  it('rolls up what the sink stored, with errors of failed sessions, idempotently', async () => {
    const t0 = NOW - 3 * DAY + 60_000; // 2030-02-26 00:01
    const a = testAgent('a1', 'fra1');
    await sink.runStarted(testRun('run-r', 'chat-load', t0), [a]);
    await sink.writeBatch(testBatch({ runId: 'run-r', agentId: 'a1', seq: 1, sessions: 4, failed: 1, t0 }), a);
    const first = await runRetention(db.url, { log, rollupOnly: true });
    expect(first.bucketsRolledUp).toBe(1);
    const read = async () => {
      const [rows] = await db.admin.query<RowDataPacket[]>("SELECT metric, count, errors FROM rollups WHERE location = 'fra1' ORDER BY metric");
      return rows.map((r) => ({ ...r }));
    };
    const rows = await read();
    expect(rows).toHaveLength(M);
    // 3 ok sessions record every core metric; the failed one only the first
    const firstMetric = coreMetrics('chat-load')[0]!;
    for (const r of rows) expect(r).toEqual({ metric: r['metric'], count: r['metric'] === firstMetric ? 4 : 3, errors: r['metric'] === firstMetric ? 0 : 1 });

    // again: nothing dirty, nothing changes
    expect(await runRetention(db.url, { log, rollupOnly: true })).toMatchObject({ bucketsRolledUp: 0 });
    expect(await read()).toEqual(rows);

    // a late batch in the same bucket: recomputed, not added twice
    await sink.writeBatch(testBatch({ runId: 'run-r', agentId: 'a1', seq: 2, sessions: 1, t0: t0 + 1000 }), a);
    expect(await runRetention(db.url, { log, rollupOnly: true })).toMatchObject({ bucketsRolledUp: 1 });
    expect((await read()).find((r) => r['metric'] === 'api_create')).toEqual({ metric: 'api_create', count: 4, errors: 1 });
  });

  it('deletes raw samples older than N days after rolling them up, keeps the rest and the rollups', async () => {
    const a = testAgent('a2', 'nyc3');
    const old = NOW - 40 * DAY;
    const recent = NOW - 1 * DAY;
    await sink.writeBatch(testBatch({ runId: 'run-d', agentId: 'a2', seq: 1, sessions: 2, t0: old }), a);
    await sink.writeBatch(testBatch({ runId: 'run-d', agentId: 'a2', seq: 2, sessions: 2, t0: recent }), a);
    const [before] = await db.admin.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM samples WHERE ts < ?', [new Date(NOW - 30 * DAY)]);
    expect(Number(before[0]!['n'])).toBe(2 * M);

    const res = await runRetention(db.url, { log, rawDays: 30, now: NOW });
    expect(res.samplesDeleted).toBe(2 * M);
    expect(res.cutoff?.toISOString()).toBe('2030-01-30T00:00:00.000Z');
    const [left] = await db.admin.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM samples WHERE run_id = 'run-d'");
    expect(Number(left[0]!['n'])).toBe(2 * M);
    const [roll] = await db.admin.query<RowDataPacket[]>("SELECT SUM(count) AS n FROM rollups WHERE location = 'nyc3' AND bucket_start < ?", [
      new Date(NOW - 30 * DAY),
    ]);
    expect(Number(roll[0]!['n'])).toBe(2 * M);
  });

  it('rejects a non-positive --raw-days', async () => {
    await expect(runRetention(db.url, { log, rawDays: 0 })).rejects.toThrow(/--raw-days must be a positive number/);
  });
});
