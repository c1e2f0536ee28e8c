import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { RowDataPacket } from 'mysql2/promise';
import { BATCH_ACK_TIMEOUT_MS, coreMetrics } from '@userprobe/shared';
import { migrate } from './migrate.js';
import { createMysqlSink, type MysqlSinkOptions } from './mysql-sink.js';
import { ADMIN, createTestDb, type TestDb } from '../../test/db/test-db.js';
import { startTcpProxy, type TcpProxy } from '../../test/db/tcp-proxy.js';
import { testAgent, testBatch, testRun } from '../../test/db/batches.js';

/*
 * MariaDB becomes unreachable mid-run — for the sink only: it talks through a
 * loopback TCP proxy the test cuts and restores (the shared server keeps running).
 */

const log = pino({ level: 'silent' });
const M = coreMetrics('chat-load').length;
const SESSIONS = 3;

describe('MySQL unreachable mid-run', () => {
  let db: TestDb;
  let proxy: TcpProxy;
  let url: string;
  beforeAll(async () => {
    db = await createTestDb();
    await migrate(db.url, { log });
    const user = await db.createUser('SELECT, INSERT, UPDATE, DELETE');
    proxy = await startTcpProxy(ADMIN.host, ADMIN.port);
    url = `mysql://${user.user}:${encodeURIComponent(user.password)}@127.0.0.1:${proxy.port}/${db.name}`;
  });
  afterAll(async () => {
    await proxy.close();
    await db.drop();
  });

  async function counts(runId: string): Promise<{ samples: number; batches: number; sessions: number }> {
    const [rows] = await db.admin.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM samples WHERE run_id = ?) AS samples, (SELECT COUNT(*) FROM ingested_batches WHERE run_id = ?) AS batches, (SELECT COUNT(*) FROM sessions WHERE run_id = ?) AS sessions',
      [runId, runId, runId],
    );
    return { samples: Number(rows[0]!['samples']), batches: Number(rows[0]!['batches']), sessions: Number(rows[0]!['sessions']) };
  }

  const options = async (): Promise<MysqlSinkOptions> => ({
    url,
    spoolDir: await mkdtemp(join(tmpdir(), 'up-outage-')),
    log,
    connectTimeoutMs: 400,
    callTimeoutMs: 1_000,
    directBudgetMs: 300,
    drainBackoffMinMs: 50,
    drainBackoffMaxMs: 200,
  });

  it('acks every batch via the spool, then drains: nothing lost, nothing duplicated', async () => {
    const opts = await options();
    const sink = createMysqlSink(opts);
    await sink.open();
    const agent = testAgent('a1', 'fra1');
    const run = 'run-outage';
    const batch = (seq: number) => testBatch({ runId: run, agentId: 'a1', seq, sessions: SESSIONS, t0: Date.UTC(2030, 0, 1, 12, 0, seq) });
    await sink.runStarted(testRun(run), [agent]);

    // 1-5 while MySQL is up
    for (let seq = 1; seq <= 5; seq++) expect(await sink.writeBatch(batch(seq), agent)).toBe('stored');
    expect(sink.stats()).toMatchObject({ stored: 5, spooled: 0, mode: 'direct' });

    // connections hang (accepted, never answered): 6-7 are acked from the spool after the connect timeout
    proxy.setMode('blackhole');
    for (let seq = 6; seq <= 7; seq++) {
      const t0 = Date.now();
      expect(await sink.writeBatch(batch(seq), agent)).toBe('stored');
      expect(Date.now() - t0).toBeLessThan(3_000); // within the agent's ack timeout (5 s), with slack for a busy machine
    }
    // connections refused: 8-12 too
    proxy.setMode('down');
    for (let seq = 8; seq <= 12; seq++) expect(await sink.writeBatch(batch(seq), agent)).toBe('stored');
    // a replay of a spooled batch is recognised in the spool
    expect(await sink.writeBatch(batch(8), agent)).toBe('duplicate');
    // a replay of a batch MySQL already has is spooled too, and deduplicated when drained
    expect(await sink.writeBatch(batch(3), agent)).toBe('stored');
    await sink.runEnded(run, 'passed', Date.UTC(2030, 0, 1, 12, 10));
    expect(sink.stats()).toMatchObject({ spooled: 8, mode: 'spooling' });
    expect((await readdir(opts.spoolDir)).filter((f) => f.endsWith('.json'))).toHaveLength(9); // 8 batches + runEnded
    expect(await counts(run)).toEqual({ samples: 5 * SESSIONS * M, batches: 5, sessions: 5 * SESSIONS });

    proxy.setMode('up');
    await sink.whenDrained();
    expect(await counts(run)).toEqual({ samples: 12 * SESSIONS * M, batches: 12, sessions: 12 * SESSIONS });
    expect(sink.stats()).toMatchObject({ spoolSize: 0, mode: 'direct', duplicates: 2 });
    const [status] = await db.admin.query<RowDataPacket[]>('SELECT status FROM runs WHERE run_id = ?', [run]);
    expect(status[0]!['status']).toBe('passed');
    const [via] = await db.admin.query<RowDataPacket[]>('SELECT via, COUNT(*) AS n FROM ingested_batches WHERE run_id = ? GROUP BY via ORDER BY via', [run]);
    expect(via.map((r): unknown[] => [r['via'], Number(r['n'])])).toEqual([
      ['direct', 5],
      ['spool', 7],
    ]);

    // and it writes directly again
    expect(await sink.writeBatch(batch(13), agent)).toBe('stored');
    expect(sink.stats().spooled).toBe(8);
    await sink.close();
  });

  it('MySQL paused (half-open) mid-transaction: acked via the spool within the budget, stored exactly once after resume, close() bounded', async () => {
    // As under SIGSTOP: connections stay open and silent. Without a bound on BEGIN/COMMIT, a write would wait for the whole outage.
    const opts = { ...(await options()), directBudgetMs: 600, closeTimeoutMs: 300 };
    // The bound that matters is the agent's ack timeout: later, the agent resends. Without the budget a write waits for the
    // whole outage, which here lasts until the test resumes the proxy, so any ack at all proves the bound; a clock nearer
    // directBudgetMs would only measure how the machine's load stalls the spool's fsyncs.
    const ackBound = BATCH_ACK_TIMEOUT_MS;
    const sink = createMysqlSink(opts);
    await sink.open();
    const agent = testAgent('a3', 'fra1');
    const run = 'run-paused';
    const batch = (seq: number) => testBatch({ runId: run, agentId: 'a3', seq, sessions: SESSIONS, t0: Date.UTC(2030, 0, 1, 13, 0, seq) });
    await sink.runStarted(testRun(run), [agent]);
    for (let seq = 1; seq <= 3; seq++) expect(await sink.writeBatch(batch(seq), agent)).toBe('stored');

    // the proxy stops the moment a COMMIT passes: that batch's rows wait in an open transaction, its COMMIT in the proxy
    const paused = proxy.pauseOn('COMMIT');
    const t0 = Date.now();
    const inFlight = [4, 5, 6].map((seq) => sink.writeBatch(batch(seq), agent).then((r) => ({ seq, r, ms: Date.now() - t0 })));
    await paused;
    for (const ack of await Promise.all(inFlight)) {
      expect(ack.r, `batch ${ack.seq}`).toBe('stored');
      expect(ack.ms, `batch ${ack.seq} acked after ${ack.ms} ms`).toBeLessThan(ackBound);
    }
    // while paused, later batches and the run's end go to the spool at once
    for (let seq = 7; seq <= 8; seq++) {
      const t = Date.now();
      expect(await sink.writeBatch(batch(seq), agent)).toBe('stored');
      expect(Date.now() - t).toBeLessThan(ackBound);
    }
    await sink.runEnded(run, 'passed', Date.UTC(2030, 0, 1, 13, 10));
    expect(sink.stats()).toMatchObject({ spooled: 5, mode: 'spooling' });
    expect(await counts(run)).toEqual({ samples: 3 * SESSIONS * M, batches: 3, sessions: 3 * SESSIONS });

    // resumed: the held COMMIT reaches the server too, and the spool drains; each batch is stored once
    proxy.setMode('up');
    await sink.whenDrained();
    expect(await counts(run)).toEqual({ samples: 8 * SESSIONS * M, batches: 8, sessions: 8 * SESSIONS });
    const [status] = await db.admin.query<RowDataPacket[]>('SELECT status FROM runs WHERE run_id = ?', [run]);
    expect(status[0]!['status']).toBe('passed');

    // paused again: a batch is acked via the spool, and close() does not wait for MySQL
    proxy.setMode('paused');
    const t1 = Date.now();
    expect(await sink.writeBatch(batch(9), agent)).toBe('stored');
    expect(Date.now() - t1).toBeLessThan(ackBound);
    const t2 = Date.now();
    await sink.close();
    expect(Date.now() - t2, 'close() while MySQL is paused').toBeLessThan(BATCH_ACK_TIMEOUT_MS); // unbounded, it waits as long as the pause

    // the next controller drains what the closed one spooled: still exactly once
    proxy.setMode('up');
    const next = createMysqlSink(opts);
    await next.open();
    await next.whenDrained();
    expect(await counts(run)).toEqual({ samples: 9 * SESSIONS * M, batches: 9, sessions: 9 * SESSIONS });
    await next.close();
  }, 30_000);

  it('a spool left by a stopped controller drains at the next start', async () => {
    const opts = await options();
    const agent = testAgent('a2');
    const run = 'run-restart';
    const first = createMysqlSink(opts);
    await first.open();
    proxy.setMode('down');
    for (let seq = 1; seq <= 3; seq++) {
      expect(await first.writeBatch(testBatch({ runId: run, agentId: 'a2', seq, sessions: SESSIONS }), agent)).toBe('stored');
    }
    await first.close();
    expect(await counts(run)).toEqual({ samples: 0, batches: 0, sessions: 0 });

    proxy.setMode('up');
    const second = createMysqlSink(opts);
    await second.open();
    await second.whenDrained();
    expect(await counts(run)).toEqual({ samples: 3 * SESSIONS * M, batches: 3, sessions: 3 * SESSIONS });
    // the agent re-sends batch 2 (its ack was lost with the old controller): stored once
    expect(await second.writeBatch(testBatch({ runId: run, agentId: 'a2', seq: 2, sessions: SESSIONS }), agent)).toBe('duplicate');
    await second.close();
  });
});
