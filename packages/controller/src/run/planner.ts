import { PlanError, ERROR_CODES, type Capacity, type ScenarioName } from '@userprobe/shared';

/*
 * The run planner: N sessions (cluster-wide) × agents with per-scenario
 * capacity → per-agent shares. Pure: no network, no clock.
 *
 * Shares are proportional to capacity by the largest-remainder method, computed
 * in integers (no floating-point drift); equal remainders go to the smaller
 * agentId. A share never exceeds its agent's capacity.
 */

export interface PlanAgent {
  readonly agentId: string;
  readonly name: string;
  readonly capacity: Capacity;
}

export interface PlanInput {
  readonly total: number;
  readonly scenario: ScenarioName;
  readonly agents: readonly PlanAgent[];
}

export interface AgentShare {
  readonly agentId: string;
  readonly name: string;
  /** This agent's capacity for the run's scenario. */
  readonly capacity: number;
  /** Sessions assigned to it (may be 0). */
  readonly sessions: number;
}

function byAgentId(a: { agentId: string }, b: { agentId: string }): number {
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}

/** Shares in agentId order, one per agent (zero shares included). Throws PlanError. */
export function planRun(input: PlanInput): AgentShare[] {
  const { total, scenario } = input;
  if (!Number.isInteger(total) || total < 1) {
    throw new PlanError(`total must be a whole number of sessions ≥ 1 (cluster-wide), got ${String(total)}`, {
      code: ERROR_CODES.CONFIG_INVALID,
    });
  }
  if (input.agents.length === 0) {
    throw new PlanError(`no agents to plan ${total} ${scenario} session(s) on; start agents or use --local-agents`, {
      code: ERROR_CODES.AGENTS_MISSING,
    });
  }
  const agents = [...input.agents].sort(byAgentId);
  const caps = agents.map((a) => a.capacity[scenario]);
  const clusterCap = caps.reduce((s, c) => s + c, 0);
  if (total > clusterCap) {
    const each = agents.map((a, i) => `${a.name} ${caps[i]!}`).join(', ');
    throw new PlanError(`total ${total} exceeds the cluster's ${scenario} capacity ${clusterCap}: ${each}`, {
      detail: { total, scenario, capacity: clusterCap, agents: agents.map((a, i) => ({ agentId: a.agentId, name: a.name, capacity: caps[i]! })) },
    });
  }
  // quota_i = total * cap_i / clusterCap = floor_i + rem_i / clusterCap, all integers.
  const floors = caps.map((c) => Math.floor((total * c) / clusterCap));
  const rems = caps.map((c) => (total * c) % clusterCap);
  let left = total - floors.reduce((s, f) => s + f, 0);
  const order = agents.map((a, i) => ({ i, agentId: a.agentId, rem: rems[i]! })).sort((x, y) => y.rem - x.rem || byAgentId(x, y));
  const sessions = [...floors];
  for (const o of order) {
    if (left === 0) break;
    // rem > 0 implies floor < quota ≤ capacity, so +1 stays within capacity.
    if (o.rem === 0) break;
    sessions[o.i]! += 1;
    left -= 1;
  }
  return agents.map((a, i) => ({ agentId: a.agentId, name: a.name, capacity: caps[i]!, sessions: sessions[i]! }));
}
