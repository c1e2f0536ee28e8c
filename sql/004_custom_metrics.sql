-- Metrics that custom scenario modules declare (packages/shared/src/custom-metrics.ts,
-- docs/scenario-api.md). Samples of a custom metric are ordinary rows of `samples`
-- (its name in `metric`); this table gives Grafana its unit and description.
-- One row per run and metric: each run keeps the unit and meaning its own module gave
-- (another module, or a later version, may declare the same name differently). The sink
-- upserts every declaration a batch carries in the batch's transaction (the run's batches
-- carry the same declarations; the last stored wins). A name the catalog defines is never
-- stored here: the catalog wins.

CREATE TABLE IF NOT EXISTS custom_metrics (
  run_id          VARCHAR(64)  NOT NULL,
  name            VARCHAR(48)  NOT NULL,
  -- ms | count | ratio | fps | bytes (METRIC_UNITS in packages/shared/src/metrics.ts)
  unit            VARCHAR(8)   NOT NULL,
  -- core | extra
  kind            VARCHAR(8)   NOT NULL,
  description     VARCHAR(200) NOT NULL,
  updated_at      DATETIME(3)  NOT NULL,
  PRIMARY KEY (run_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
