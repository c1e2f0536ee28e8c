// A fresh MySQL database for one benchmark invocation: created, migrated with the controller's
// migrations (sql/), dropped at the end. The server is reached as BENCH_DB_ADMIN_URL (default
// mysql://root@127.0.0.1:3306, the test machine's MariaDB); the database's URL goes to what the
// benchmark starts (in an environment variable, never on a command line: it may hold a password).
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const root = new URL('../../', import.meta.url);
const requireCtl = createRequire(new URL('packages/controller/package.json', root));

/**
 * Creates and migrates `userprobe_bench_<random>`. Returns its URL, an open connection
 * to it (`conn`, UTC), `connect()` for more, the server's version and its
 * innodb_flush_log_at_trx_commit, and `drop()` (drops the database, closes `conn`).
 */
export async function freshDb() {
  const mysql = requireCtl('mysql2/promise');
  const pino = requireCtl('pino');
  const { migrate } = await import(new URL('packages/controller/dist/db/index.js', root).href);
  const admin = new URL(process.env.BENCH_DB_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306');
  const name = `userprobe_bench_${randomBytes(4).toString('hex')}`;
  const url = `${admin.protocol}//${admin.username}${admin.password ? `:${admin.password}` : ''}@${admin.host}/${name}`;
  const connect = async (database) => {
    const c = await mysql.createConnection({
      host: admin.hostname,
      port: Number(admin.port || 3306),
      user: decodeURIComponent(admin.username),
      password: decodeURIComponent(admin.password),
      database,
      timezone: 'Z',
    });
    await c.query("SET time_zone = '+00:00'");
    return c;
  };
  const conn = await connect(undefined);
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const drop = async () => {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.end();
  };
  try {
    await conn.query(`USE \`${name}\``);
    await migrate(url, { log: pino({ level: 'silent' }) });
  } catch (e) {
    await drop();
    throw e;
  }
  const [[{ v: serverVersion, flush }]] = await conn.query('SELECT VERSION() AS v, @@innodb_flush_log_at_trx_commit AS flush');
  return { url, conn, connect: () => connect(name), serverVersion, flush, drop };
}
