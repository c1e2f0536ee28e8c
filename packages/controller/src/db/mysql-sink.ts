import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Logger } from 'pino';
import { ERROR_CODES, ProbeError, batchKey, type MetricBatch, type RoundReport } from '@userprobe/shared';
import type { AgentInfo, RunInfo, RunStatus, Sink, AlertRecord } from '../results/sink.js';
import { storeAlert, storeBatch, storeBatches, storeRound, storeRunEnded, storeRunStarted, UNKNOWN, type SampleLoading, type Via } from './batch-writer.js';
import { acquire, boundedClient, destroyConnection, type CallBounds, type SqlClient } from './bounded-calls.js';
import { createUtcPool, endPool } from './connection.js';
import { GroupQueue, type ItemOutcome } from './group-queue.js';
import { parseDbUrl, type DbTarget } from './db-url.js';
import {
  DIRECT_WRITE_BUDGET_MS,
  DRAIN_BACKOFF_MAX_MS,
  DRAIN_BACKOFF_MIN_MS,
  GROUP_LANES,
  GROUP_MAX_BATCHES,
  GROUP_MAX_SAMPLES,
  MYSQL_CALL_TIMEOUT_MS,
  MYSQL_CLOSE_TIMEOUT_MS,
  RETRY_BACKOFF_MAX_MS,
  RETRY_BACKOFF_MIN_MS,
} from './limits.js';
import { classifyMysqlError, mysqlErrorInfo, permanentSinkError } from './mysql-errors.js';
import type { BatchContext } from './rows.js';
import {
  afterDirectError,
  afterDrainError,
  afterDrainerExit,
  afterOpenError,
  routeWrite,
  shouldDrain,
  sinkMode,
  type SinkMode,
  type SinkState,
} from './sink-decisions.js';
import { DurableSpool, type SpoolEntry } from './spool.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from './sql-files.js';

export interface MysqlSinkOptions {
  /** mysql://user:password@host:port/database (never logged as given). */
  readonly url: string;
  /** Folder of the controller's own spool, used while MySQL is unreachable. */
  readonly spoolDir: string;
  readonly log: Logger;
  readonly connectTimeoutMs?: number;
  /** Bound on every MySQL client call: a connection, BEGIN, a statement, COMMIT, ROLLBACK (MYSQL_CALL_TIMEOUT_MS). */
  readonly callTimeoutMs?: number;
  /** How long a direct write (all its attempts and calls) may take before it spools instead (DIRECT_WRITE_BUDGET_MS). */
  readonly directBudgetMs?: number;
  /** How long close() lets the pool end gracefully before destroying its sockets (MYSQL_CLOSE_TIMEOUT_MS). */
  readonly closeTimeoutMs?: number;
  readonly poolSize?: number;
  readonly drainBackoffMinMs?: number;
  readonly drainBackoffMaxMs?: number;
  /** Where the migrations are, to check the schema version at open(). */
  readonly migrationsDir?: string;
  /** Group commit (GROUP_LANES, GROUP_MAX_BATCHES, GROUP_MAX_SAMPLES); groupMaxBatches 1 writes each batch in its own transaction. */
  readonly groupLanes?: number;
  readonly groupMaxBatches?: number;
  readonly groupMaxSamples?: number;
  /** How sample rows are written: 'load-data' (LOAD DATA LOCAL INFILE from memory, INSERTs if the server refuses it; the default) or 'insert'. */
  readonly samplesVia?: 'load-data' | 'insert';
}

export interface MysqlSinkStats {
  /** Batches committed to MySQL, directly or from the spool. */
  readonly stored: number;
  /** Direct transactions that stored batches (a group of several counts once): stored ÷ commits is the mean group. */
  readonly commits: number;
  readonly duplicates: number;
  /** Batches acknowledged from the spool because MySQL was unreachable. */
  readonly spooled: number;
  /** Spool entries (batches and run records) written to MySQL later. */
  readonly drained: number;
  readonly spoolSize: number;
  readonly mode: SinkMode;
}

export interface MysqlSink extends Sink {
  roundRecorded(round: RoundReport): Promise<void>;
  alertChanged(alert: AlertRecord): Promise<void>;
  stats(): MysqlSinkStats;
  /** Resolves when the spool is empty (immediately if it is); rejects if the sink failed permanently. */
  whenDrained(): Promise<void>;
}

/** The sink's name (Sink.name). */
export const MYSQL_SINK_NAME = 'mysql';

