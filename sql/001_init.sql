-- userprobe schema, version 1.
--
-- Narrow, append-only tables that Grafana can slice any way. Every time is UTC
-- DATETIME(3): the controller and the Grafana data source both set the session
-- time zone to '+00:00', so nothing is ever shifted.
--
-- Statements are idempotent (IF NOT EXISTS): MariaDB/MySQL DDL commits on its
-- own, so a migration that failed half-way can simply be run again once the
-- cause is fixed. `controller migrate` records this file in schema_migrations
-- only after every statement applied.
--
-- No foreign keys on purpose: batches may arrive (or drain from the
-- controller's spool) in any order relative to their run's row.

CREATE TABLE IF NOT EXISTS runs (
  run_id          VARCHAR(64)  NOT NULL,
  scenario        VARCHAR(32)  NOT NULL,
  browser         VARCHAR(16)  NOT NULL,
  target_name     VARCHAR(128) NOT NULL,
  total_sessions  INT UNSIGNED NOT NULL,
  status          VARCHAR(16)  NOT NULL DEFAULT 'running',
  started_at      DATETIME(3)  NOT NULL,
  ended_at        DATETIME(3)  NULL,
  params          TEXT         NOT NULL,
  PRIMARY KEY (run_id),
  KEY idx_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS run_agents (
  run_id          VARCHAR(64)  NOT NULL,
  agent_id        VARCHAR(64)  NOT NULL,
  name            VARCHAR(64)  NOT NULL,
  location        VARCHAR(128) NOT NULL,
  labels          TEXT         NOT NULL,
  capacity        TEXT         NOT NULL,
  joined_at       DATETIME(3)  NOT NULL,
  PRIMARY KEY (run_id, agent_id),
  KEY idx_run_agents_agent (agent_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sessions (
  run_id          VARCHAR(64)   NOT NULL,
  session_id      VARCHAR(64)   NOT NULL,
  agent_id        VARCHAR(64)   NOT NULL,
  location        VARCHAR(128)  NOT NULL,
  scenario        VARCHAR(32)   NOT NULL,
  browser         VARCHAR(16)   NOT NULL,
  status          VARCHAR(16)   NOT NULL,
  started_at      DATETIME(3)   NOT NULL,
  ended_at        DATETIME(3)   NOT NULL,
  failed_step     VARCHAR(64)   NULL,
  error_code      VARCHAR(64)   NULL,
  error_message   VARCHAR(2000) NULL,
  -- the first evidence file (relative to the run's results folder); all of them in `artifacts`
  artifact_path   VARCHAR(256)  NULL,
  artifacts       TEXT          NOT NULL,
  PRIMARY KEY (run_id, session_id),
  KEY idx_sessions_ended (ended_at),
  KEY idx_sessions_run_status (run_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS samples (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  run_id          VARCHAR(64)  NOT NULL,
  session_id      VARCHAR(64)  NOT NULL,
  agent_id        VARCHAR(64)  NOT NULL,
  scenario        VARCHAR(32)  NOT NULL,
  metric          VARCHAR(48)  NOT NULL,
  value           DOUBLE       NOT NULL,
  ts              DATETIME(3)  NOT NULL,
  location        VARCHAR(128) NOT NULL,
  browser         VARCHAR(16)  NOT NULL,
  saturated       TINYINT(1)   NOT NULL DEFAULT 0,
  detail          VARCHAR(64)  NULL,
  PRIMARY KEY (id),
  -- Grafana's time-range queries: WHERE metric = ? AND ts BETWEEN ...
  KEY idx_samples_metric_ts (metric, ts),
  -- the run view: WHERE run_id = ? [AND metric = ?]
  KEY idx_samples_run_metric (run_id, metric),
  -- retention: DELETE ... WHERE ts < cutoff; overview queries over all metrics
  KEY idx_samples_ts (ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The idempotency key: a batch is stored in the same transaction as this row,
-- so a replayed batch hits the primary key and is ignored.
CREATE TABLE IF NOT EXISTS ingested_batches (
  run_id          VARCHAR(64)  NOT NULL,
  agent_id        VARCHAR(64)  NOT NULL,
  seq             INT UNSIGNED NOT NULL,
  samples         INT UNSIGNED NOT NULL,
  sessions        INT UNSIGNED NOT NULL,
  -- 'direct', or 'spool' when it was drained from the controller's spool
  via             VARCHAR(8)   NOT NULL,
  ingested_at     DATETIME(3)  NOT NULL,
  PRIMARY KEY (run_id, agent_id, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS alerts (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  rule            VARCHAR(128) NOT NULL,
  state           VARCHAR(16)  NOT NULL,
  scenario        VARCHAR(32)  NULL,
  location        VARCHAR(128) NULL,
  metric          VARCHAR(48)  NULL,
  value           DOUBLE       NULL,
  threshold       DOUBLE       NULL,
  run_id          VARCHAR(64)  NULL,
  message         VARCHAR(2000) NOT NULL,
  at              DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  KEY idx_alerts_at (at),
  KEY idx_alerts_rule_at (rule, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Long-kept 5-minute rollups (see docs/storage.md). p50/p95 are nearest-rank,
-- the same definition as packages/shared/src/percentiles.ts. `errors` counts
-- failed sessions of that scenario/location/bucket that did not produce the
-- metric although it is one of the scenario's core metrics.
CREATE TABLE IF NOT EXISTS rollups (
  metric          VARCHAR(48)  NOT NULL,
  scenario        VARCHAR(32)  NOT NULL,
  location        VARCHAR(128) NOT NULL,
  bucket_start    DATETIME(3)  NOT NULL,
  count           INT UNSIGNED NOT NULL,
  errors          INT UNSIGNED NOT NULL,
  p50             DOUBLE       NULL,
  p95             DOUBLE       NULL,
  max             DOUBLE       NULL,
  computed_at     DATETIME(3)  NOT NULL,
  PRIMARY KEY (metric, scenario, location, bucket_start),
  KEY idx_rollups_bucket (bucket_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- 5-minute buckets that received samples or session records since the rollup
-- job last computed them. `gen` grows on every touch, so the job removes a
-- bucket only if nothing arrived while it was computing it.
CREATE TABLE IF NOT EXISTS rollup_dirty (
  bucket_start    DATETIME(3)  NOT NULL,
  gen             BIGINT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (bucket_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
