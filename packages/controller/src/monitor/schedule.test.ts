import { describe, expect, it } from 'vitest';
import { checkPhaseMs, decideSlot, gridOf, missedSlots, nextSlot, slotAfter, slotLateLimitMs } from './schedule.js';

describe('schedule grid', () => {
  it('draws each check a stable phase within its interval, different per check', () => {
    const phases = ['chat', 'cobrowse', 'video', 'chat-ams', 'chat-nyc'].map((n) => checkPhaseMs(n, 300_000));
    for (const p of phases) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(300_000);
    }
    expect(new Set(phases).size).toBe(phases.length);
    expect(checkPhaseMs('chat', 300_000)).toBe(phases[0]);
  });

  it.each([
    // [interval, phase, now, next]
    [10_000, 3_000, 0, 3_000],
    [10_000, 3_000, 3_000, 3_000],
    [10_000, 3_000, 3_001, 13_000],
    [10_000, 0, 1_700_000_000_123, 1_700_000_010_000],
    [60_000, 59_999, 60_000, 119_999],
  ])('interval %i phase %i: at %i the next slot is %i', (intervalMs, phaseMs, now, next) => {
    expect(nextSlot({ intervalMs, phaseMs }, now)).toBe(next);
  });

  it('keeps to the grid whatever a round took: slot k+1 is slot k plus the interval', () => {
    const g = gridOf('chat', 5_000);
    const s0 = nextSlot(g, 1_000_000);
    expect(slotAfter(g, s0)).toBe(s0 + 5_000);
    expect(nextSlot(g, s0 + 4_321)).toBe(s0 + 5_000);
  });
});

describe('decideSlot', () => {
  const I = 10_000; // a 10 s check: a slot may start up to 2.5 s late
  it.each([
    ['on time', { slotAt: 1000, now: 1000, intervalMs: I, previousRunning: false, paused: false }, { kind: 'start' }],
    ['a stall of 1.2 s: still started', { slotAt: 1000, now: 2200, intervalMs: I, previousRunning: false, paused: false }, { kind: 'start' }],
    ['late up to the limit: started', { slotAt: 1000, now: 3500, intervalMs: I, previousRunning: false, paused: false }, { kind: 'start' }],
    ['too late: missed, not replayed', { slotAt: 1000, now: 3501, intervalMs: I, previousRunning: false, paused: false }, { kind: 'missed' }],
    [
      'previous round still running: not doubled',
      { slotAt: 1000, now: 1000, intervalMs: I, previousRunning: true, paused: false },
      { kind: 'skip', reason: 'previous-round-running' },
    ],
    [
      'previous round still running, 1.2 s late: skipped, not missed',
      { slotAt: 1000, now: 2200, intervalMs: I, previousRunning: true, paused: false },
      { kind: 'skip', reason: 'previous-round-running' },
    ],
    ['paused for a load test', { slotAt: 1000, now: 1000, intervalMs: I, previousRunning: false, paused: true }, { kind: 'skip', reason: 'paused' }],
    ['paused and late: missed', { slotAt: 1000, now: 9000, intervalMs: I, previousRunning: true, paused: true }, { kind: 'missed' }],
  ] as const)('%s', (_name, input, out) => {
    expect(decideSlot(input)).toEqual(out);
  });

  it.each([
    ['a 1 s check: at least 1 s', 1_000, 1_000],
    ['a 2 s check', 2_000, 1_000],
    ['a 10 s check: a quarter', 10_000, 2_500],
    ['a 1 min check', 60_000, 15_000],
    ['a 5 min check: at most 30 s', 300_000, 30_000],
  ])('slotLateLimitMs: %s', (_name, interval, limit) => {
    expect(slotLateLimitMs(interval)).toBe(limit);
  });

  it.each([
    [0, 0],
    [2_500, 0],
    [2_501, 1],
    [12_499, 1],
    [12_500, 2],
    [35_000, 4],
  ])('%i ms after a 10 s slot, %i slot(s) are missed', (late, n) => {
    expect(missedSlots({ intervalMs: 10_000, phaseMs: 0 }, 0, late)).toBe(n);
  });
});
