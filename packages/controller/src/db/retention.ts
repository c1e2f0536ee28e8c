import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Logger } from 'pino';
import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import { connectUtc } from './connection.js';
import { parseDbUrl } from './db-url.js';
import { DEFAULT_RAW_RETENTION_DAYS, RETENTION_DELETE_CHUNK_ROWS, ROLLUP_BUCKET_SECONDS, ROLLUP_BUCKETS_PER_ROUND } from './limits.js';
import { classifyMysqlError, mysqlErrorInfo, permanentSinkError, unavailableSinkError } from './mysql-errors.js';
import { mergeRollups, type FailedSession, type PercentileRow } from './rollup-merge.js';

export interface RetentionOptions {
  readonly log: Logger;
  /** Raw samples older than this many days are deleted (after their buckets are rolled up). */
  readonly rawDays?: number;
  /** Compute rollups only; delete nothing. */
  readonly rollupOnly?: boolean;
  /** The clock (epoch ms), for tests. */
  readonly now?: number;
  readonly connectTimeoutMs?: number;
}

export interface RetentionResult {
  readonly bucketsRolledUp: number;
  readonly rollupRows: number;
  readonly samplesDeleted: number;
  /** Samples before this UTC time were eligible for deletion (null: rollup only). */
  readonly cutoff: Date | null;
}

/**
 * The retention job: (1) recompute the 5-minute rollups of every bucket that
 * received data since its last computation (idempotent: an upsert), then
 * (2) delete raw samples older than `rawDays`, in chunks, never from a
 * bucket that is still waiting for its rollup.
 */
