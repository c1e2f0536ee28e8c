import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { DEFAULT_START_RATE, initialStartRate, nextStartDelay, type StartRateConfig } from './start-rate.js';
import { StartGate } from './start-rate-gate.js';

const cfg: StartRateConfig = { minIntervalMs: 100, maxIntervalMs: 4_000, initialIntervalMs: 500, stepMs: 100, high: 0.7, saturated: 0.85 };

describe('nextStartDelay (AIMD on the start interval)', () => {
  it.each([
    // [interval, cpu, delayMs, hold, next interval]
    ['idle: speed up by one step', 500, 0.1, 400, false, 400],
    ['idle at the fastest pace: stays there', 100, 0.0, 100, false, 100],
    ['just below high: still speeds up', 300, 0.69, 200, false, 200],
    ['at high: hold the pace', 300, 0.7, 300, false, 300],
    ['busy, below saturation: hold the pace', 800, 0.84, 800, false, 800],
    ['saturated: do not start, back off ×2', 500, 0.85, 1_000, true, 1_000],
    ['pegged: back off ×2', 1_000, 1.0, 2_000, true, 2_000],
    ['back-off is capped', 3_000, 0.95, 4_000, true, 4_000],
    ['capped interval while busy', 4_000, 0.8, 4_000, false, 4_000],
  ])('%s', (_n, intervalMs, cpu, delayMs, hold, next) => {
    expect(nextStartDelay({ intervalMs }, { cpu }, cfg)).toEqual({ delayMs, hold, state: { intervalMs: next } });
  });

  it.each([
    // [interval, cpu, own, delayMs, hold, next interval]
    ['saturated by this agent: back off', 500, 1.0, 0.9, 1_000, true, 1_000],
    ['saturated, others would keep it below the mark without us: back off', 500, 0.95, 0.2, 1_000, true, 1_000],
    ['saturated by other processes alone: holding cannot help, keep the pace', 500, 1.0, 0.1, 500, false, 500],
    ['exactly at the mark without us: keep the pace', 500, 0.95, 0.1, 500, false, 500],
    ['own share unknown: judged as ours', 500, 1.0, undefined, 1_000, true, 1_000],
    ['not saturated: own share does not matter', 500, 0.5, 0.0, 400, false, 400],
  ])('%s', (_n, intervalMs, cpu, own, delayMs, hold, next) => {
    expect(nextStartDelay({ intervalMs }, { cpu, own }, cfg)).toEqual({ delayMs, hold, state: { intervalMs: next } });
  });

  it('starts from the initial interval; the defaults leave headroom below the saturation flag (0.9)', () => {
    expect(initialStartRate(cfg)).toEqual({ intervalMs: 500 });
    expect(DEFAULT_START_RATE.saturated).toBeLessThan(0.9);
    expect(DEFAULT_START_RATE.high).toBeLessThan(DEFAULT_START_RATE.saturated);
  });

  it('a saturated stretch then calm: multiplicative back-off, additive recovery', () => {
    let state = initialStartRate(cfg);
    const trace: number[] = [];
    for (const cpu of [0.9, 0.9, 0.9, 0.5, 0.5, 0.5]) {
      const d = nextStartDelay(state, { cpu }, cfg);
      state = d.state;
      trace.push(d.delayMs);
    }
    expect(trace).toEqual([1_000, 2_000, 4_000, 3_900, 3_800, 3_700]);
  });
});

describe('StartGate', () => {
  const log = pino({ level: 'silent' });
  const fast: StartRateConfig = { minIntervalMs: 10, maxIntervalMs: 80, initialIntervalMs: 20, stepMs: 5, high: 0.7, saturated: 0.85 };

  it('spaces starts at least one interval apart, in call order', async () => {
    const gate = new StartGate({ cpu: () => 0.1, log, config: fast });
    const ac = new AbortController();
    const at: number[] = [];
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        await gate.admit(ac.signal);
        at.push(performance.now());
        order.push(i);
      }),
    );
    expect(order).toEqual([0, 1, 2, 3]);
    // intervals 15, 10, 10 ms after the first (tolerance 2 ms: Node timers may fire up to ~1 ms early, plus promise hops)
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(8);
  });

  it('holds starts while the machine is saturated, and goes ahead after maxHoldMs', async () => {
    let cpu = 0.95;
    const gate = new StartGate({ cpu: () => cpu, log, config: fast, maxHoldMs: 10_000 });
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => {
      cpu = 0.2;
    }, 150);
    await gate.admit(ac.signal);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140); // held until the CPU dropped

    const stuck = new StartGate({ cpu: () => 1, log, config: fast, maxHoldMs: 100 });
    const t1 = performance.now();
    await stuck.admit(ac.signal);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(95);
    expect(performance.now() - t1).toBeLessThan(10_000); // bounded: the run progresses (unbounded, a CPU stuck at 1 holds it forever)
  });

  it('an abort rejects the waiting start', async () => {
    const gate = new StartGate({ cpu: () => 1, log, config: fast, maxHoldMs: 60_000 });
    const ac = new AbortController();
    const p = gate.admit(ac.signal);
    setTimeout(() => ac.abort(new Error('run aborted')), 30);
    await expect(p).rejects.toThrow('run aborted');
  });
});
