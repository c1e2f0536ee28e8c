import { coreMetrics, METRICS, SCENARIOS, type MetricName } from '@userprobe/shared';

/*
 * Grafana's alert rules (grafana/provisioning/alerting/rules.yaml) look at
 * monitor rounds only (runs.check_name set: `controller serve --config`), per
 * check × location. Change a value here, regenerate (grafana/README.md) and
 * commit the regenerated files.
 */

/**
 * The delay above which Grafana alerts, per core "ms" metric: the mean of the
 * 5-minute p95 over the last ALERT_WINDOW_S, per check and location.
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

/**
 * The failed-session rule: failed ÷ (ok + failed) sessions of a check's rounds
 * in a location over FAILED_WINDOW_S (aborted sessions are neither) above
 * FAILED_SHARE_THRESHOLD, for FAILED_FOR. A check × location with fewer than
 * FAILED_MIN_SESSIONS sessions in the window is not judged (one failed round
 * of an hourly check is the controller's alert engine's call, round by round).
 */
export const FAILED_SHARE_THRESHOLD = 0.2;
export const FAILED_WINDOW_S = 1_800;
export const FAILED_MIN_SESSIONS = 3;
export const FAILED_FOR = '5m';

/**
 * The "measures nothing" rule: no round of a check in a location measured
 * anything (a session that ended ok or failed) in the last
 * MEASURES_NOTHING_WINDOW_S — only gaps, skipped, missed or not-run slots —
 * for MEASURES_NOTHING_FOR; and no round recorded at all (no data) alerts
 * too. A check whose interval is longer than the window has no rounds in most
 * windows: keep the window above the longest interval.
 */
export const MEASURES_NOTHING_WINDOW_S = 1_800;
export const MEASURES_NOTHING_FOR = '5m';

export const RULE_GROUP_INTERVAL = '1m';

/** Every core ms metric of every scenario, once. */
export function alertedMetrics(): MetricName[] {
  const set = new Set<MetricName>();
  for (const s of SCENARIOS) for (const m of coreMetrics(s)) if (METRICS[m].unit === 'ms') set.add(m);
  return [...set];
}
