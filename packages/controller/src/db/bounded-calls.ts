import { Readable } from 'node:stream';
import type { Pool, PoolConnection, QueryResult, QueryValues, ResultSetHeader } from 'mysql2/promise';

/*
 * Every MySQL client call the sink makes, bounded. mysql2 bounds a connect
 * and (optionally) a statement's inactivity, but not BEGIN, COMMIT, ROLLBACK
 * or the wait for a pooled connection; a paused server or a half-open
 * connection answers none of them, and the call waits for as long as the
 * outage lasts. Here each call races a timer and the sink's closing signal;
 * when either wins, the call fails with a coded error (transient for
 * mysql-errors.ts) and its connection is destroyed by the caller — socket
 * included — never returned to the pool. A result that arrives after its
 * call gave up is discarded (a late connection is destroyed).
 */

/** A call that did not answer within its bound. */
export const MYSQL_TIMEOUT_CODE = 'E_MYSQL_TIMEOUT';
/** A call abandoned because the sink is closing. */
export const MYSQL_CLOSING_CODE = 'E_MYSQL_CLOSING';

/** The error of a call that was given up on; `code` is MYSQL_TIMEOUT_CODE or MYSQL_CLOSING_CODE. */
export class MysqlCallError extends Error {
  constructor(
    readonly code: typeof MYSQL_TIMEOUT_CODE | typeof MYSQL_CLOSING_CODE,
    message: string,
  ) {
    super(message);
    this.name = 'MysqlCallError';
  }
}

export interface CallBounds {
  /** How long the next call may take: the per-call timeout, or less when a deadline is nearer. */
  limitMs(): number;
  /** Aborted when the sink closes: calls in flight fail at once. */
  readonly signal: AbortSignal;
  /** The option to raise, named in the timeout message. */
  readonly setting: string;
}

/** The calls a write makes, each bounded (batch-writer.ts writes through this and nothing else). */
export interface SqlClient {
  begin(): Promise<void>;
  /** One statement; resolves to its result (rows for a SELECT). */
  query<T extends QueryResult = QueryResult>(sql: string, values?: QueryValues): Promise<T>;
  /** A `LOAD DATA LOCAL INFILE` statement whose file is `data` (sent from memory; nothing is read from disk). */
  load(sql: string, data: Buffer): Promise<ResultSetHeader>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * `call`, or a MysqlCallError once `bounds.limitMs()` has passed or the sink
 * closes, whichever comes first. `onLate` receives a result that arrived
 * after the call was given up on (to release what it holds).
 */
export function bounded<T>(call: Promise<T>, what: string, bounds: CallBounds, onLate?: (value: T) => void): Promise<T> {
  const ms = Math.max(0, bounds.limitMs());
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const giveUp = (err: MysqlCallError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      bounds.signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    const onAbort = (): void => giveUp(new MysqlCallError(MYSQL_CLOSING_CODE, `MySQL ${what} abandoned: the sink is closing`));
    const timer = setTimeout(() => giveUp(new MysqlCallError(MYSQL_TIMEOUT_CODE, `MySQL did not answer ${what} within ${ms} ms (${bounds.setting})`)), ms);
    bounds.signal.addEventListener('abort', onAbort, { once: true });
    if (bounds.signal.aborted) onAbort();
    call.then(
      (value) => {
        bounds.signal.removeEventListener('abort', onAbort);
        if (settled) {
          onLate?.(value);
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (e: unknown) => {
        bounds.signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** A pooled connection within the bounds; one that arrives too late is destroyed. */
export function acquire(pool: Pool, bounds: CallBounds): Promise<PoolConnection> {
  return bounded(pool.getConnection(), 'with a connection', bounds, destroyConnection);
}

/** The connection's calls, each bounded. */
export function boundedClient(conn: PoolConnection, bounds: CallBounds): SqlClient {
  return {
    begin: () => bounded(conn.beginTransaction(), 'to BEGIN', bounds),
    query: async <T extends QueryResult>(sql: string, values?: QueryValues) => {
      const [result] = await bounded(conn.query<T>(sql, values), `to a statement (${sql.slice(0, 40)}…)`, bounds);
      return result;
    },
    load: async (sql: string, data: Buffer) => {
      const call = conn.query<ResultSetHeader>({ sql, infileStreamFactory: () => Readable.from([data]) });
      const [result] = await bounded(call, `to LOAD DATA (${data.length} bytes)`, bounds);
      return result;
    },
    commit: () => bounded(conn.commit(), 'to COMMIT', bounds),
    rollback: () => bounded(conn.rollback(), 'to ROLLBACK', bounds),
  };
}

/**
 * Takes the connection out of the pool for good and closes its socket at
 * once: mysql2's destroy() only half-closes it (FIN), and a socket whose peer
 * never answers would stay open as long as the outage lasts.
 */
export function destroyConnection(conn: PoolConnection): void {
  conn.destroy();
  (conn.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
}
