import { describe, expect, it } from 'vitest';
import { pickAgents, type RotationAgent } from './rotation.js';

const agent = (id: string, free = 1): RotationAgent => ({ agentId: id, name: id, free });

describe('pickAgents', () => {
  it.each([
    ['no agent: a gap naming the location', [], 1, null, { kind: 'gap', reason: 'no agent in nyc1' }],
    [
      'all busy: a gap that says so',
      [agent('a', 0), agent('b', 0)],
      1,
      null,
      { kind: 'gap', reason: 'no free capacity in nyc1 (2 agent(s) connected, all busy)' },
    ],
    [
      'first round starts with the lowest id',
      [agent('b'), agent('a')],
      1,
      null,
      { kind: 'picked', agents: [{ agentId: 'a', name: 'a', sessions: 1 }], sessions: 1, cursor: 'a' },
    ],
    [
      'next round starts after the cursor',
      [agent('a'), agent('b'), agent('c')],
      1,
      'a',
      { kind: 'picked', agents: [{ agentId: 'b', name: 'b', sessions: 1 }], sessions: 1, cursor: 'b' },
    ],
    [
      'wraps around',
      [agent('a'), agent('b'), agent('c')],
      1,
      'c',
      { kind: 'picked', agents: [{ agentId: 'a', name: 'a', sessions: 1 }], sessions: 1, cursor: 'a' },
    ],
    [
      'the cursor agent left: the next one by id',
      [agent('a'), agent('c')],
      1,
      'b',
      { kind: 'picked', agents: [{ agentId: 'c', name: 'c', sessions: 1 }], sessions: 1, cursor: 'c' },
    ],
    [
      'a busy agent is passed over',
      [agent('a'), agent('b', 0), agent('c')],
      1,
      'a',
      { kind: 'picked', agents: [{ agentId: 'c', name: 'c', sessions: 1 }], sessions: 1, cursor: 'c' },
    ],
    [
      'sessions spread over agents by room',
      [agent('a', 2), agent('b', 3)],
      4,
      null,
      {
        kind: 'picked',
        agents: [
          { agentId: 'a', name: 'a', sessions: 2 },
          { agentId: 'b', name: 'b', sessions: 2 },
        ],
        sessions: 4,
        cursor: 'a',
      },
    ],
    [
      'short of room: takes what fits',
      [agent('a', 1), agent('b', 1)],
      3,
      null,
      {
        kind: 'picked',
        agents: [
          { agentId: 'a', name: 'a', sessions: 1 },
          { agentId: 'b', name: 'b', sessions: 1 },
        ],
        sessions: 2,
        cursor: 'a',
      },
    ],
  ] as const)('%s', (_n, agents, sessions, cursor, out) => {
    expect(pickAgents({ location: 'nyc1', agents, sessions, cursor })).toEqual(out);
  });

  it('uses every agent of a location over consecutive rounds', () => {
    const agents = ['x3', 'x1', 'x4', 'x2'].map((id) => agent(id));
    let cursor: string | null = null;
    const used: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = pickAgents({ location: 'ams3', agents, sessions: 1, cursor });
      if (r.kind !== 'picked') throw new Error('gap');
      used.push(r.agents[0]!.agentId);
      cursor = r.cursor;
    }
    expect(used).toEqual(['x1', 'x2', 'x3', 'x4', 'x1', 'x2', 'x3', 'x4']);
  });
});
