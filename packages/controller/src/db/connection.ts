import { createConnection, createPool, type Connection, type Pool, type PoolOptions } from 'mysql2/promise';
import type { Logger } from 'pino';
import type { DbTarget } from './db-url.js';
import { MYSQL_CONNECT_TIMEOUT_MS, MYSQL_POOL_SIZE } from './limits.js';

/** The session time zone every userprobe connection runs in. */
export const SESSION_TIME_ZONE = '+00:00';

export interface PoolSettings {
  readonly connectTimeoutMs?: number;
  readonly poolSize?: number;
  /** Lets `LOAD DATA LOCAL INFILE` read the named stream (bench only). */
  readonly infileStreamFactory?: PoolOptions['infileStreamFactory'];
}

/**
 * A pool whose connections are all in UTC twice over: mysql2 converts JS
 * Dates as UTC (`timezone: 'Z'`), and each new connection runs
 * `SET time_zone = '+00:00'` before anything else, so NOW(), FROM_UNIXTIME()
 * and UNIX_TIMESTAMP() agree with the stored DATETIME(3) values.
 */
/** What the pool and single connections share: the target, UTC conversion, binary utf8mb4, one statement per query. */
function utcConnectionOptions(target: DbTarget, connectTimeoutMs: number | undefined) {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    timezone: 'Z',
    dateStrings: false,
    connectTimeout: connectTimeoutMs ?? MYSQL_CONNECT_TIMEOUT_MS,
    charset: 'utf8mb4_bin',
    multipleStatements: false,
  } as const;
}

export function createUtcPool(target: DbTarget, log: Logger, settings: PoolSettings = {}): Pool {
  const options: PoolOptions = {
    ...utcConnectionOptions(target, settings.connectTimeoutMs),
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectionLimit: settings.poolSize ?? MYSQL_POOL_SIZE,
    maxIdle: settings.poolSize ?? MYSQL_POOL_SIZE,
    enableKeepAlive: true,
  };
  if (settings.infileStreamFactory !== undefined) options.infileStreamFactory = settings.infileStreamFactory;
  const pool = createPool(options);
  const sockets = new Set<{ destroy(): void }>();
  poolSockets.set(pool, sockets);
  // The core pool's event hands over the callback-style connection.
  pool.pool.on('connection', (conn) => {
    const stream = (conn as unknown as { stream?: { destroy(): void; once(e: 'close', f: () => void): void } }).stream;
    if (stream !== undefined) {
      sockets.add(stream);
      stream.once('close', () => sockets.delete(stream));
    }
    // Queued on the connection before any statement the pool hands it out for.
    conn.query(`SET time_zone = '${SESSION_TIME_ZONE}'`, (err: Error | null) => {
      if (err !== null) log.warn({ err: { message: err.message } }, 'could not set the session time zone');
    });
  });
  return pool;
}

/** The sockets of each pool's connections, for endPool. */
const poolSockets = new WeakMap<Pool, Set<{ destroy(): void }>>();

/**
 * Ends the pool: gracefully (COM_QUIT on each connection) when the server
 * answers within `timeoutMs`, else by destroying every connection's socket,
 * since a paused server or a half-open connection never answers and would
 * hold the process open. Never rejects.
 */
export async function endPool(pool: Pool, timeoutMs: number): Promise<'ended' | 'destroyed'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const how = await Promise.race([
    pool.end().then(
      () => 'ended' as const,
      () => 'ended' as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (how === 'ended') return how;
  for (const s of poolSockets.get(pool) ?? []) s.destroy();
  return 'destroyed';
}

/** One connection, in UTC the same way as the pool (for migrate and retention). */
export async function connectUtc(target: DbTarget, settings: Pick<PoolSettings, 'connectTimeoutMs'> = {}): Promise<Connection> {
  const conn = await createConnection(utcConnectionOptions(target, settings.connectTimeoutMs));
  await conn.query(`SET time_zone = '${SESSION_TIME_ZONE}'`);
  return conn;
}