/** The MySQL sink among a controller's sinks, if it has one. */
export function mysqlSinkOf(sinks: readonly Sink[]): MysqlSink | null {
  return (sinks.find((s) => s.name === MYSQL_SINK_NAME && 'stats' in s) as MysqlSink | undefined) ?? null;
}

const REQUIRED_TABLES = ['runs', 'run_agents', 'sessions', 'samples', 'ingested_batches', 'rollup_dirty', 'custom_metrics', 'schema_migrations'];

/**
 * The MySQL sink. A batch resolves only once durable: committed to MySQL, or —
 * when MySQL stays unreachable beyond `directBudgetMs` — fsynced to the
 * controller's spool, which drains in order when MySQL returns. Replays are
 * detected by the (run, agent, seq) primary key of ingested_batches, in the
 * same transaction as the batch's rows. Bad credentials, an unknown database
 * or a missing schema fail with E_SINK_PERMANENT instead of retrying forever.
 *
 * Nothing waits on MySQL unbounded (bounded-calls.ts): every client call has
 * `callTimeoutMs`, and a direct write's calls all end by its `directBudgetMs`
 * deadline, so a write resolves within `directBudgetMs` plus one spool write
 * even when MySQL hangs (paused, half-open) — below the agent's ack timeout.
 * A connection whose call failed or timed out is destroyed, never reused. A
 * COMMIT that timed out may still have committed: the spooled copy is then
 * recognised as a duplicate when drained. close() abandons calls in flight
 * (writes then spool) and returns within about `closeTimeoutMs`.
 *
 * Group commit: batches that arrive while `groupLanes` groups are being
 * written go together in one transaction (group-queue.ts), each acked only
 * after that COMMIT; a group's budget runs from its oldest batch's arrival.
 * A group that meets a stored batch (a replay) or a batch MySQL refuses is
 * written again one batch at a time, so each gets its own outcome. Sample
 * rows go in with LOAD DATA LOCAL INFILE from memory (the client sends the
 * buffer it built, whatever file the server names), checked to have stored
 * every row without a warning, else undone and written with INSERTs.
 */
