-- The controller's alert engine (controller serve --config): the state of every
-- alert (one row per check, location and rule; location '*' = across locations),
-- kept across restarts so a restart while firing does not notify again, and its
-- transitions appended to the alerts history table of 001.

CREATE TABLE IF NOT EXISTS alert_states (
  alert_key         VARCHAR(255)  NOT NULL,
  check_name        VARCHAR(64)   NOT NULL,
  -- a location of the check, or '*' for the rule across its locations
  location          VARCHAR(128)  NOT NULL,
  -- failure | latency | no-data | dark
  kind              VARCHAR(16)   NOT NULL,
  metric            VARCHAR(48)   NULL,
  -- ok | pending | firing | resolved
  state             VARCHAR(16)   NOT NULL,
  -- degraded | failed (null while ok)
  severity          VARCHAR(16)   NULL,
  since             DATETIME(3)   NOT NULL,
  updated_at        DATETIME(3)   NOT NULL,
  last_notified_at  DATETIME(3)   NULL,
  value             DOUBLE        NULL,
  threshold         DOUBLE        NULL,
  detail            VARCHAR(2000) NULL,
  -- the engine's own bookkeeping (recent round verdicts, counters), JSON
  memory            TEXT          NOT NULL,
  PRIMARY KEY (alert_key),
  KEY idx_alert_states_check (check_name, location),
  KEY idx_alert_states_state (state, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Last, and one statement: it applies whole or not at all.
ALTER TABLE alerts ADD COLUMN check_name VARCHAR(64) NULL AFTER rule, ADD COLUMN kind VARCHAR(16) NULL AFTER check_name, ADD COLUMN severity VARCHAR(16) NULL AFTER state, ADD KEY idx_alerts_check_at (check_name, at);
