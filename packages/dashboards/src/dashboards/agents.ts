import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { sql } from '../sql/sql-snippets.js';
import { COUNT_UNIT, dashboardLinks, Grid, QueryRegistry, SHARE_UNIT, TAGS, tbl, ts, type GeneratedDashboard } from './panels.js';
import { DASHBOARD_UIDS } from './uids.js';
import { anyOf, locationVar } from './variables.js';

export function agentsDashboard(): GeneratedDashboard {
  const q = new QueryRegistry(DASHBOARD_UIDS.agents);
  const g = new Grid();
  const d = new DashboardBuilder('userprobe — agent health')
    .uid(DASHBOARD_UIDS.agents)
    .tags(TAGS)
    .timezone('utc')
    .time({ from: 'now-24h', to: 'now' })
    .refresh('1m')
    .link(dashboardLinks())
    .withVariable(locationVar())
    .withPanel(
      g.place(
        tbl('Agents')
          .description('Every agent seen in the time range: runs joined, sessions, failures, share of samples taken while its CPU was saturated.')
          .overrideByName('saturated', [{ id: 'unit', value: SHARE_UNIT }])
          .withTarget(
            q.query(
              'Agents',
              sql`
      SELECT ra.agent_id, MAX(ra.name) AS name, MAX(ra.location) AS location, COUNT(DISTINCT ra.run_id) AS runs,
             MAX(ra.joined_at) AS last_joined,
             (SELECT COUNT(*) FROM sessions s WHERE s.agent_id = ra.agent_id AND $__timeFilter(s.ended_at)) AS sessions,
             (SELECT COUNT(*) FROM sessions s WHERE s.agent_id = ra.agent_id AND s.status <> 'ok' AND $__timeFilter(s.ended_at)) AS failed,
             (SELECT AVG(sa.saturated) FROM samples sa WHERE sa.agent_id = ra.agent_id AND $__timeFilter(sa.ts)) AS saturated
        FROM run_agents ra
       WHERE $__timeFilter(ra.joined_at) AND ${anyOf('location', 'ra.location')}
       GROUP BY ra.agent_id
       ORDER BY location, name`,
              'table',
              ['agent_id', 'name', 'location', 'runs', 'last_joined', 'sessions', 'failed', 'saturated'],
            ),
          ),
        24,
        8,
      ),
    )
    .withPanel(
      g.place(
        ts('Samples taken while saturated, per agent', SHARE_UNIT)
          .min(0)
          .max(1)
          .description(
            "Share of each agent's samples taken while its CPU was saturated: an agent whose CPU is saturated inflates its timings; its samples are flagged.",
          )
          .withTarget(
            q.query(
              'Samples taken while saturated, per agent',
              sql`
      SELECT $__timeGroupAlias(ts, $__interval), agent_id AS metric, AVG(saturated) AS saturated
        FROM samples
       WHERE $__timeFilter(ts) AND ${anyOf('location', 'location')}
       GROUP BY 1, 2
       ORDER BY 1`,
              'time_series',
              ['saturated'],
            ),
          ),
        12,
        8,
      ),
    )
    .withPanel(
      g.place(
        ts('Failed sessions per agent', COUNT_UNIT)
          .min(0)
          .withTarget(
            q.query(
              'Failed sessions per agent',
              sql`
      SELECT $__timeGroupAlias(ended_at, $__interval), agent_id AS metric, SUM(status <> 'ok') AS failed
        FROM sessions
       WHERE $__timeFilter(ended_at) AND ${anyOf('location', 'location')}
       GROUP BY 1, 2
       ORDER BY 1`,
              'time_series',
              ['failed'],
            ),
          ),
        12,
        8,
      ),
    )
    .withPanel(
      g.place(
        ts('Batches ingested per agent (direct / via the controller spool)', COUNT_UNIT)
          .min(0)
          .description("`spool` batches were acknowledged from the controller's disk spool while MySQL was unreachable and written later.")
          .withTarget(
            q.query(
              'Batches ingested per agent (direct / via the controller spool)',
              sql`
      SELECT $__timeGroupAlias(ingested_at, $__interval), CONCAT(agent_id, ' ', via) AS metric, COUNT(*) AS batches
        FROM ingested_batches
       WHERE $__timeFilter(ingested_at)
       GROUP BY 1, 2
       ORDER BY 1`,
              'time_series',
              ['batches'],
            ),
          ),
        12,
        8,
      ),
    )
    .withPanel(
      g.place(
        tbl('Failing steps per agent').withTarget(
          q.query(
            'Failing steps per agent',
            sql`
      SELECT agent_id, location, scenario, failed_step, error_code, COUNT(*) AS sessions, MAX(ended_at) AS last_seen
        FROM sessions
       WHERE $__timeFilter(ended_at) AND status <> 'ok' AND ${anyOf('location', 'location')}
       GROUP BY agent_id, location, scenario, failed_step, error_code
       ORDER BY sessions DESC`,
            'table',
            ['agent_id', 'location', 'scenario', 'failed_step', 'error_code', 'sessions', 'last_seen'],
          ),
        ),
        12,
        8,
      ),
    );
  return { file: 'agents.json', dashboard: d.build(), expectations: q.expectations };
}
