-- Monitoring inside the controller (controller serve --config): runs that are
-- rounds of a check carry its name (NULL: a load test), and every round's
-- decision per check, location and slot is a row of monitor_rounds, gaps
-- ("no agent in nyc1"), skipped and missed slots included.

CREATE TABLE IF NOT EXISTS monitor_rounds (
  check_name        VARCHAR(64)   NOT NULL,
  location          VARCHAR(128)  NOT NULL,
  slot_at           DATETIME(3)   NOT NULL,
  started_at        DATETIME(3)   NULL,
  ended_at          DATETIME(3)   NOT NULL,
  -- ok | failed | gap | skipped | missed | not-run (packages/shared/src/round-report.ts)
  status            VARCHAR(16)   NOT NULL,
  run_id            VARCHAR(64)   NULL,
  scenario          VARCHAR(32)   NOT NULL,
  target_name       VARCHAR(128)  NOT NULL,
  agents            TEXT          NOT NULL,
  sessions_planned  INT UNSIGNED  NOT NULL,
  sessions_ok       INT UNSIGNED  NOT NULL,
  sessions_failed   INT UNSIGNED  NOT NULL,
  reason            VARCHAR(2000) NULL,
  failed_step       VARCHAR(64)   NULL,
  exit_code         TINYINT       NULL,
  PRIMARY KEY (check_name, location, slot_at),
  KEY idx_monitor_rounds_slot (slot_at),
  KEY idx_monitor_rounds_status (status, slot_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Last, and one statement (MySQL 8 has no ADD COLUMN IF NOT EXISTS): it applies
-- whole or not at all, so a file re-run after a failure finds it not applied.
ALTER TABLE runs ADD COLUMN check_name VARCHAR(64) NULL AFTER target_name, ADD KEY idx_runs_check (check_name, started_at);
