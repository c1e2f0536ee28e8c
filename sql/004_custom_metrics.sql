-- Metrics that custom scenario modules declare (packages/shared/src/custom-metrics.ts,
-- docs/scenario-api.md). Samples of a custom metric are ordinary rows of `samples`
-- (its name in `metric`); this table gives Grafana its unit and description.
-- The sink upserts every declaration a batch carries in the batch's transaction,
-- so the last declaration stored wins (a module may reword a description).
-- Names are global, not per run: two modules declaring one name share the row.

CREATE TABLE IF NOT EXISTS custom_metrics (
  name            VARCHAR(48)  NOT NULL,
  -- ms | count | ratio | fps | bytes (METRIC_UNITS in packages/shared/src/metrics.ts)
  unit            VARCHAR(8)   NOT NULL,
  -- core | extra
  kind            VARCHAR(8)   NOT NULL,
  description     VARCHAR(200) NOT NULL,
  updated_at      DATETIME(3)  NOT NULL,
  PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
