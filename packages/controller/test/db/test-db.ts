import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';

/*
 * Test support: a throw-away database on the machine's MariaDB, created per
 * test file and dropped after it. The account is PROBE_TEST_DB_URL's
 * (scripts/test-services.sh creates one that may create databases and users),
 * else root with no password on 127.0.0.1:3306.
 */

function adminFromEnv(): { host: string; port: number; user: string; password: string } {
  const url = process.env['PROBE_TEST_DB_URL'];
  if (url === undefined || url === '') return { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
  const u = new URL(url);
  return { host: u.hostname, port: u.port === '' ? 3306 : Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
}

export const ADMIN = Object.freeze(adminFromEnv());

export interface TestDb {
  readonly name: string;
  /** mysql:// URL for root on this database. */
  readonly url: string;
  /** A root connection on this database (session time zone left as the server's). */
  readonly admin: Connection;
  /** Creates a user with a password limited to this database; dropped with the database. */
  createUser(privileges: string): Promise<{ user: string; password: string; url: string }>;
  drop(): Promise<void>;
}

export function adminUrl(database: string): string {
  const pw = ADMIN.password === '' ? '' : `:${encodeURIComponent(ADMIN.password)}`;
  return `mysql://${encodeURIComponent(ADMIN.user)}${pw}@${ADMIN.host}:${ADMIN.port}/${database}`;
}

export async function createTestDb(prefix = 'userprobe_test'): Promise<TestDb> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const root = await createConnection({ ...ADMIN, multipleStatements: false });
  await root.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await root.changeUser({ database: name });
  const users: string[] = [];
  return {
    name,
    url: adminUrl(name),
    admin: root,
    async createUser(privileges) {
      const user = `up_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(9).toString('base64url');
      await root.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
      await root.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'`);
      if (privileges !== '') {
        await root.query(`GRANT ${privileges} ON \`${name}\`.* TO '${user}'@'127.0.0.1'`);
        await root.query(`GRANT ${privileges} ON \`${name}\`.* TO '${user}'@'localhost'`);
      }
      users.push(user);
      return { user, password, url: `mysql://${user}:${encodeURIComponent(password)}@${ADMIN.host}:${ADMIN.port}/${name}` };
    },
    async drop() {
      for (const u of users) {
        await root.query(`DROP USER IF EXISTS '${u}'@'127.0.0.1', '${u}'@'localhost'`);
      }
      await root.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await root.end();
    },
  };
}
