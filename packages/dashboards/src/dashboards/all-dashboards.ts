import { agentsDashboard } from './agents.js';
import { monitorDashboard } from './monitor.js';
import { overviewDashboard } from './overview.js';
import type { GeneratedDashboard } from './panels.js';
import { runDashboard } from './run.js';

export type { GeneratedDashboard };

/** Every dashboard under grafana/dashboards/, with the expectations of its queries. */
export function allDashboards(): GeneratedDashboard[] {
  return [overviewDashboard(), runDashboard(), agentsDashboard(), monitorDashboard()];
}
