import { describe, expect, it } from 'vitest';
import { coreMetrics, MetricBatchSchema, type MetricBatch } from '@userprobe/shared';
import { storeBatches, type BatchEntry, type SampleLoading } from './batch-writer.js';
import type { SqlClient } from './bounded-calls.js';

type ResultSetHeader = Awaited<ReturnType<SqlClient['load']>>;

/* storeBatches against a scripted client: the statements it sends, in order, and what it does when LOAD DATA is refused or inexact. (Against MariaDB: mysql-sink.test.ts.) */

const M = coreMetrics('chat-load').length;

function batch(seq: number): MetricBatch {
  const samples = coreMetrics('chat-load').map((metric, i) => ({ sessionId: `s${seq}`, metric, value: 10 + i, ts: Date.UTC(2030, 0, 1) + i }));
  const sessions = [
    {
      sessionId: `s${seq}`,
      scenario: 'chat-load',
      browser: 'shell',
      status: 'ok',
      startedAt: Date.UTC(2030, 0, 1),
      endedAt: Date.UTC(2030, 0, 1) + M,
      failedStep: null,
      error: null,
      artifacts: [],
    },
  ];
  return MetricBatchSchema.parse({ runId: 'r', agentId: 'a', seq, createdAt: Date.UTC(2030, 0, 1) + M, samples, sessions });
}
const entry = (seq: number): BatchEntry => ({
  batch: batch(seq),
  agent: { agentId: 'a', name: 'a', labels: {}, capacity: { 'chat-load': 1, 'video-call': 1, cobrowse: 1 }, location: 'local' },
  ctx: { scenario: 'chat-load', browser: 'shell' },
});

function scripted(onLoad: (rows: number) => ResultSetHeader | Error): { db: SqlClient; calls: string[] } {
  const calls: string[] = [];
  const db: SqlClient = {
    begin: () => (calls.push('BEGIN'), Promise.resolve()),
    query: (sql: string) => (calls.push(sql.split(' ').slice(0, 3).join(' ')), Promise.resolve({} as never)),
    load: (_sql: string, data: Buffer) => {
      calls.push('LOAD DATA');
      const out = onLoad(data.toString('utf8').split('\n').length - 1);
      return out instanceof Error ? Promise.reject(out) : Promise.resolve(out);
    },
    commit: () => (calls.push('COMMIT'), Promise.resolve()),
    rollback: () => (calls.push('ROLLBACK'), Promise.resolve()),
  };
  return { db, calls };
}
const header = (affectedRows: number, warningStatus = 0) => ({ affectedRows, warningStatus }) as ResultSetHeader;
const loading = (): SampleLoading & { reasons: string[] } => {
  const reasons: string[] = [];
  let on = true;
  return {
    reasons,
    loadData: () => on,
    refused: (r) => {
      on = false;
      reasons.push(r);
    },
  };
};

describe('storeBatches', () => {
  it('a group: one transaction — the keys in one statement, samples in one LOAD DATA, sessions, buckets, one COMMIT', async () => {
    const { db, calls } = scripted((rows) => header(rows));
    expect(await storeBatches(db, [entry(1), entry(2), entry(3)], 'direct', loading())).toBe('stored');
    expect(calls).toEqual(['BEGIN', 'INSERT INTO ingested_batches', 'LOAD DATA', 'INSERT INTO sessions', 'INSERT INTO rollup_dirty', 'COMMIT']);
  });

  it('a server that refuses LOAD DATA LOCAL: told once, the same transaction goes on with INSERTs', async () => {
    const refusal = Object.assign(new Error('The used command is not allowed with this MariaDB version'), { code: 'ER_NOT_ALLOWED_COMMAND', errno: 1148 });
    const { db, calls } = scripted(() => refusal);
    const l = loading();
    expect(await storeBatches(db, [entry(1), entry(2)], 'direct', l)).toBe('stored');
    expect(calls).toEqual([
      'BEGIN',
      'INSERT INTO ingested_batches',
      'LOAD DATA',
      'INSERT INTO samples',
      'INSERT INTO sessions',
      'INSERT INTO rollup_dirty',
      'COMMIT',
    ]);
    expect(l.reasons).toEqual(['ER_NOT_ALLOWED_COMMAND: The used command is not allowed with this MariaDB version']);
    expect(l.loadData()).toBe(false);
  });

  it.each([
    ['a warning (a value truncated)', (rows: number) => header(rows, 1)],
    ['a row missing', (rows: number) => header(rows - 1)],
  ])('LOAD DATA with %s is undone and the group written again with INSERTs (which fail as strict mode says)', async (_what, onLoad) => {
    const { db, calls } = scripted(onLoad);
    const l = loading();
    expect(await storeBatches(db, [entry(1)], 'direct', l)).toBe('stored');
    expect(calls).toEqual([
      ...['BEGIN', 'INSERT INTO ingested_batches', 'LOAD DATA', 'ROLLBACK'],
      ...['BEGIN', 'INSERT INTO ingested_batches', 'INSERT INTO samples', 'INSERT INTO sessions', 'INSERT INTO rollup_dirty', 'COMMIT'],
    ]);
    expect(l.loadData()).toBe(true); // the server allows LOAD DATA; only this group's values did not fit
  });

  it('any other LOAD DATA error fails the write as it is (the sink classifies it)', async () => {
    const { db } = scripted(() => Object.assign(new Error('Lock wait timeout exceeded'), { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }));
    await expect(storeBatches(db, [entry(1)], 'direct', loading())).rejects.toThrow('Lock wait timeout');
  });
});
