/* MySQL storage: migrations, the MySQL sink with its spool, retention. */

export { createMysqlSink, type MysqlSink, type MysqlSinkOptions, type MysqlSinkStats } from './mysql-sink.js';
export { migrate, MigrationError, type MigrateOptions, type MigrateResult } from './migrate.js';
export { runRetention, type RetentionOptions, type RetentionResult } from './retention.js';
export { parseDbUrl, redactDbUrl, type DbTarget } from './db-url.js';
export { SESSION_TIME_ZONE } from './connection.js';
export { DEFAULT_RAW_RETENTION_DAYS } from './limits.js';
