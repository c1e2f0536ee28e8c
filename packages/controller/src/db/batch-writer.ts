import type { RowDataPacket } from 'mysql2/promise';
import type { MetricBatch, RoundReport } from '@userprobe/shared';
import type { AgentInfo, RunInfo, RunStatus, AlertRecord } from '../results/sink.js';
import type { SqlClient } from './bounded-calls.js';
import { INSERT_CHUNK_ROWS } from './limits.js';
import { mysqlErrorInfo } from './mysql-errors.js';
import {
  chunk,
  customMetricRows,
  runAgentRow,
  runRow,
  sampleRows,
  sessionRows,
  touchedBuckets,
  SAMPLE_COLUMNS,
  SESSION_COLUMNS,
  CUSTOM_METRIC_COLUMNS,
  type BatchContext,
  type SampleRow,
  ROUND_COLUMNS,
  roundRow,
  samplesTsv,
  SAMPLES_LOAD_SQL,
} from './rows.js';

/*
 * The statements that store one payload, each in one transaction. They know
 * nothing about retries, timeouts or spooling (mysql-sink.ts and
 * bounded-calls.ts do): every call goes through the SqlClient they are given.
 */

/** Scenario/browser placeholder when neither the run nor the batch says (resolved from `runs` at write time). */
export const UNKNOWN = 'unknown';

export type Via = 'direct' | 'spool';

const SESSION_UPDATE = SESSION_COLUMNS.filter((c) => c !== 'run_id' && c !== 'session_id')
  .map((c) => `${c} = VALUES(${c})`)
  .join(', ');

const CUSTOM_METRIC_UPDATE = CUSTOM_METRIC_COLUMNS.filter((c) => c !== 'name' && c !== 'run_id')
  .map((c) => `${c} = VALUES(${c})`)
  .join(', ');

/** One batch to store, with what its rows need. */
export interface BatchEntry {
  readonly batch: MetricBatch;
  readonly agent: AgentInfo;
  readonly ctx: BatchContext;
}

/**
 * How sample rows reach the table. `loadData` says whether to try
 * `LOAD DATA LOCAL INFILE` (about 1.5× a multi-row INSERT here: bench/ingest);
 * a server that refuses it (local_infile off, as MySQL 8 ships) calls
 * `refused` once and gets multi-row INSERTs from then on.
 */
export interface SampleLoading {
  loadData(): boolean;
  refused(reason: string): void;
}

/** Always multi-row INSERTs. */
export const INSERT_ONLY: SampleLoading = { loadData: () => false, refused: () => undefined };

/** The server's answers that mean "no LOAD DATA LOCAL here" (MariaDB/MySQL 5.7, MariaDB 10.x, MySQL 8). */
const LOAD_DATA_REFUSED = new Set(['ER_NOT_ALLOWED_COMMAND', 'ER_LOAD_INFILE_CAPABILITY_DISABLED', 'ER_CLIENT_LOCAL_FILES_DISABLED']);
const LOAD_DATA_REFUSED_ERRNO = new Set([1148, 4166, 3948]);

/** LOAD DATA LOCAL stores bad values with a warning instead of failing (LOCAL implies IGNORE): such a load is undone and redone with INSERTs, which fail as they should. */
class LoadNotExact extends Error {}

/**
 * Stores a group of batches in one transaction: their idempotency keys first
 * (a replay fails here, cheaply), then their samples, session records
 * (upserted: a reassigned session's last record wins, also within the group),
 * the custom metrics they declare (upserted: the last declaration wins) and
 * the dirty rollup buckets — all committed together, with one COMMIT.
 *
 * 'duplicate': a single batch was already stored. 'split': a batch of a
 * group of several was already stored (or is twice in it); nothing was
 * written, and each batch should be stored alone to learn which (mysql-sink.ts
 * does, as it does when a group fails with a data error).
 */
export async function storeBatches(
  db: SqlClient,
  entries: readonly BatchEntry[],
  via: Via,
  loading: SampleLoading = INSERT_ONLY,
): Promise<'stored' | 'duplicate' | 'split'> {
  try {
    return await storeOnce(db, entries, via, loading);
  } catch (e) {
    if (!(e instanceof LoadNotExact)) throw e;
    await db.rollback();
    return storeOnce(db, entries, via, INSERT_ONLY);
  }
}

