import { coreMetrics, METRICS, SCENARIOS, type MetricName } from '@userprobe/shared';

/**
 * The delay above which Grafana alerts, per core "ms" metric: the mean of the
 * 5-minute p95 over the last 15 minutes, per scenario and location. Change a
 * value here, regenerate (grafana/README.md) and commit the regenerated files.
 */
export const ALERT_P95_THRESHOLDS_MS: Readonly<Partial<Record<MetricName, number>>> = {
  page_load: 5_000,
  widget_load: 6_000,
  api_init: 1_500,
  api_create: 1_500,
  api_add_message: 1_500,
  crm_ws_connect: 2_000,
  msg_visitor_to_agent: 3_000,
  msg_agent_to_visitor: 3_000,
  webrtc_ws_connect: 2_000,
  call_setup: 8_000,
  first_frame_visitor: 10_000,
  first_frame_agent: 10_000,
  cobrowse_script_load: 3_000,
  cobrowse_session_established: 5_000,
  cobrowse_first_snapshot: 6_000,
  cobrowse_mirror_lag: 3_000,
};

/** Window the delay rules look at, and how long a breach must last before it fires. */
export const ALERT_WINDOW_S = 900;
export const ALERT_FOR = '10m';
/** The "monitoring is silent" rule: no session ended in this window. */
export const SILENCE_WINDOW_S = 1_800;
export const SILENCE_FOR = '5m';
export const RULE_GROUP_INTERVAL = '1m';

/** Every core ms metric of every scenario, once. */
export function alertedMetrics(): MetricName[] {
  const set = new Set<MetricName>();
  for (const s of SCENARIOS) for (const m of coreMetrics(s)) if (METRICS[m].unit === 'ms') set.add(m);
  return [...set];
}
