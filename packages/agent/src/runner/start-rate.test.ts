import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { DEFAULT_SETTLED, DEFAULT_START_RATE, initialStartRate, nextStartDelay, settledCap, type StartRateConfig } from './start-rate.js';
import type { SettledReading } from '../host/settled-load.js';
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

describe('settledCap (how many sessions fit once settled, under `high`)', () => {
  const high = 0.7;
  it.each<[string, SettledReading, number | null]>([
    // 20 sessions take 35 % of the machine, all of it the agent's: 1.75 % each → 0.7 / 0.0175 = 40
    ['the agent alone: sessions × high ÷ own', { cpu: 0.35, own: 0.35, sessions: 20 }, 40],
    ['others take their share first: (0.7 − 0.1) ÷ 0.0175 = 34.3 → 34', { cpu: 0.45, own: 0.35, sessions: 20 }, 34],
    ['already past the mark: fewer than run now', { cpu: 0.95, own: 0.95, sessions: 100 }, 73],
    ['growth is bounded: at most maxGrowth × the sessions read', { cpu: 0.05, own: 0.05, sessions: 10 }, 20],
    ['nothing measurable used: the growth bound', { cpu: 0, own: 0, sessions: 3 }, 6],
    ['never below one session', { cpu: 0.69, own: 0.5, sessions: 1 }, 1],
    ['own share unknown: all of the machine counts as the sessions’', { cpu: 0.5, sessions: 10 }, 14],
    ['others at othersMax or more (elastic, competing): no cap', { cpu: 1, own: 0.6, sessions: 4 }, null],
    ['no session read: no cap', { cpu: 0.2, own: 0.2, sessions: 0 }, null],
  ])('%s', (_why, reading, cap) => {
    expect(settledCap(reading, high, DEFAULT_SETTLED)).toBe(cap);
  });
  it('the defaults: sessions settle 15 s after their start, read over 20 s, growth 2×, no cap with others ≥ 30 %', () => {
    expect(DEFAULT_SETTLED).toEqual({ settleMs: 15_000, windowMs: 20_000, maxGrowth: 2, othersMax: 0.3 });
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
    expect(performance.now() - t1).toBeLessThan(2_000); // bounded: the run progresses
  });

  it('an abort rejects the waiting start', async () => {
    const gate = new StartGate({ cpu: () => 1, log, config: fast, maxHoldMs: 60_000 });
    const ac = new AbortController();
    const p = gate.admit(ac.signal);
    setTimeout(() => ac.abort(new Error('run aborted')), 30);
    await expect(p).rejects.toThrow('run aborted');
  });

  it('the settled cap holds starts while as many run as fit, with no time limit, until one ends; forgotten when none runs', async () => {
    let live = 4;
    const asked: number[] = [];
    // a reading once asked: 4 sessions take 50 % of the machine → 0.7 × 4 / 0.5 = 5.6 → 5 fit
    const gate = new StartGate({
      cpu: () => 0.3,
      log,
      config: fast,
      maxHoldMs: 50,
      live: () => live,
      settled: (since) => {
        asked.push(since);
        return { cpu: 0.5, own: 0.5, sessions: 4 };
      },
    });
    const ac = new AbortController();
    await gate.admit(ac.signal); // 4 < 5: starts
    expect(gate.settledCap).toBe(5);
    expect(asked[0]).toBe(Number.POSITIVE_INFINITY); // no start before: every running session has settled
    live = 5;
    let started = false;
    const next = gate.admit(ac.signal).then(() => (started = true));
    await new Promise((r) => setTimeout(r, 300)); // far past maxHoldMs: this hold has no limit
    expect(started).toBe(false);
    live = 4; // a session ended
    await next;
    expect(started).toBe(true);
    expect(asked.at(-1)!).toBeLessThan(5_000); // measured from the gate's last start

    live = 0; // the stretch of work ended: the cap is forgotten
    await gate.admit(ac.signal);
    expect(gate.settledCap).toBeNull();
  });

  it('without a reading of settled sessions the gate paces by CPU alone; an abort ends a cap hold', async () => {
    const gate = new StartGate({ cpu: () => 0.1, log, config: fast, live: () => 50, settled: () => undefined });
    const ac = new AbortController();
    await gate.admit(ac.signal);
    expect(gate.settledCap).toBeNull();

    const capped = new StartGate({ cpu: () => 0.1, log, config: fast, live: () => 9, settled: () => ({ cpu: 0.8, own: 0.8, sessions: 9 }) }); // 0.7 × 9 / 0.8 = 7.9 → 7
    const p = capped.admit(ac.signal);
    setTimeout(() => ac.abort(new Error('run aborted')), 30);
    await expect(p).rejects.toThrow('run aborted');
    expect(capped.settledCap).toBe(7);
  });
});
