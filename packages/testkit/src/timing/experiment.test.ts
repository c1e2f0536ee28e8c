import { describe, expect, it } from 'vitest';
import { runExperiment, type Arm } from './experiment.js';

function arms(log: string[]): Arm<number>[] {
  let n = 0;
  return ['ref', 'a', 'b'].map((name) => ({
    name,
    run: async () => {
      log.push(name);
      return ++n;
    },
  }));
}

describe('runExperiment', () => {
  it('interleaves the arms, alternating their order every round', async () => {
    const log: string[] = [];
    const e = await runExperiment(arms(log), { rounds: 3, busyDuring: () => 0.2 });
    expect(log).toEqual(['ref', 'a', 'b', 'b', 'a', 'ref', 'ref', 'a', 'b']);
    expect(e.used).toHaveLength(3);
    expect(e.values('a', (v) => v)).toEqual([2, 5, 8]);
    expect(e.describe()).toContain('3 round(s) of ref / a / b, interleaved, order alternating; 0 saturated');
  });

  it('repeats saturated rounds, then judges on the calm ones only', async () => {
    const busy = [0.95, 0.3, 0.97, 0.4];
    let i = 0;
    const e = await runExperiment(arms([]), { rounds: 2, busyDuring: () => busy[i++]! });
    expect(e.all.map((r) => r.saturated)).toEqual([true, false, true, false]);
    expect(e.used.map((r) => r.index)).toEqual([1, 3]);
    expect(e.describe()).toMatch(/2 saturated \(busy ≥ 90 %: 95 %, 30 %, 97 %, 40 %\), repeated and left out/);
  });

  it('stops repeating at the bound and keeps every round, saying so', async () => {
    const e = await runExperiment(arms([]), { rounds: 2, maxExtraRounds: 1, busyDuring: () => 1 });
    expect(e.all).toHaveLength(3);
    expect(e.used).toHaveLength(3);
    expect(e.describe()).toContain('kept: the machine stayed saturated through 3 rounds');
  });

  it('leaves out rounds where an arm has no value', async () => {
    const e = await runExperiment([{ name: 'x', run: async () => ({ v: undefined as number | undefined }) }], { rounds: 2, busyDuring: () => 0 });
    expect(e.values('x', (r) => r.v)).toEqual([]);
  });
});