/** One batch (storeBatches with one entry: a replay is a duplicate). */
export async function storeBatch(db: SqlClient, entry: BatchEntry, via: Via, loading: SampleLoading = INSERT_ONLY): Promise<'stored' | 'duplicate'> {
  const out = await storeBatches(db, [entry], via, loading);
  return out === 'split' ? 'duplicate' : out;
}

async function storeOnce(db: SqlClient, entries: readonly BatchEntry[], via: Via, loading: SampleLoading): Promise<'stored' | 'duplicate' | 'split'> {
  await db.begin();
  const at = new Date();
  try {
    await db.query('INSERT INTO ingested_batches (run_id, agent_id, seq, samples, sessions, via, ingested_at) VALUES ?', [
      entries.map(({ batch }) => [batch.runId, batch.agentId, batch.seq, batch.samples.length, batch.sessions.length, via, at]),
    ]);
  } catch (e) {
    if ((e as { code?: string }).code === 'ER_DUP_ENTRY') {
      await db.rollback();
      return entries.length === 1 ? 'duplicate' : 'split';
    }
    throw e;
  }
  const known = new Map<string, BatchContext>();
  const samples: SampleRow[] = [];
  for (const { batch, agent, ctx } of entries) {
    let resolved = ctx;
    if (ctx.scenario === UNKNOWN || ctx.browser === UNKNOWN) {
      resolved = known.get(batch.runId) ?? (await contextFromRuns(db, batch.runId, ctx));
      known.set(batch.runId, resolved);
    }
    for (const row of sampleRows(batch, agent, resolved)) samples.push(row);
  }
  await storeSamples(db, samples, loading);
  const sessions = entries.flatMap(({ batch, agent }) => sessionRows(batch, agent));
  for (const rows of chunk(sessions, INSERT_CHUNK_ROWS)) {
    await db.query(`INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${SESSION_UPDATE}`, [rows]);
  }
  const declared = entries.flatMap(({ batch }) => customMetricRows(batch, at));
  if (declared.length > 0) {
    // With the samples, so Grafana never sees a custom metric's samples without its unit.
    await db.query(`INSERT INTO custom_metrics (${CUSTOM_METRIC_COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${CUSTOM_METRIC_UPDATE}`, [declared]);
  }
  const buckets = [...new Set(entries.flatMap(({ batch }) => touchedBuckets(batch)))].sort((a, b) => a - b);
  if (buckets.length > 0) {
    // Last, so the hot bucket row is locked only until the commit right after (ascending: concurrent groups lock in one order).
    await db.query('INSERT INTO rollup_dirty (bucket_start) VALUES ? ON DUPLICATE KEY UPDATE gen = gen + 1', [buckets.map((b) => [new Date(b)])]);
  }
  await db.commit();
  return 'stored';
}

/** Sample rows into `samples`: one LOAD DATA LOCAL when `loading` allows, else multi-row INSERTs. */
async function storeSamples(db: SqlClient, rows: readonly SampleRow[], loading: SampleLoading): Promise<void> {
  if (rows.length === 0) return;
  if (loading.loadData()) {
    try {
      const r = await db.load(SAMPLES_LOAD_SQL, samplesTsv(rows));
      if (r.affectedRows !== rows.length || r.warningStatus !== 0) {
        throw new LoadNotExact(`LOAD DATA stored ${r.affectedRows} of ${rows.length} rows with ${r.warningStatus} warning(s)`);
      }
      return;
    } catch (e) {
      const info = mysqlErrorInfo(e);
      if (!(LOAD_DATA_REFUSED.has(info.code) || (info.errno !== undefined && LOAD_DATA_REFUSED_ERRNO.has(info.errno)))) throw e;
      // A refused statement leaves the transaction as it was: go on with INSERTs.
      loading.refused(`${info.code}: ${info.message}`);
    }
  }
  for (const part of chunk(rows, INSERT_CHUNK_ROWS)) {
    await db.query(`INSERT INTO samples (${SAMPLE_COLUMNS.join(', ')}) VALUES ?`, [part]);
  }
}

