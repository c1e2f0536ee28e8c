/*
 * Every interval and limit of the MySQL storage, named once. The sink and the
 * retention job take overrides through their options; errors name the option.
 */

/** TCP connect timeout for every MySQL connection (option `connectTimeoutMs`). */
export const MYSQL_CONNECT_TIMEOUT_MS = 2_000;
/**
 * Every MySQL client call the sink makes — getting a pooled connection,
 * BEGIN, each statement, COMMIT, ROLLBACK — may take this long; past it the
 * call fails as transient and its connection is destroyed, never returned to
 * the pool (option `callTimeoutMs`). A paused server or a half-open connection
 * answers nothing, so only such a bound ends the wait (bounded-calls.ts).
 */
export const MYSQL_CALL_TIMEOUT_MS = 4_000;
/**
 * close() abandons calls in flight at once and gives the pool this long to
 * say goodbye (COM_QUIT); then it destroys the pool's sockets. So closing the
 * sink (and the controller) takes about this long at most while MySQL is
 * paused (option `closeTimeoutMs`).
 */
export const MYSQL_CLOSE_TIMEOUT_MS = 1_000;
/** Connections the sink's pool may hold. */
export const MYSQL_POOL_SIZE = 4;

/**
 * How long writeBatch keeps retrying a transient error (connection loss,
 * deadlock, lock-wait timeout, a call that does not answer) before it makes
 * the batch durable in the controller's spool instead (option
 * `directBudgetMs`). Every call of a direct write ends by this deadline, so a
 * write resolves within it plus one spool write: below the agent's
 * BATCH_ACK_TIMEOUT_MS, so the ack still arrives in time.
 */
export const DIRECT_WRITE_BUDGET_MS = 2_500;
/**
 * Group commit (group-queue.ts): batches that arrive while GROUP_LANES groups
 * are being written wait, then go to MySQL in one transaction, up to
 * GROUP_MAX_BATCHES batches and GROUP_MAX_SAMPLES samples per group. Options
 * `groupLanes`, `groupMaxBatches`, `groupMaxSamples`. Three lanes of the
 * pool's four: the ingest path is bound by MySQL's time per transaction, not
 * by the controller (bench/ingest: 4 agents sending, 1 lane 0.83× the path
 * before group commit, 2 lanes 1.11×, 4 lanes 1.12×, in the same sittings),
 * and one connection stays free for run records, rounds and alerts.
 */
export const GROUP_LANES = 3;
export const GROUP_MAX_BATCHES = 256;
export const GROUP_MAX_SAMPLES = 10_000;

/** Backoff between direct attempts: doubles from MIN up to MAX. */
export const RETRY_BACKOFF_MIN_MS = 50;
export const RETRY_BACKOFF_MAX_MS = 800;

/** The spool drainer's backoff while MySQL stays unreachable. */
export const DRAIN_BACKOFF_MIN_MS = 200;
export const DRAIN_BACKOFF_MAX_MS = 5_000;

/** Rows per multi-row INSERT statement. */
export const INSERT_CHUNK_ROWS = 1_000;

/** Width of a rollup bucket and of Grafana's long-range panels. */
export const ROLLUP_BUCKET_SECONDS = 300;
/** Raw samples older than this many days are deleted by `controller retention` (option `--raw-days`). */
export const DEFAULT_RAW_RETENTION_DAYS = 30;
/** Rows per DELETE statement of the retention job, so no single statement holds locks for long. */
export const RETENTION_DELETE_CHUNK_ROWS = 10_000;
/** Dirty buckets the rollup job computes per round. */
export const ROLLUP_BUCKETS_PER_ROUND = 50;

/** GET_LOCK name and wait that serialize concurrent `controller migrate` runs. */
export const MIGRATION_LOCK_NAME = 'userprobe_migrate';
export const MIGRATION_LOCK_TIMEOUT_S = 30;
