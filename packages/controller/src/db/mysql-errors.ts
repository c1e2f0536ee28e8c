import { ERROR_CODES, ProbeError } from '@userprobe/shared';

/**
 * What a MySQL error means for the sink:
 * - `sink`: the sink cannot work at all until an operator acts (bad
 *   credentials, unknown database, missing schema) — stop with a clear
 *   message; only the well-known codes of SINK_HINTS;
 * - `batch`: this one payload cannot be stored (a data error the server
 *   reported) — reject it, go on; only the well-known codes of DATA_ERRORS;
 * - `transient`: everything else — the server is unreachable, slow or busy
 *   (connection loss, a timed-out call, deadlock, lock-wait timeout), and
 *   any error this table does not know, including the ones mysql2 raises
 *   without a code ("Can't add new command when connection is in closed
 *   state"). Retried with backoff, then spooled: an error nobody recognises is
 *   no proof that the batch is bad, and the spool keeps it either way.
 */
export type MysqlErrorKind = 'transient' | 'sink' | 'batch';

/** Data errors: this payload, as written, can never be stored. */
const DATA_ERRORS = new Set([
  'ER_DATA_TOO_LONG',
  'ER_PARSE_ERROR',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_DATA_OUT_OF_RANGE',
  'ER_BAD_NULL_ERROR',
  'ER_WRONG_VALUE_COUNT_ON_ROW',
  'ER_WARN_NULL_TO_NOTNULL',
  'ER_DATETIME_FUNCTION_OVERFLOW',
  'ER_INVALID_CHARACTER_STRING',
  'ER_CANT_AGGREGATE_2COLLATIONS',
  'ER_NET_PACKET_TOO_LARGE',
  'ER_DUP_ENTRY',
  'ER_WRONG_VALUE',
  'ER_ILLEGAL_VALUE_FOR_TYPE',
  'ER_INVALID_JSON_TEXT',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_CONSTRAINT_FAILED',
]);

/** Errno of the same conditions (numbers MySQL and MariaDB share), for servers whose code string mysql2 does not know. */
const DATA_ERRNO = new Set([1048, 1062, 1064, 1136, 1153, 1263, 1264, 1267, 1292, 1300, 1366, 1367, 1406, 1441, 1525, 1690]);

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
  if (Object.hasOwn(SINK_HINTS, info.code)) return 'sink';
  if (DATA_ERRORS.has(info.code)) return 'batch';
  if (info.errno !== undefined && DATA_ERRNO.has(info.errno)) return 'batch';
  return 'transient';
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
