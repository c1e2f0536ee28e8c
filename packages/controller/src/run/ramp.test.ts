import { describe, it, expect } from 'vitest';
import { startOffsets, assignSessions, sessionId } from './ramp.js';
import type { AgentShare } from './planner.js';

const share = (agentId: string, sessions: number): AgentShare => ({ agentId, name: agentId, capacity: 100, sessions });
const compact = (m: Map<string, { sessionId: string; startOffsetMs: number }[]>) =>
  Object.fromEntries([...m].map(([k, v]) => [k, v.map((s) => `${s.sessionId}@${s.startOffsetMs}`)]));

describe('startOffsets', () => {
  it.each([
    [4, 1000, [0, 250, 500, 750]],
    [3, 1000, [0, 333, 666]],
    [5, 0, [0, 0, 0, 0, 0]],
    [1, 30_000, [0]],
    [0, 1000, []],
  ])('%i sessions over %i ms', (n, ramp, want) => {
    expect(startOffsets(n, ramp)).toEqual(want);
  });
  it('rejects a negative ramp', () => expect(() => startOffsets(2, -1)).toThrow(RangeError));
});

describe('sessionId', () => {
  it.each([
    [0, 6, 's0001'],
    [9, 10, 's0010'],
    [0, 12345, 's00001'],
    [12344, 12345, 's12345'],
  ])('index %i of %i → %s', (i, n, want) => expect(sessionId(i, n)).toBe(want));
});

describe('assignSessions', () => {
  it('3/3 interleaves a,b,a,b,a,b over the ramp', () => {
    expect(compact(assignSessions([share('a', 3), share('b', 3)], 6000))).toEqual({
      a: ['s0001@0', 's0003@2000', 's0005@4000'],
      b: ['s0002@1000', 's0004@3000', 's0006@5000'],
    });
  });
  it('uneven 4/2 spreads the smaller share over the whole ramp', () => {
    // positions a: .75 2.25 3.75 5.25; b: 1.5 4.5
    expect(compact(assignSessions([share('a', 4), share('b', 2)], 600))).toEqual({
      a: ['s0001@0', 's0003@200', 's0004@300', 's0006@500'],
      b: ['s0002@100', 's0005@400'],
    });
  });
  it('zero ramp: everyone starts at 0', () => {
    expect(compact(assignSessions([share('a', 2), share('b', 1)], 0))).toEqual({
      a: ['s0001@0', 's0003@0'],
      b: ['s0002@0'],
    });
  });
  it('an agent with a zero share gets an empty list', () => {
    expect(compact(assignSessions([share('a', 2), share('b', 0)], 100))).toEqual({ a: ['s0001@0', 's0002@50'], b: [] });
  });
  it('every global session is assigned exactly once', () => {
    const m = assignSessions([share('a', 7), share('b', 5), share('c', 1)], 13_000);
    const ids = [...m.values()]
      .flat()
      .map((s) => s.sessionId)
      .sort();
    expect(ids).toEqual(Array.from({ length: 13 }, (_, i) => sessionId(i, 13)));
    for (const list of m.values()) {
      const offs = list.map((s) => s.startOffsetMs);
      expect(offs).toEqual([...offs].sort((x, y) => x - y));
    }
  });
});
