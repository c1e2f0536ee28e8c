import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Logger } from 'pino';
import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import { connectUtc } from './connection.js';
import { parseDbUrl } from './db-url.js';
import { MIGRATION_LOCK_NAME, MIGRATION_LOCK_TIMEOUT_S } from './limits.js';
import { classifyMysqlError, mysqlErrorInfo, permanentSinkError, unavailableSinkError } from './mysql-errors.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, type MigrationFile } from './sql-files.js';

/** A migration that failed: names the file, the statement and the server's error. */
export class MigrationError extends ProbeError {
  readonly file: string;
  readonly statementIndex: number;
  constructor(file: string, statementIndex: number, statement: string, cause: unknown) {
    const info = mysqlErrorInfo(cause);
    const head = statement.replace(/\s+/g, ' ').slice(0, 160);
    super(
      ERROR_CODES.SINK_PERMANENT,
      `migration ${file} failed at statement ${statementIndex + 1} (${head}…): ${info.code}: ${info.message}. ` +
        `It is not recorded as applied; fix the cause and run \`controller migrate\` again (its statements are idempotent).`,
      { cause, detail: { file, statementIndex, mysqlCode: info.code } },
    );
    this.file = file;
    this.statementIndex = statementIndex;
  }
}

export interface MigrateOptions {
  readonly log: Logger;
  readonly migrationsDir?: string;
  readonly connectTimeoutMs?: number;
}

export interface MigrateResult {
  /** Versions applied by this call, in order (empty: nothing to do). */
  readonly applied: readonly string[];
  /** Highest version recorded after this call (0: none). */
  readonly version: number;
}

const CREATE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INT UNSIGNED NOT NULL,
  name        VARCHAR(128) NOT NULL,
  checksum    CHAR(64)     NOT NULL,
  applied_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

interface AppliedRow extends RowDataPacket {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Apply every migration in `sql/` that schema_migrations does not list, in
 * version order. A file is recorded only after all its statements applied
 * (DDL commits on its own, so a half-applied file stays unrecorded and its
 * idempotent statements run again next time). Concurrent callers are
 * serialized with GET_LOCK.
 */
export async function migrate(dbUrl: string, opts: MigrateOptions): Promise<MigrateResult> {
  const target = parseDbUrl(dbUrl);
  const log = opts.log.child({ component: 'migrate' });
  const migrations = await loadMigrations(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  let conn: Connection;
  try {
    conn = await connectUtc(target, opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: opts.connectTimeoutMs });
  } catch (e) {
    throw classifyMysqlError(mysqlErrorInfo(e)) === 'transient' ? unavailableSinkError(target.redacted, e) : permanentSinkError(target.redacted, e);
  }
  try {
    const [lockRows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [MIGRATION_LOCK_NAME, MIGRATION_LOCK_TIMEOUT_S]);
    if (lockRows[0]?.['got'] !== 1) {
      throw new ProbeError(
        ERROR_CODES.SINK_UNAVAILABLE,
        `another \`controller migrate\` holds the migration lock on ${target.redacted} for more than ${MIGRATION_LOCK_TIMEOUT_S}s; try again when it has finished`,
      );
    }
    try {
      await conn.query(CREATE_SCHEMA_MIGRATIONS);
      const [rows] = await conn.query<AppliedRow[]>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
      const applied = new Map(rows.map((r) => [Number(r.version), r]));
      checkApplied(migrations, applied, log);
      const done: MigrationFile[] = [];
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        log.info({ migration: m.name, statements: m.statements.length }, 'applying');
        await applyOne(conn, m);
        done.push(m);
      }
      const version = Math.max(0, ...applied.keys(), ...done.map((m) => m.version));
      return { applied: done.map((m) => m.name), version };
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK_NAME]).catch(() => undefined);
    }
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    throw classifyMysqlError(mysqlErrorInfo(e)) === 'transient' ? unavailableSinkError(target.redacted, e) : permanentSinkError(target.redacted, e);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

async function applyOne(conn: Connection, m: MigrationFile): Promise<void> {
  for (const [i, stmt] of m.statements.entries()) {
    try {
      await conn.query(stmt);
    } catch (e) {
      throw new MigrationError(m.name, i, stmt, e);
    }
  }
  await conn.query('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [m.version, m.name, m.checksum, new Date()]);
}

/** A recorded migration whose file changed or vanished is reported, never re-run. */
function checkApplied(files: readonly MigrationFile[], applied: ReadonlyMap<number, AppliedRow>, log: Logger): void {
  for (const [version, row] of applied) {
    const f = files.find((m) => m.version === version);
    if (f === undefined) {
      log.warn({ version, name: row.name }, 'the database records a migration this controller does not have (a newer controller migrated it?)');
    } else if (f.checksum !== row.checksum) {
      log.warn({ version, name: f.name }, 'this migration changed after it was applied; the change is NOT applied — add a new numbered migration instead');
    }
  }
}