async function contextFromRuns(db: SqlClient, runId: string, ctx: BatchContext): Promise<BatchContext> {
  const rows = await db.query<RowDataPacket[]>('SELECT scenario, browser FROM runs WHERE run_id = ?', [runId]);
  const row = rows[0];
  if (row === undefined) return ctx;
  return {
    scenario: ctx.scenario === UNKNOWN ? String(row['scenario']) : ctx.scenario,
    browser: ctx.browser === UNKNOWN ? String(row['browser']) : ctx.browser,
  };
}

export async function storeRunStarted(db: SqlClient, info: RunInfo, agents: readonly AgentInfo[]): Promise<void> {
  await db.begin();
  await db.query(
    'INSERT INTO runs (run_id, scenario, browser, target_name, total_sessions, status, started_at, params, check_name) VALUES (?) ' +
      'ON DUPLICATE KEY UPDATE scenario = VALUES(scenario), browser = VALUES(browser), target_name = VALUES(target_name), total_sessions = VALUES(total_sessions), started_at = VALUES(started_at), params = VALUES(params), check_name = VALUES(check_name)',
    [runRow(info)],
  );
  if (agents.length > 0) {
    await db.query(
      'INSERT INTO run_agents (run_id, agent_id, name, location, labels, capacity, joined_at) VALUES ? ' +
        'ON DUPLICATE KEY UPDATE name = VALUES(name), location = VALUES(location), labels = VALUES(labels), capacity = VALUES(capacity)',
      [agents.map((a) => runAgentRow(info.runId, a, info.startedAt))],
    );
  }
  await db.commit();
}

/** A monitor round's report; a replayed one (same check, location and slot) overwrites the row. */
export async function storeRound(db: SqlClient, r: RoundReport): Promise<void> {
  const cols = ROUND_COLUMNS.join(', ');
  const update = ROUND_COLUMNS.filter((c) => c !== 'check_name' && c !== 'location' && c !== 'slot_at')
    .map((c) => `${c} = VALUES(${c})`)
    .join(', ');
  await db.query(`INSERT INTO monitor_rounds (${cols}) VALUES (?) ON DUPLICATE KEY UPDATE ${update}`, [roundRow(r)]);
}

/** An alert's state (upserted in alert_states) and, when it notified, a row of the alerts history, in one transaction. */
export async function storeAlert(db: SqlClient, a: AlertRecord): Promise<void> {
  const d = (t: number | null) => (t === null ? null : new Date(t));
  await db.begin();
  await db.query(
    'INSERT INTO alert_states (alert_key, check_name, location, kind, metric, state, severity, since, updated_at, last_notified_at, value, threshold, detail, memory) VALUES (?) ' +
      'ON DUPLICATE KEY UPDATE state = VALUES(state), severity = VALUES(severity), since = VALUES(since), updated_at = VALUES(updated_at), last_notified_at = VALUES(last_notified_at), ' +
      'value = VALUES(value), threshold = VALUES(threshold), detail = VALUES(detail), memory = VALUES(memory)',
    [
      [
        a.key,
        a.check,
        a.location,
        a.kind,
        a.metric,
        a.state,
        a.severity,
        d(a.since),
        d(a.updatedAt),
        d(a.lastNotifiedAt),
        a.value,
        a.threshold,
        a.detail?.slice(0, 2000) ?? null,
        JSON.stringify(a.memory),
      ],
    ],
  );
  if (a.notification) {
    const n = a.notification;
    await db.query(
      'INSERT INTO alerts (rule, check_name, kind, state, severity, scenario, location, metric, value, threshold, run_id, message, at) VALUES (?)',
      [
        [
          a.key.slice(0, 128),
          a.check,
          a.kind,
          n.kind,
          a.severity,
          n.scenario,
          a.location,
          a.metric,
          a.value,
          a.threshold,
          n.runId,
          n.text.slice(0, 2000),
          new Date(n.at),
        ],
      ],
    );
  }
  await db.commit();
}

export async function storeRunEnded(db: SqlClient, runId: string, status: RunStatus, endedAt: number): Promise<void> {
  await db.query('UPDATE runs SET status = ?, ended_at = ? WHERE run_id = ?', [status, new Date(endedAt), runId]);
}
