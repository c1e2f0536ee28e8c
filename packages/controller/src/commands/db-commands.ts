import type { Logger } from 'pino';
import { ERROR_CODES, isProbeError } from '@userprobe/shared';
import { parseDbUrl } from '../db/db-url.js';
import { migrate } from '../db/migrate.js';
import { runRetention } from '../db/retention.js';

/*
 * `controller migrate` and `controller retention`: option handling,
 * user-facing output and exit codes. The CLI passes its parsed flags and its
 * environment; nothing here reads process.env.
 */

export const DB_EXIT = {
  OK: 0,
  /** No database URL, or one that does not parse; a bad flag. */
  BAD_INPUT: 2,
  /** The database is unreachable (or the migration lock is held): try again later. */
  UNAVAILABLE: 3,
  /** The database refused: credentials, privileges, a failed migration, missing schema. */
  PERMANENT: 4,
} as const;

export const DB_URL_ENV = 'PROBE_DB_URL';

export interface DbCommandOptions {
  /** `--db URL`; falls back to PROBE_DB_URL in `env`. */
  readonly db?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** User-facing lines (stdout). */
  readonly out: (line: string) => void;
  /** Error lines (stderr). */
  readonly err: (line: string) => void;
}

export interface RetentionCommandOptions extends DbCommandOptions {
  /** `--raw-days N` */
  readonly rawDays?: number | undefined;
  /** `--rollup-only` */
  readonly rollupOnly?: boolean | undefined;
}

function resolveUrl(o: DbCommandOptions): string | undefined {
  const url = o.db ?? o.env[DB_URL_ENV];
  if (url === undefined || url === '') {
    o.err(`error: no database given; pass --db mysql://USER:PASSWORD@HOST:PORT/DATABASE or set ${DB_URL_ENV}`);
    return undefined;
  }
  return url;
}

function exitFor(e: unknown, o: DbCommandOptions): number {
  if (!isProbeError(e)) {
    o.err(`error: ${(e as Error).message ?? String(e)}`);
    return DB_EXIT.PERMANENT;
  }
  o.err(`error: ${e.message}`);
  switch (e.code) {
    case ERROR_CODES.CONFIG_INVALID:
      return DB_EXIT.BAD_INPUT;
    case ERROR_CODES.SINK_UNAVAILABLE:
      return DB_EXIT.UNAVAILABLE;
    default:
      return DB_EXIT.PERMANENT;
  }
}

/** `controller migrate [--db URL]` → exit code. */
export async function migrateCommand(o: DbCommandOptions): Promise<number> {
  const url = resolveUrl(o);
  if (url === undefined) return DB_EXIT.BAD_INPUT;
  try {
    const where = parseDbUrl(url).redacted;
    const res = await migrate(url, { log: o.log });
    if (res.applied.length === 0) o.out(`schema is up to date (version ${res.version}) on ${where}`);
    else o.out(`applied ${res.applied.join(', ')}; schema now at version ${res.version} on ${where}`);
    return DB_EXIT.OK;
  } catch (e) {
    return exitFor(e, o);
  }
}

/** `controller retention [--db URL] [--raw-days N] [--rollup-only]` → exit code. */
export async function retentionCommand(o: RetentionCommandOptions): Promise<number> {
  const url = resolveUrl(o);
  if (url === undefined) return DB_EXIT.BAD_INPUT;
  try {
    const where = parseDbUrl(url).redacted;
    const res = await runRetention(url, {
      log: o.log,
      ...(o.rawDays === undefined ? {} : { rawDays: o.rawDays }),
      ...(o.rollupOnly === undefined ? {} : { rollupOnly: o.rollupOnly }),
    });
    o.out(`rolled up ${res.bucketsRolledUp} five-minute bucket(s) into ${res.rollupRows} rollup row(s) on ${where}`);
    o.out(res.cutoff === null ? 'raw samples kept (--rollup-only)' : `deleted ${res.samplesDeleted} raw sample(s) older than ${res.cutoff.toISOString()}`);
    return DB_EXIT.OK;
  } catch (e) {
    return exitFor(e, o);
  }
}
