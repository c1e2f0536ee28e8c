/*
 * Which agents of a location carry a round: pure. Agents of the location
 * that are connected and have free capacity for the check's scenario are
 * taken in a fixed order (by id), starting after the one the previous round
 * of this check and location started with, so over consecutive rounds every
 * agent of the location is used. A location with no agent, or none with room,
 * is a gap: recorded, and it stops nothing else.
 */

export interface RotationAgent {
  readonly agentId: string;
  readonly name: string;
  /** Sessions of the check's scenario this agent can take now (capacity minus what rounds hold). */
  readonly free: number;
}

export interface AgentPick {
  readonly agentId: string;
  readonly name: string;
  readonly sessions: number;
}

export type RotationResult =
  | { readonly kind: 'picked'; readonly agents: readonly AgentPick[]; readonly sessions: number; readonly cursor: string }
  | { readonly kind: 'gap'; readonly reason: string };

/**
 * Give `sessions` to the location's agents: each picked agent takes what it
 * has room for, beginning with the agent after `cursor` (the id the previous
 * round began with). A round short of room takes what fits and says so.
 */
export function pickAgents(p: { location: string; agents: readonly RotationAgent[]; sessions: number; cursor: string | null }): RotationResult {
  if (p.agents.length === 0) return { kind: 'gap', reason: `no agent in ${p.location}` };
  const ordered = [...p.agents].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  // The first agent after the cursor in id order (the cursor's agent may have left since), wrapping around.
  const next = p.cursor === null ? 0 : ordered.findIndex((a) => a.agentId > p.cursor!);
  const start = next < 0 ? 0 : next;
  const rotated = [...ordered.slice(start), ...ordered.slice(0, start)].filter((a) => a.free > 0);
  if (rotated.length === 0) {
    return { kind: 'gap', reason: `no free capacity in ${p.location} (${ordered.length} agent(s) connected, all busy)` };
  }
  const picks: AgentPick[] = [];
  let left = p.sessions;
  for (const a of rotated) {
    if (left === 0) break;
    const n = Math.min(a.free, left);
    picks.push({ agentId: a.agentId, name: a.name, sessions: n });
    left -= n;
  }
  return { kind: 'picked', agents: picks, sessions: p.sessions - left, cursor: picks[0]!.agentId };
}
