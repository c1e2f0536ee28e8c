import { ERROR_CODES, ProbeError } from '@userprobe/shared';

/**
 * What a MySQL error means for the sink:
 * - `transient`: the server is unreachable or busy (connection loss, deadlock,
 *   lock-wait timeout) — retry with backoff, then spool;
 * - `sink`: the sink cannot work at all until an operator acts (bad
 *   credentials, unknown database, missing schema) — stop with a clear message;
 * - `batch`: this one payload cannot be stored (data error) — reject it, go on.
 */
export type MysqlErrorKind = 'transient' | 'sink' | 'batch';

const TRANSIENT = new Set([
  // socket level
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED',
  // mysql2 client
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'PROTOCOL_ENQUEUE_AFTER_QUIT',
  // server
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_LOCK_TABLE_FULL', 'ER_CANT_CREATE_THREAD', 'ER_OUT_OF_RESOURCES',
  'ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_DISK_FULL',
  // our own per-statement timeout
  'E_MYSQL_TIMEOUT',
]);

/** Errno of the same conditions, for servers whose code string mysql2 does not know. */
const TRANSIENT_ERRNO = new Set([1040, 1053, 1205, 1213, 1317, 1927, 2002, 2003, 2006, 2013, 3024, 1969]);

const SINK_HINTS: Readonly<Record<string, string>> = {
  ER_ACCESS_DENIED_ERROR: 'the user or password is wrong: check the user and password in --db / PROBE_DB_URL',
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: 'the server refused the user over TCP: create a dedicated user with a password (see docs/storage.md)',
  ER_DBACCESS_DENIED_ERROR: 'the user may not use this database: GRANT it SELECT, INSERT, UPDATE, DELETE on the database',
  ER_TABLEACCESS_DENIED_ERROR: 'the user lacks a privilege on a table: GRANT SELECT, INSERT, UPDATE, DELETE on the database',
  ER_BAD_DB_ERROR: 'the database does not exist: create it, then run `controller migrate`',
  ER_NO_SUCH_TABLE: 'the schema is missing: run `controller migrate`',
  ER_BAD_FIELD_ERROR: 'the schema is out of date: run `controller migrate`',
  ER_NOT_SUPPORTED_AUTH_MODE: 'the server asks for an authentication plugin the client does not support',
  ENOTFOUND: 'the host name does not resolve: check the host in --db / PROBE_DB_URL',
};

export interface MysqlErrorInfo {
  readonly code: string;
  readonly errno: number | undefined;
  readonly message: string;
}

export function mysqlErrorInfo(e: unknown): MysqlErrorInfo {
  if (e instanceof Error) {
    const x = e as Error & { code?: unknown; errno?: unknown; sqlMessage?: unknown };
    return {
      code: typeof x.code === 'string' ? x.code : e.name,
      errno: typeof x.errno === 'number' && x.errno > 0 ? x.errno : undefined,
      message: typeof x.sqlMessage === 'string' ? x.sqlMessage : e.message,
    };
  }
  return { code: 'E_UNKNOWN', errno: undefined, message: String(e) };
}

export function classifyMysqlError(info: Pick<MysqlErrorInfo, 'code' | 'errno'>): MysqlErrorKind {
  if (TRANSIENT.has(info.code)) return 'transient';
  if (info.errno !== undefined && TRANSIENT_ERRNO.has(info.errno)) return 'transient';
  if (Object.hasOwn(SINK_HINTS, info.code)) return 'sink';
  return 'batch';
}

/** The operator-facing hint for a sink-permanent error, or undefined. */
export function sinkHint(code: string): string | undefined {
  return Object.hasOwn(SINK_HINTS, code) ? SINK_HINTS[code] : undefined;
}

/** A permanent error: names the database (redacted URL), the server's words and what to do. */
export function permanentSinkError(redactedUrl: string, e: unknown): ProbeError {
  const info = mysqlErrorInfo(e);
  const hint = sinkHint(info.code) ?? 'the server rejected the data; it will not be retried';
  return new ProbeError(ERROR_CODES.SINK_PERMANENT, `MySQL at ${redactedUrl}: ${info.code}: ${scrub(info.message)} — ${hint}`, {
    cause: e,
    detail: { mysqlCode: info.code, errno: info.errno },
  });
}

export function unavailableSinkError(redactedUrl: string, e: unknown): ProbeError {
  const info = mysqlErrorInfo(e);
  return new ProbeError(ERROR_CODES.SINK_UNAVAILABLE, `MySQL at ${redactedUrl} is unreachable (${info.code}: ${scrub(info.message)}); retry later`, {
    cause: e,
    detail: { mysqlCode: info.code, errno: info.errno },
  });
}

/** Server messages quote the user, never the password; drop anything that looks like a URL with credentials anyway. */
function scrub(message: string): string {
  return message.replace(/[a-z]+:\/\/[^\s@/]*:[^\s@/]*@/gi, '***@').slice(0, 500);
}
