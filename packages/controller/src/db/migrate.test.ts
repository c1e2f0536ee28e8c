import { mkdtemp, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { RowDataPacket } from 'mysql2/promise';
import { ERROR_CODES } from '@userprobe/shared';
import { migrate, MigrationError } from './migrate.js';
import { DEFAULT_MIGRATIONS_DIR } from './sql-files.js';
import { ADMIN, createTestDb, type TestDb } from '../../test/db/test-db.js';

const log = pino({ level: 'silent' });
const TABLES = [
  'alert_states',
  'alerts',
  'custom_metrics',
  'ingested_batches',
  'monitor_rounds',
  'rollup_dirty',
  'rollups',
  'run_agents',
  'runs',
  'samples',
  'schema_migrations',
  'sessions',
];

async function tables(db: TestDb): Promise<string[]> {
  const [rows] = await db.admin.query<RowDataPacket[]>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [db.name]);
  return rows.map((r) => String(r['t'])).sort();
}

describe('migrate', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('creates the schema from nothing, then is a no-op', async () => {
    const first = await migrate(db.url, { log });
    expect(first.applied).toEqual(['001_init.sql', '002_monitor.sql', '003_alerts.sql', '004_custom_metrics.sql']);
    expect(first.version).toBe(4);
    expect(await tables(db)).toEqual(TABLES);

    const second = await migrate(db.url, { log });
    expect(second).toEqual({ applied: [], version: 4 });
    const [rows] = await db.admin.query<RowDataPacket[]>('SELECT version, name FROM schema_migrations');
    expect(rows.map((r): unknown[] => [r['version'], r['name']])).toEqual([
      [1, '001_init.sql'],
      [2, '002_monitor.sql'],
      [3, '003_alerts.sql'],
      [4, '004_custom_metrics.sql'],
    ]);
  });

  it('indexes samples for Grafana time-range queries (metric + ts) and runs', async () => {
    const [rows] = await db.admin.query<RowDataPacket[]>(
      "SELECT index_name AS i, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols FROM information_schema.statistics WHERE table_schema = ? AND table_name = 'samples' GROUP BY index_name ORDER BY 1",
      [db.name],
    );
    const idx = Object.fromEntries(rows.map((r) => [String(r['i']), String(r['cols'])]));
    expect(idx).toMatchObject({ idx_samples_metric_ts: 'metric,ts', idx_samples_run_metric: 'run_id,metric', idx_samples_ts: 'ts' });
  });

  it('a failing migration names file and statement and is not recorded; fixed, it applies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'up-mig-'));
    for (const f of ['001_init.sql', '002_monitor.sql', '003_alerts.sql', '004_custom_metrics.sql'])
      await copyFile(join(DEFAULT_MIGRATIONS_DIR, f), join(dir, f));
    await writeFile(join(dir, '005_broken.sql'), 'CREATE TABLE IF NOT EXISTS extra_ok (x INT);\nALTER TABLE no_such_table ADD COLUMN y INT;\n');
    let err: unknown;
    try {
      await migrate(db.url, { log, migrationsDir: dir });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MigrationError);
    const me = err as MigrationError;
    expect(me.code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect(me.file).toBe('005_broken.sql');
    expect(me.statementIndex).toBe(1);
    expect(me.message).toMatch(/005_broken\.sql failed at statement 2 \(ALTER TABLE no_such_table/);
    const [rows] = await db.admin.query<RowDataPacket[]>('SELECT MAX(version) AS v FROM schema_migrations');
    expect(rows[0]!['v']).toBe(4);

    await writeFile(join(dir, '005_broken.sql'), 'CREATE TABLE IF NOT EXISTS extra_ok (x INT);\nALTER TABLE extra_ok ADD COLUMN IF NOT EXISTS y INT;\n');
    const fixed = await migrate(db.url, { log, migrationsDir: dir });
    expect(fixed).toEqual({ applied: ['005_broken.sql'], version: 5 });
  });

  it('bad credentials are a permanent error that names the redacted URL', async () => {
    const url = `mysql://${ADMIN.user}:wrong-secret@${ADMIN.host}:${ADMIN.port}/${db.name}`;
    const err = await migrate(url, { log }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect((err as Error).message).toContain('ER_ACCESS_DENIED_ERROR');
    expect((err as Error).message).toContain(`${ADMIN.user}:***@`);
    expect((err as Error).message).not.toContain('wrong-secret');
  });
});
