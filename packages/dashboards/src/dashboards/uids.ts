/** The dashboards' uids: their URLs (`/d/<uid>`), the alert rules' links and `__dashboardUid__`. */
export const DASHBOARD_UIDS = {
  overview: 'userprobe-overview',
  run: 'userprobe-run',
  agents: 'userprobe-agents',
  monitor: 'userprobe-monitor',
} as const;
