import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { migrate } from './migrate.js';
import { DEFAULT_MIGRATIONS_DIR, splitStatements } from './sql-files.js';
import { ADMIN, createTestDb, type TestDb } from '../../test/db/test-db.js';

const log = pino({ level: 'silent' });

/** Runs sql/grafana-readonly-user.sql as documented (password in a session variable). */
async function applyReadonlyUser(admin: Connection, user: string, password: string): Promise<void> {
  await admin.query('SET @grafana_user = ?, @grafana_host = ?, @grafana_password = ?', [user, '127.0.0.1', password]);
  const sql = await readFile(join(DEFAULT_MIGRATIONS_DIR, 'grafana-readonly-user.sql'), 'utf8');
  for (const stmt of splitStatements(sql)) await admin.query(stmt);
}

describe('sql/grafana-readonly-user.sql', () => {
  let db: TestDb;
  const user = `up_graf_${randomBytes(3).toString('hex')}`;
  const password = `pw'${randomBytes(6).toString('hex')}`; // a quote, to prove it is quoted
  beforeAll(async () => {
    db = await createTestDb();
    await migrate(db.url, { log });
    await applyReadonlyUser(db.admin, user, password);
    await applyReadonlyUser(db.admin, user, password); // re-running is safe
  });
  afterAll(async () => {
    await db.admin.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
    await db.admin.query(`DROP USER IF EXISTS '${user}_doc'@'127.0.0.1'`);
    await db.drop();
  });

  it('the user can SELECT and cannot write or change the schema', async () => {
    const ro = await createConnection({ host: ADMIN.host, port: ADMIN.port, user, password, database: db.name });
    try {
      const [rows] = await ro.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM samples');
      expect(Number(rows[0]!['n'])).toBe(0);
      await expect(ro.query("INSERT INTO alerts (rule, state, message, at) VALUES ('r', 'firing', 'm', NOW())")).rejects.toMatchObject({
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
      await expect(ro.query('DELETE FROM samples')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(ro.query('CREATE TABLE x (y INT)')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      await expect(ro.query('SELECT * FROM mysql.user')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    } finally {
      await ro.end();
    }
  });

  it('refuses to run without a password', async () => {
    await db.admin.query('SET @grafana_password = NULL');
    const sql = await readFile(join(DEFAULT_MIGRATIONS_DIR, 'grafana-readonly-user.sql'), 'utf8');
    const stmts = splitStatements(sql);
    let err: unknown;
    try {
      for (const stmt of stmts) await db.admin.query(stmt);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('set @grafana_password');
  });

  it('the command its header documents works, with the password only in a file: never on a command line', async () => {
    const path = join(DEFAULT_MIGRATIONS_DIR, 'grafana-readonly-user.sql');
    const documented = (await readFile(path, 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('--   '))
      .map((l) => l.slice(5))
      .join('\n');
    expect(documented).toContain('| mysql -h HOST -u root -p userprobe');
    const dir = await mkdtemp(join(tmpdir(), 'up-graf-'));
    try {
      const docUser = `${user}_doc`;
      const docPassword = `p'w"\\ ü $(x) ${randomBytes(6).toString('hex')}`;
      await writeFile(join(dir, 'grafana-password'), `${docPassword}\n`, { mode: 0o600 });
      // The administrator's password (if any) in an option file, as a prompt cannot be answered here.
      await writeFile(join(dir, 'admin.cnf'), `[client]\nhost=${ADMIN.host}\nport=${ADMIN.port}\nuser=${ADMIN.user}\npassword=${ADMIN.password}\n`, {
        mode: 0o600,
      });
      const command = documented
        .replace(
          'mysql -h HOST -u root -p userprobe',
          `mysql --defaults-extra-file=admin.cnf --init-command="SET @grafana_user = '${docUser}', @grafana_host = '127.0.0.1'" ${db.name}`,
        )
        .replace('cat sql/grafana-readonly-user.sql', `cat '${path}'`);
      expect(command).not.toContain(docPassword.slice(-12));
      execFileSync('sh', ['-c', command], { cwd: dir, stdio: 'pipe' });
      const ro = await createConnection({ host: ADMIN.host, port: ADMIN.port, user: docUser, password: docPassword, database: db.name });
      try {
        const [rows] = await ro.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM samples');
        expect(Number(rows[0]!['n'])).toBe(0);
      } finally {
        await ro.end();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
