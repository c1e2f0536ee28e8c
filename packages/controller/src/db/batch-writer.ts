import type { RowDataPacket } from 'mysql2/promise';
import type { MetricBatch, RoundReport } from '@userprobe/shared';
import type { AgentInfo, RunInfo, RunStatus, AlertRecord } from '../results/sink.js';
import type { SqlClient } from './bounded-calls.js';
import { INSERT_CHUNK_ROWS } from './limits.js';
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
  ROUND_COLUMNS,
  roundRow,
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

/**
 * Stores a batch: its idempotency key first (a replay fails here, cheaply, and
 * is reported as 'duplicate'), then samples in multi-row INSERTs, session
 * records (upserted: a reassigned session's last record wins), the custom
 * metrics it declares (upserted: the last declaration stored wins) and the
 * dirty rollup buckets — all committed together.
 */
export async function storeBatch(db: SqlClient, batch: MetricBatch, agent: AgentInfo, ctx: BatchContext, via: Via): Promise<'stored' | 'duplicate'> {
  await db.begin();
  try {
    await db.query('INSERT INTO ingested_batches (run_id, agent_id, seq, samples, sessions, via, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      batch.runId,
      batch.agentId,
      batch.seq,
      batch.samples.length,
      batch.sessions.length,
      via,
      new Date(),
    ]);
  } catch (e) {
    if ((e as { code?: string }).code === 'ER_DUP_ENTRY') {
      await db.rollback();
      return 'duplicate';
    }
    throw e;
  }
  const resolved = ctx.scenario === UNKNOWN || ctx.browser === UNKNOWN ? await contextFromRuns(db, batch.runId, ctx) : ctx;
  for (const rows of chunk(sampleRows(batch, agent, resolved), INSERT_CHUNK_ROWS)) {
    await db.query(`INSERT INTO samples (${SAMPLE_COLUMNS.join(', ')}) VALUES ?`, [rows]);
  }
  const sessions = sessionRows(batch, agent);
  if (sessions.length > 0) {
    await db.query(`INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${SESSION_UPDATE}`, [sessions]);
  }
  const declared = customMetricRows(batch, new Date());
  if (declared.length > 0) {
    // With the samples, so Grafana never sees a custom metric's samples without its unit.
    await db.query(`INSERT INTO custom_metrics (${CUSTOM_METRIC_COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${CUSTOM_METRIC_UPDATE}`, [declared]);
  }
  const buckets = touchedBuckets(batch);
  if (buckets.length > 0) {
    // Last, so the hot bucket row is locked only until the commit right after.
    await db.query('INSERT INTO rollup_dirty (bucket_start) VALUES ? ON DUPLICATE KEY UPDATE gen = gen + 1', [buckets.map((b) => [new Date(b)])]);
  }
  await db.commit();
  return 'stored';
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
