/* The Grafana generator's parts, for the tests that run its queries on MariaDB. */

export { ALERT_P95_THRESHOLDS_MS, FAILED_SHARE_THRESHOLD, MEASURES_NOTHING_WINDOW_S } from './alerting/alert-thresholds.js';
export { monitorRules } from './alerting/alert-rules.js';
export { allDashboards } from './dashboards/all-dashboards.js';
export { RAW_RANGE_MAX_S } from './dashboards/percentile-sql.js';
export { ROUND_DISPLAY } from './dashboards/monitor.js';
export { ALL, LOAD_TESTS } from './dashboards/variables.js';
export { GRAFANA_DIR, OPT_IN_POLICIES, renderAll, writeAll } from './generate.js';
export { grafanaInterpolate, interpolateMacros, type VariableValue } from './sql/macros.js';
export type { QueryExpectation } from './dashboards/panels.js';
