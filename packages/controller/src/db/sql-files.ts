import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@userprobe/shared';

/** The repository's `sql/` folder, from both src/db and dist/db. */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../../sql/', import.meta.url));

const MIGRATION_FILE = /^(\d{3,})_([a-z0-9_-]+)\.sql$/;

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
  /** sha256 of the file's text, to notice a migration edited after it was applied. */
  readonly checksum: string;
}

/**
 * Split a migration into statements: `;` at the end of a line ends one.
 * Comment lines (`--`) and blank lines are dropped. Migrations hold plain DDL
 * and DML; no procedures or DELIMITER, which this would not understand.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const raw of sql.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, '');
    if (current.length === 0 && (line.trim() === '' || line.trim().startsWith('--'))) continue;
    if (line.trim().startsWith('--')) continue;
    current.push(line);
    if (line.endsWith(';')) {
      const stmt = current.join('\n').replace(/;$/, '').trim();
      if (stmt !== '') out.push(stmt);
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest !== '') out.push(rest);
  return out;
}

/** Parses `NNN_name.sql` names; anything else in the folder is not a migration. */
export function parseMigrationName(file: string): { version: number; name: string } | null {
  const m = MIGRATION_FILE.exec(file);
  if (m === null) return null;
  return { version: Number(m[1]), name: file };
}

export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (e) {
    throw new ConfigError(`cannot read the migrations folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const out: MigrationFile[] = [];
  const seen = new Map<number, string>();
  for (const f of files.sort()) {
    const parsed = parseMigrationName(f);
    if (parsed === null) continue;
    const clash = seen.get(parsed.version);
    if (clash !== undefined) throw new ConfigError(`migrations ${clash} and ${f} share version ${parsed.version}; each number may be used once`);
    seen.set(parsed.version, f);
    const text = await readFile(join(dir, f), 'utf8');
    out.push({ ...parsed, statements: splitStatements(text), checksum: createHash('sha256').update(text).digest('hex') });
  }
  return out.sort((a, b) => a.version - b.version);
}