export async function runRetention(dbUrl: string, opts: RetentionOptions): Promise<RetentionResult> {
  const rawDays = opts.rawDays ?? DEFAULT_RAW_RETENTION_DAYS;
  if (!(Number.isFinite(rawDays) && rawDays > 0)) {
    throw new ProbeError(ERROR_CODES.CONFIG_INVALID, `--raw-days must be a positive number of days, got ${String(rawDays)}`);
  }
  const target = parseDbUrl(dbUrl);
  const log = opts.log.child({ component: 'retention' });
  let conn: Connection | undefined;
  try {
    conn = await connectUtc(target, opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs });
    const rolled = await rollUpDirty(conn, log);
    if (opts.rollupOnly === true) return { ...rolled, samplesDeleted: 0, cutoff: null };
    const now = opts.now ?? Date.now();
    const cutoff = new Date(now - rawDays * 86_400_000);
    const samplesDeleted = await deleteRaw(conn, cutoff, log);
    log.info({ ...rolled, samplesDeleted, cutoff: cutoff.toISOString() }, 'retention done');
    return { ...rolled, samplesDeleted, cutoff };
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    throw classifyMysqlError(mysqlErrorInfo(e)) === 'transient' ? unavailableSinkError(target.redacted, e) : permanentSinkError(target.redacted, e);
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

interface DirtyRow extends RowDataPacket {
  bucket_start: Date;
  gen: number;
}

/**
 * One pass over the dirty buckets in ascending order. A bucket touched again
 * while it was computed keeps its dirty row (its `gen` moved) and is done by
 * the next run, so live data is never chased forever.
 */
export async function rollUpDirty(conn: Connection, log: Logger): Promise<{ bucketsRolledUp: number; rollupRows: number }> {
  let bucketsRolledUp = 0;
  let rollupRows = 0;
  let after = new Date(0);
  for (;;) {
    const [dirty] = await conn.query<DirtyRow[]>('SELECT bucket_start, gen FROM rollup_dirty WHERE bucket_start > ? ORDER BY bucket_start LIMIT ?', [
      after,
      ROLLUP_BUCKETS_PER_ROUND,
    ]);
    if (dirty.length === 0) break;
    for (const d of dirty) {
      rollupRows += await rollUpBucket(conn, d.bucket_start, Number(d.gen));
      bucketsRolledUp += 1;
      after = d.bucket_start;
    }
  }
  log.debug({ bucketsRolledUp, rollupRows }, 'rollups computed');
  return { bucketsRolledUp, rollupRows };
}

async function rollUpBucket(conn: Connection, start: Date, gen: number): Promise<number> {
  const end = new Date(start.getTime() + ROLLUP_BUCKET_SECONDS * 1000);
  // Nearest-rank percentiles with window functions (MySQL 8 and MariaDB 10.2+).
  // CEIL(p * n) is computed in DOUBLE, exactly as percentiles.ts does in JS.
  const [pct] = await conn.query<RowDataPacket[]>(
    `SELECT metric, scenario, location, COUNT(*) AS n,
            MIN(CASE WHEN rn >= CEIL(0.50e0 * cnt) THEN value END) AS p50,
            MIN(CASE WHEN rn >= CEIL(0.95e0 * cnt) THEN value END) AS p95,
            MAX(value) AS mx
       FROM (SELECT metric, scenario, location, value,
                    ROW_NUMBER() OVER (PARTITION BY metric, scenario, location ORDER BY value) AS rn,
                    COUNT(*) OVER (PARTITION BY metric, scenario, location) AS cnt
               FROM samples WHERE ts >= ? AND ts < ?) AS t
      GROUP BY metric, scenario, location`,
    [start, end],
  );
  const [failedRows] = await conn.query<RowDataPacket[]>(
    `SELECT s.scenario, s.location, GROUP_CONCAT(DISTINCT sa.metric) AS recorded
       FROM sessions s LEFT JOIN samples sa ON sa.run_id = s.run_id AND sa.session_id = s.session_id
      WHERE s.status <> 'ok' AND s.ended_at >= ? AND s.ended_at < ?
      GROUP BY s.run_id, s.session_id, s.scenario, s.location`,
    [start, end],
  );
  const percentiles: PercentileRow[] = pct.map((r) => ({
    metric: String(r['metric']),
    scenario: String(r['scenario']),
    location: String(r['location']),
    count: Number(r['n']),
    p50: Number(r['p50']),
    p95: Number(r['p95']),
    max: Number(r['mx']),
  }));
  const failed: FailedSession[] = failedRows.map((r) => ({
    scenario: String(r['scenario']),
    location: String(r['location']),
    recorded: r['recorded'] === null ? [] : String(r['recorded']).split(','),
  }));
  const rows = mergeRollups(percentiles, failed);
  await conn.beginTransaction();
  try {
    if (rows.length > 0) {
      const now = new Date();
      await conn.query(
        `INSERT INTO rollups (metric, scenario, location, bucket_start, count, errors, p50, p95, max, computed_at) VALUES ?
         ON DUPLICATE KEY UPDATE count = VALUES(count), errors = VALUES(errors), p50 = VALUES(p50), p95 = VALUES(p95), max = VALUES(max), computed_at = VALUES(computed_at)`,
        [rows.map((r) => [r.metric, r.scenario, r.location, start, r.count, r.errors, r.p50, r.p95, r.max, now])],
      );
    }
    await conn.query('DELETE FROM rollup_dirty WHERE bucket_start = ? AND gen = ?', [start, gen]);
    await conn.commit();
  } catch (e) {
    await conn.rollback().catch(() => undefined);
    throw e;
  }
  return rows.length;
}

async function deleteRaw(conn: Connection, cutoff: Date, log: Logger): Promise<number> {
  // Never delete raw samples whose bucket still waits for its rollup.
  const [oldest] = await conn.query<RowDataPacket[]>('SELECT MIN(bucket_start) AS b FROM rollup_dirty');
  const pending = oldest[0]?.['b'] as Date | null | undefined;
  const limit = pending instanceof Date && pending < cutoff ? pending : cutoff;
  if (limit !== cutoff) log.warn({ pending: limit.toISOString() }, 'some old buckets still wait for their rollup; raw samples from then on are kept for now');
  let deleted = 0;
  for (;;) {
    const [res] = await conn.query<ResultSetHeader>('DELETE FROM samples WHERE ts < ? LIMIT ?', [limit, RETENTION_DELETE_CHUNK_ROWS]);
    deleted += res.affectedRows;
    if (res.affectedRows < RETENTION_DELETE_CHUNK_ROWS) return deleted;
  }
}
