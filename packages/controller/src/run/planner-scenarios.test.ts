import { describe, expect, it } from 'vitest';
import type { Capacity, ScenarioName } from '@userprobe/shared';
import { planRun, type PlanAgent } from './planner.js';

/*
 * The planner splits by the run's scenario's capacity: a video call costs
 * 60–70 % of a core, so an agent holds many chat or cobrowse sessions but few
 * calls. Capacities here are the agent's machine defaults (agent/src/config/config.ts
 * defaultCapacity): a 2-core, 24 GiB agent → chat-load 20, cobrowse 20,
 * video-call 2; an 8-core one → 80, 80, 10.
 */

const cap = (chat: number, video: number, cob: number): Capacity => ({ 'chat-load': chat, 'video-call': video, cobrowse: cob });
const agent = (agentId: string, c: Capacity): PlanAgent => ({ agentId, name: agentId, capacity: c });
const TWO_CORE = cap(20, 2, 20);
const EIGHT_CORE = cap(80, 10, 80);

describe('planRun by scenario capacity', () => {
  const table: Array<{ name: string; scenario: ScenarioName; total: number; agents: PlanAgent[]; want: Record<string, number> }> = [
    {
      name: 'video-call --total 2 --local-agents 2 → 1/1',
      scenario: 'video-call',
      total: 2,
      agents: [agent('a', TWO_CORE), agent('b', TWO_CORE)],
      want: { a: 1, b: 1 },
    },
    {
      name: 'cobrowse --total 6 --local-agents 2 → 3/3',
      scenario: 'cobrowse',
      total: 6,
      agents: [agent('a', TWO_CORE), agent('b', TWO_CORE)],
      want: { a: 3, b: 3 },
    },
    {
      name: 'video-call fills the cluster: 4 calls on two 2-core agents → 2/2',
      scenario: 'video-call',
      total: 4,
      agents: [agent('a', TWO_CORE), agent('b', TWO_CORE)],
      want: { a: 2, b: 2 },
    },
    {
      name: 'video-call 12 over 2-core + 8-core (2 + 10) → 2/10',
      scenario: 'video-call',
      total: 12,
      agents: [agent('a', TWO_CORE), agent('b', EIGHT_CORE)],
      want: { a: 2, b: 10 },
    },
    {
      name: 'chat-load 50 over the same two agents (chat capacity 20 + 80) → 10/40',
      scenario: 'chat-load',
      total: 50,
      agents: [agent('a', TWO_CORE), agent('b', EIGHT_CORE)],
      want: { a: 10, b: 40 },
    },
    {
      name: 'video-call 6 over caps 1/2/3 (chat equal) → 1/2/3',
      scenario: 'video-call',
      total: 6,
      agents: [agent('a', cap(20, 1, 20)), agent('b', cap(20, 2, 20)), agent('c', cap(20, 3, 20))],
      want: { a: 1, b: 2, c: 3 },
    },
    {
      name: 'an agent with video-call capacity 0 gets no call but its cobrowse share',
      scenario: 'video-call',
      total: 2,
      agents: [agent('a', cap(40, 0, 40)), agent('b', TWO_CORE)],
      want: { a: 0, b: 2 },
    },
    {
      name: '...and the same agents split cobrowse 6 by cobrowse capacity (40/20) → 4/2',
      scenario: 'cobrowse',
      total: 6,
      agents: [agent('a', cap(40, 0, 40)), agent('b', TWO_CORE)],
      want: { a: 4, b: 2 },
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = planRun({ total: t.total, scenario: t.scenario, agents: t.agents });
      expect(Object.fromEntries(r.map((s) => [s.agentId, s.sessions]))).toEqual(t.want);
      for (const s of r) expect(s.capacity).toBe(t.agents.find((a) => a.agentId === s.agentId)!.capacity[t.scenario]);
    });
  }

  it('per-scenario capacity changes the split: the same two agents and total, different scenario', () => {
    const agents = [agent('a', cap(30, 1, 30)), agent('b', cap(10, 3, 10))];
    const split = (scenario: ScenarioName): number[] => planRun({ total: 4, scenario, agents }).map((s) => s.sessions);
    expect(split('chat-load')).toEqual([3, 1]);
    expect(split('video-call')).toEqual([1, 3]);
  });

  it("refuses more calls than the cluster holds, naming each agent's video-call capacity", () => {
    expect(() => planRun({ total: 5, scenario: 'video-call', agents: [agent('a', TWO_CORE), agent('b', TWO_CORE)] })).toThrow(
      "total 5 exceeds the cluster's video-call capacity 4: a 2, b 2",
    );
  });
});
