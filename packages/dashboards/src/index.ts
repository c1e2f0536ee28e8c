/* The Grafana generator's parts, for the tests that run its queries on MariaDB. */

export { ALERT_P95_THRESHOLDS_MS } from './alert-thresholds.js';
export { delayRules } from './alert-rules.js';
export { allDashboards } from './dashboards.js';
export { GRAFANA_DIR, renderAll, writeAll } from './generate.js';
export { grafanaInterpolate, interpolateMacros, type VariableValue } from './macros.js';
export type { QueryExpectation } from './panel-kit.js';
