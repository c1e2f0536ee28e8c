import { describe, it, expect } from 'vitest';
import { PlanError, ERROR_CODES, type Capacity } from '@userprobe/shared';
import { planRun, type PlanAgent } from './planner.js';

const cap = (chat: number, video = 0, cob = 0): Capacity => ({ 'chat-load': chat, 'video-call': video, cobrowse: cob });
const agent = (agentId: string, c: Capacity, name = agentId): PlanAgent => ({ agentId, name, capacity: c });
const shares = (r: ReturnType<typeof planRun>) => Object.fromEntries(r.map((s) => [s.agentId, s.sessions]));

describe('planRun', () => {
  const table: { name: string; total: number; agents: PlanAgent[]; want: Record<string, number>; scenario?: 'chat-load' | 'video-call' }[] = [
    { name: '6 over 2 equal agents → 3/3', total: 6, agents: [agent('a', cap(10)), agent('b', cap(10))], want: { a: 3, b: 3 } },
    { name: 'single agent takes all', total: 7, agents: [agent('a', cap(7))], want: { a: 7 } },
    { name: 'uneven capacities 30/10, total 8 → 6/2', total: 8, agents: [agent('a', cap(30)), agent('b', cap(10))], want: { a: 6, b: 2 } },
    {
      name: 'uneven 20/10/10, total 10 → 5/3/2 (remainder tie → smaller id)',
      total: 10,
      agents: [agent('a', cap(20)), agent('b', cap(10)), agent('c', cap(10))],
      want: { a: 5, b: 3, c: 2 },
    },
    { name: 'odd total over equal agents: remainder to smaller id', total: 7, agents: [agent('b', cap(5)), agent('a', cap(5))], want: { a: 4, b: 3 } },
    {
      name: '1 session over 3 equal agents → first id',
      total: 1,
      agents: [agent('z', cap(4)), agent('m', cap(4)), agent('c', cap(4))],
      want: { c: 1, m: 0, z: 0 },
    },
    {
      name: 'largest remainder wins: caps 5/3/2, total 5 → 2.5/1.5/1 → 3/1/1',
      total: 5,
      agents: [agent('a', cap(5)), agent('b', cap(3)), agent('c', cap(2))],
      want: { a: 3, b: 1, c: 1 },
    },
    {
      name: 'caps 1/1/8, total 3 → 0.3/0.3/2.4 → 0/0/3 (largest remainder)',
      total: 3,
      agents: [agent('a', cap(1)), agent('b', cap(1)), agent('c', cap(8))],
      want: { a: 0, b: 0, c: 3 },
    },
    {
      name: 'caps 1/1/8, total 5 → 0.5/0.5/4 → 1/0/4 (tie → smaller id)',
      total: 5,
      agents: [agent('b', cap(1)), agent('a', cap(1)), agent('c', cap(8))],
      want: { a: 1, b: 0, c: 4 },
    },
    { name: 'full cluster: total equals capacity', total: 13, agents: [agent('a', cap(6)), agent('b', cap(7))], want: { a: 6, b: 7 } },
    { name: 'capacity 0 for the scenario gets nothing', total: 4, agents: [agent('a', cap(0, 2)), agent('b', cap(4))], want: { a: 0, b: 4 } },
    {
      name: 'scenario capacity is used, not chat',
      total: 3,
      scenario: 'video-call',
      agents: [agent('a', cap(50, 1)), agent('b', cap(0, 2))],
      want: { a: 1, b: 2 },
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = planRun({ total: t.total, scenario: t.scenario ?? 'chat-load', agents: t.agents });
      expect(shares(r)).toEqual(t.want);
      expect(r.map((s) => s.agentId)).toEqual([...r.map((s) => s.agentId)].sort());
      expect(r.reduce((s, a) => s + a.sessions, 0)).toBe(t.total);
      for (const s of r) expect(s.sessions).toBeLessThanOrEqual(s.capacity);
    });
  }

  it('never exceeds capacity and always sums to total (exhaustive small grid)', () => {
    for (let c1 = 0; c1 <= 6; c1++)
      for (let c2 = 0; c2 <= 6; c2++)
        for (let c3 = 0; c3 <= 3; c3++) {
          const agents = [agent('a', cap(c1)), agent('b', cap(c2)), agent('c', cap(c3))];
          for (let total = 1; total <= c1 + c2 + c3; total++) {
            const r = planRun({ total, scenario: 'chat-load', agents });
            expect(r.reduce((s, a) => s + a.sessions, 0)).toBe(total);
            for (const s of r) expect(s.sessions).toBeLessThanOrEqual(s.capacity);
          }
        }
  });

  it('refuses a total above the cluster capacity, naming each agent', () => {
    const run = () => planRun({ total: 50, scenario: 'chat-load', agents: [agent('id-b', cap(20), 'agent-b'), agent('id-a', cap(20), 'agent-a')] });
    expect(run).toThrow(PlanError);
    expect(run).toThrow("total 50 exceeds the cluster's chat-load capacity 40: agent-a 20, agent-b 20");
  });

  it('refuses when every agent has capacity 0 for the scenario', () => {
    expect(() => planRun({ total: 1, scenario: 'cobrowse', agents: [agent('a', cap(5))] })).toThrow("total 1 exceeds the cluster's cobrowse capacity 0: a 0");
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses total %s', (total) => {
    try {
      planRun({ total, scenario: 'chat-load', agents: [agent('a', cap(5))] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlanError);
      expect((e as PlanError).message).toMatch(/total must be a whole number of sessions ≥ 1/);
    }
  });

  it('refuses with no agents', () => {
    try {
      planRun({ total: 3, scenario: 'chat-load', agents: [] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PlanError);
      expect((e as PlanError).code).toBe(ERROR_CODES.AGENTS_MISSING);
    }
  });
});