export function createMysqlSink(opts: MysqlSinkOptions): MysqlSink {
  const target: DbTarget = parseDbUrl(opts.url);
  const log = opts.log.child({ component: 'mysql-sink', db: target.redacted });
  const callTimeout = opts.callTimeoutMs ?? MYSQL_CALL_TIMEOUT_MS;
  const budget = opts.directBudgetMs ?? DIRECT_WRITE_BUDGET_MS;
  const closeTimeout = opts.closeTimeoutMs ?? MYSQL_CLOSE_TIMEOUT_MS;
  const drainMin = opts.drainBackoffMinMs ?? DRAIN_BACKOFF_MIN_MS;
  const drainMax = opts.drainBackoffMaxMs ?? DRAIN_BACKOFF_MAX_MS;

  let pool: Pool | undefined;
  let spool: DurableSpool | undefined;
  let fatal: ProbeError | undefined;
  let draining: Promise<void> | undefined;
  const closing = new AbortController();
  const runs = new Map<string, BatchContext>();
  const drainWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  const counts = { stored: 0, commits: 0, duplicates: 0, spooled: 0, drained: 0 };
  let loadData = (opts.samplesVia ?? 'load-data') === 'load-data';
  const loading: SampleLoading = {
    loadData: () => loadData,
    refused(reason) {
      if (!loadData) return;
      loadData = false;
      log.warn({ reason }, 'MySQL refuses LOAD DATA LOCAL INFILE (local_infile is off); samples go in with multi-row INSERTs');
    },
  };

  /** Bounds of one call: the call timeout, or less when `deadline` (epoch ms) is nearer. */
  function bounds(deadline = Number.POSITIVE_INFINITY): CallBounds {
    return {
      limitMs: () => Math.min(callTimeout, deadline - Date.now()),
      signal: closing.signal,
      setting: deadline === Number.POSITIVE_INFINITY ? 'option callTimeoutMs' : 'option directBudgetMs',
    };
  }

  function needPool(): Pool {
    if (pool === undefined || spool === undefined) throw new ProbeError(ERROR_CODES.SINK_PERMANENT, 'the MySQL sink was used before open()');
    return pool;
  }

  /**
   * One attempt on one connection, every call within `b`. A connection that
   * failed or timed out is destroyed, never reused.
   */
  async function withConnection<T>(b: CallBounds, fn: (db: SqlClient) => Promise<T>): Promise<T> {
    const conn = await acquire(needPool(), b);
    try {
      const out = await fn(boundedClient(conn, b));
      conn.release();
      return out;
    } catch (e) {
      destroyConnection(conn);
      throw e;
    }
  }

  function apply(entry: SpoolEntry, via: Via, b: CallBounds): Promise<'stored' | 'duplicate' | 'done'> {
    switch (entry.kind) {
      case 'batch':
        return withConnection(b, (db) => storeBatch(db, entry, via, loading)).then((out) => {
          if (out === 'stored' && via === 'direct') counts.commits += 1;
          return out;
        });
      case 'runStarted':
        return withConnection(b, (db) => storeRunStarted(db, entry.run, entry.agents)).then(() => 'done' as const);
      case 'runEnded':
        return withConnection(b, (db) => storeRunEnded(db, entry.runId, entry.status, entry.endedAt)).then(() => 'done' as const);
      case 'round':
        return withConnection(b, (db) => storeRound(db, entry.round)).then(() => 'done' as const);
      case 'alert':
        return withConnection(b, (db) => storeAlert(db, entry.alert)).then(() => 'done' as const);
      default: {
        const never: never = entry;
        throw new Error(`unknown spool entry ${JSON.stringify(never)}`);
      }
    }
  }

  /** The permanent error for `e`; with `stopSink`, the sink stops with it (every later write fails, drain waiters are told). */
  function fail(e: unknown, stopSink: boolean): ProbeError {
    const err = permanentSinkError(target.redacted, e);
    if (stopSink && fatal === undefined) {
      fatal = err;
      log.error({ err: err.toJSON() }, 'MySQL sink stopped: permanent error');
      for (const w of drainWaiters.splice(0)) w.reject(err);
    }
    return err;
  }

  /** Where the sink stands, for the decisions of sink-decisions.ts. */
  function state(): SinkState {
    return { failed: fatal !== undefined, closing: closing.signal.aborted, draining: draining !== undefined, spoolSize: spool?.size ?? 0 };
  }

  /**
   * Write now, retrying transient errors with doubling backoff within the
   * budget that began at `since` — every call of every attempt ends by its
   * deadline; past it, say 'spool' (afterDirectError decides). An entry MySQL
   * can never store comes back as 'refused' with its permanent error; a
   * permanent error of the sink stops the sink and throws.
   */
  async function tryDirect<T>(attempt: (b: CallBounds) => Promise<T>, since: number): Promise<{ done: T } | 'spool' | { refused: ProbeError }> {
    const b = bounds(since + budget);
    let backoff = RETRY_BACKOFF_MIN_MS;
    for (let n = 1; ; n++) {
      try {
        return { done: await attempt(b) };
      } catch (e) {
        const info = mysqlErrorInfo(e);
        const elapsed = Date.now() - since;
        const step = afterDirectError(classifyMysqlError(info), {
          elapsedMs: elapsed,
          backoffMs: backoff,
          maxBackoffMs: RETRY_BACKOFF_MAX_MS,
          budgetMs: budget,
          closing: closing.signal.aborted,
        });
        switch (step.do) {
          case 'stop-sink':
            throw fail(e, true);
          case 'refuse-entry':
            return { refused: fail(e, false) };
          case 'spool':
            log.warn({ attempt: n, elapsedMs: elapsed, mysqlCode: info.code, err: { message: info.message } }, 'MySQL unreachable; spooling until it returns');
            return 'spool';
          case 'retry':
            log.debug({ attempt: n, mysqlCode: info.code, backoffMs: step.waitMs }, 'transient MySQL error; retrying');
            await sleep(step.waitMs, undefined, { signal: closing.signal }).catch(() => undefined);
            backoff = step.nextBackoffMs;
            break;
          default: {
            const never: never = step;
            throw new Error(`unhandled step ${JSON.stringify(never)}`);
          }
        }
      }
    }
  }

  /** An entry to MySQL now (within the budget that began at `since`), or to the spool: where the sink's state and tryDirect say. */
  async function writeOrSpool(entry: SpoolEntry, since = Date.now()): Promise<'stored' | 'duplicate' | 'done' | 'spooled'> {
    const route = routeWrite(state());
    if (route === 'refuse') throw fatal!;
    if (route === 'spool') return spoolIt(entry);
    const out = await tryDirect((b) => apply(entry, 'direct', b), since);
    if (out === 'spool') return spoolIt(entry);
    if ('refused' in out) throw out.refused;
    return out.done;
  }

  /** A batch waiting for its group: the entry and when it arrived (its budget runs from then). */
  interface Queued {
    readonly entry: Extract<SpoolEntry, { kind: 'batch' }>;
    readonly at: number;
  }

  /**
   * One group of batches: one transaction while the sink writes directly; one
   * at a time when the group meets a replay or a batch MySQL refuses; to the
   * spool, in order, when MySQL is away.
   */
  async function writeGroup(group: readonly Queued[]): Promise<Array<ItemOutcome<'stored' | 'duplicate' | 'done' | 'spooled'>>> {
    const since = group[0]!.at; // the oldest: the queue is first in, first out
    const oneByOne = async () => {
      const outcomes: Array<ItemOutcome<'stored' | 'duplicate' | 'done' | 'spooled'>> = [];
      for (const q of group) {
        try {
          outcomes.push({ ok: true, value: await writeOrSpool(q.entry, since) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    };
    if (group.length === 1 || routeWrite(state()) !== 'direct') return oneByOne();
    const entries = group.map((q) => q.entry);
    const out = await tryDirect((b) => withConnection(b, (db) => storeBatches(db, entries, 'direct', loading)), since);
    if (out !== 'spool' && !('refused' in out) && out.done === 'stored') {
      counts.commits += 1;
      return group.map(() => ({ ok: true, value: 'stored' as const }));
    }
    return oneByOne();
  }

  const groups = new GroupQueue<Queued, 'stored' | 'duplicate' | 'done' | 'spooled'>(
    {
      lanes: opts.groupLanes ?? GROUP_LANES,
      maxItems: opts.groupMaxBatches ?? GROUP_MAX_BATCHES,
      maxWeight: opts.groupMaxSamples ?? GROUP_MAX_SAMPLES,
    },
    (q) => Math.max(1, q.entry.batch.samples.length),
    writeGroup,
  );

  async function spoolIt(entry: SpoolEntry): Promise<'spooled'> {
    if (spool === undefined) throw new ProbeError(ERROR_CODES.SINK_PERMANENT, 'the MySQL sink was used before open()');
    await spool.append(entry);
    ensureDrainer();
    return 'spooled';
  }

  function ensureDrainer(): void {
    if (!shouldDrain(state())) return;
    draining = drain().finally(() => {
      draining = undefined;
      const next = afterDrainerExit(state());
      // An append may have landed after the drainer saw the spool empty: 'restart'.
      if (next === 'restart') ensureDrainer();
      else if (next === 'drained') for (const w of drainWaiters.splice(0)) w.resolve();
    });
  }

  async function drain(): Promise<void> {
    const sp = spool!;
    let backoff = drainMin;
    while (!closing.signal.aborted && fatal === undefined) {
      const entry = await sp.head();
      if (entry === undefined) return;
      try {
        const out = await apply(entry, 'spool', bounds());
        await sp.removeHead();
        counts.drained += 1;
        if (out === 'stored') counts.stored += 1;
        if (out === 'duplicate') counts.duplicates += 1;
        if (backoff !== drainMin) log.info({ left: sp.size }, 'MySQL is back; draining the spool');
        backoff = drainMin;
      } catch (e) {
        const info = mysqlErrorInfo(e);
        const step = afterDrainError(classifyMysqlError(info), backoff, drainMax);
        switch (step.do) {
          case 'stop-sink':
            fail(e, true);
            return;
          case 'set-aside':
            await sp.reject(`${info.code}: ${info.message}`);
            break;
          case 'wait':
            log.debug({ mysqlCode: info.code, err: { message: info.message }, backoffMs: step.waitMs, left: sp.size }, 'MySQL still unreachable');
            try {
              await sleep(step.waitMs, undefined, { signal: closing.signal });
            } catch {
              return;
            }
            backoff = step.nextBackoffMs;
            break;
          default: {
            const never: never = step;
            throw new Error(`unhandled step ${JSON.stringify(never)}`);
          }
        }
      }
    }
  }

  /** Schema present and at the version this controller ships? Transient errors are only logged: the spool covers them. */
  async function checkSchema(): Promise<void> {
    try {
      await withConnection(bounds(), async (db) => {
        const tables = await db.query<RowDataPacket[]>(
          `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (${REQUIRED_TABLES.map(() => '?').join(', ')})`,
          REQUIRED_TABLES,
        );
        const have = new Set(tables.map((r) => String(r['t'])));
        const missing = REQUIRED_TABLES.filter((t) => !have.has(t));
        if (missing.length > 0) {
          throw new ProbeError(
            ERROR_CODES.SINK_PERMANENT,
            `MySQL at ${target.redacted} has no userprobe schema (missing ${missing.join(', ')}): run \`controller migrate --db URL\``,
          );
        }
        const rows = await db.query<RowDataPacket[]>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
        const have_v = Number(rows[0]?.['v'] ?? 0);
        const want = Math.max(0, ...(await loadMigrations(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR)).map((m) => m.version));
        if (have_v < want) {
          throw new ProbeError(
            ERROR_CODES.SINK_PERMANENT,
            `MySQL at ${target.redacted} has schema version ${have_v}, this controller needs ${want}: run \`controller migrate --db URL\``,
          );
        }
      });
    } catch (e) {
      if (e instanceof ProbeError) {
        fatal = e; // the schema is missing or too old
        throw e;
      }
      const info = mysqlErrorInfo(e);
      const kind = classifyMysqlError(info);
      if (afterOpenError(kind) === 'open-spooling') {
        log.warn({ mysqlCode: info.code }, 'MySQL is unreachable at start; batches will be spooled until it is back');
        return;
      }
      throw fail(e, kind === 'sink');
    }
  }

  return {
    name: MYSQL_SINK_NAME,

    async open() {
      spool = await DurableSpool.open(opts.spoolDir, log);
      const poolSettings = {
        ...(opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs }),
        ...(opts.poolSize === undefined ? {} : { poolSize: opts.poolSize }),
      };
      pool = createUtcPool(target, log, poolSettings);
      await checkSchema();
      ensureDrainer(); // what a previous process spooled drains now
      log.info({ spooled: spool.size }, 'MySQL sink open');
    },

    async runStarted(run: RunInfo, agents: readonly AgentInfo[]) {
      runs.set(run.runId, { scenario: run.scenario, browser: run.browser });
      await writeOrSpool({ kind: 'runStarted', run, agents });
    },

    async writeBatch(batch: MetricBatch, agent: AgentInfo) {
      if (spool?.has(batchKey(batch))) {
        counts.duplicates += 1;
        return 'duplicate';
      }
      const ctx = runs.get(batch.runId) ?? {
        scenario: batch.sessions[0]?.scenario ?? UNKNOWN,
        browser: batch.sessions[0]?.browser ?? UNKNOWN,
      };
      const out = await groups.push({ entry: { kind: 'batch', batch, agent, ctx }, at: Date.now() });
      switch (out) {
        case 'stored':
          counts.stored += 1;
          return 'stored';
        case 'duplicate':
          counts.duplicates += 1;
          return 'duplicate';
        case 'spooled':
          counts.spooled += 1;
          return 'stored';
        case 'done':
          return 'stored';
        default: {
          const never: never = out;
          throw new Error(`unexpected ${String(never)}`);
        }
      }
    },

    async runEnded(runId: string, status: RunStatus, endedAt: number) {
      await writeOrSpool({ kind: 'runEnded', runId, status, endedAt });
    },

    async roundRecorded(round: RoundReport) {
      await writeOrSpool({ kind: 'round', round });
    },

    async alertChanged(alert: AlertRecord) {
      await writeOrSpool({ kind: 'alert', alert });
    },

    stats() {
      return { ...counts, spoolSize: spool?.size ?? 0, mode: sinkMode(state()) };
    },

    whenDrained() {
      const mode = sinkMode(state());
      if (mode === 'failed') return Promise.reject(fatal!);
      if (mode === 'direct') return Promise.resolve();
      return new Promise((resolve, reject) => drainWaiters.push({ resolve, reject }));
    },

    /** Abandons MySQL calls in flight (their writes spool), stops the drainer, ends the pool within closeTimeoutMs. */
    async close() {
      closing.abort();
      await draining?.catch(() => undefined);
      if ((spool?.size ?? 0) > 0) log.warn({ left: spool?.size, dir: opts.spoolDir }, 'closing with spooled entries; they drain at the next start');
      if (pool !== undefined && (await endPool(pool, closeTimeout)) === 'destroyed') {
        log.warn({ closeTimeoutMs: closeTimeout }, "MySQL did not answer the pool's goodbye in time; its connections were closed without it");
      }
    },
  };
}
