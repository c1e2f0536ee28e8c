import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { DB_EXIT, migrateCommand, retentionCommand } from './db-commands.js';
import { parseDbUrl } from '../db/db-url.js';
import { ADMIN, createTestDb, type TestDb } from '../../test/db/test-db.js';

const log = pino({ level: 'silent' });

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, o: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), log } };
}

describe('migrate and retention commands', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('migrate from PROBE_DB_URL, then again: up to date', async () => {
    const c = capture();
    expect(await migrateCommand({ ...c.o, env: { PROBE_DB_URL: db.url } })).toBe(DB_EXIT.OK);
    expect(c.out).toEqual([
      `applied 001_init.sql, 002_monitor.sql, 003_alerts.sql, 004_custom_metrics.sql; schema now at version 4 on ${parseDbUrl(db.url).redacted}`,
    ]);
    const d = capture();
    expect(await migrateCommand({ ...d.o, db: db.url, env: {} })).toBe(DB_EXIT.OK);
    expect(d.out).toEqual([`schema is up to date (version 4) on ${parseDbUrl(db.url).redacted}`]);
  });

  it('exit codes: no URL → 2, bad URL → 2, refused → 4, unreachable → 3', async () => {
    const a = capture();
    expect(await migrateCommand({ ...a.o, env: {} })).toBe(DB_EXIT.BAD_INPUT);
    expect(a.err[0]).toContain('PROBE_DB_URL');
    const b = capture();
    expect(await migrateCommand({ ...b.o, db: 'postgres://x@y/z', env: {} })).toBe(DB_EXIT.BAD_INPUT);
    const c = capture();
    expect(await migrateCommand({ ...c.o, db: `mysql://${ADMIN.user}:secret-pw@${ADMIN.host}:${ADMIN.port}/${db.name}`, env: {} })).toBe(DB_EXIT.PERMANENT);
    expect(c.err.join('\n')).not.toContain('secret-pw');
    const d = capture();
    expect(await migrateCommand({ ...d.o, db: `mysql://${ADMIN.user}@127.0.0.1:1/${db.name}`, env: {} })).toBe(DB_EXIT.UNAVAILABLE);
  });

  it('retention reports what it did', async () => {
    const c = capture();
    expect(await retentionCommand({ ...c.o, db: db.url, env: {}, rawDays: 7 })).toBe(DB_EXIT.OK);
    expect(c.out[0]).toMatch(/^rolled up 0 five-minute bucket\(s\) into 0 rollup row\(s\)/);
    expect(c.out[1]).toMatch(/^deleted 0 raw sample\(s\) older than \d{4}-/);
    const d = capture();
    expect(await retentionCommand({ ...d.o, db: db.url, env: {}, rawDays: -1 })).toBe(DB_EXIT.BAD_INPUT);
  });
});
