import { describe, expect, it } from 'vitest';
import { SETTLED_MARK_EVERY_MS, SettledLoad, settledReading, type LoadMark } from './settled-load.js';

const cfg = { settleMs: 15_000, windowMs: 20_000 };
/** A mark at `at` s: the machine's CPU times so far (2 cores: 2,000 ms of total per second), busy ms, own ms, sessions. */
const mark = (at: number, busy: number, ownMs: number | undefined, sessions: number): LoadMark => ({
  at: at * 1000,
  times: { busy, total: at * 2000 },
  ownMs,
  sessions,
});

describe('settledReading (the load over a window of settled sessions)', () => {
  // marks every 5 s from 0 to 40 s; over 20 → 40 s the machine was busy 16,000 of 40,000 ms, the agent 12,000
  const marks = [0, 5, 10, 15, 20, 25, 30, 35, 40].map((t) =>
    mark(t, t <= 20 ? t * 500 : 10_000 + (t - 20) * 800, t <= 20 ? t * 300 : 6_000 + (t - 20) * 600, t >= 30 ? 9 : 10),
  );
  it.each<[string, number, ReturnType<typeof settledReading>]>([
    ['the last start long ago: the newest 20 s window, the fewer sessions of its ends', Number.POSITIVE_INFINITY, { cpu: 0.4, own: 0.3, sessions: 9 }],
    ['the last start 35 s before the last mark: its session settled at 20 s, the window starts there', 35_000, { cpu: 0.4, own: 0.3, sessions: 9 }],
    ['the last start 34 s before: the window would begin before that session settled', 34_000, undefined],
    ['a start 10 s ago: nothing settled to read', 10_000, undefined],
  ])('%s', (_why, since, want) => {
    const r = settledReading(marks, since, cfg);
    if (want === undefined) expect(r).toBeUndefined();
    else {
      expect(r!.cpu).toBeCloseTo(want.cpu, 6);
      expect(r!.own).toBeCloseTo(want.own!, 6);
      expect(r!.sessions).toBe(want.sessions);
    }
  });
  it('no window yet (marks span less than windowMs), no session at an end, or the own time unknown', () => {
    expect(settledReading(marks.slice(0, 4), Number.POSITIVE_INFINITY, cfg)).toBeUndefined();
    expect(settledReading([mark(0, 0, 0, 0), mark(20, 8_000, 4_000, 3)], Number.POSITIVE_INFINITY, cfg)).toBeUndefined();
    expect(settledReading([mark(0, 0, 0, 3), mark(20, 8_000, 4_000, 0)], Number.POSITIVE_INFINITY, cfg)).toBeUndefined();
    const r = settledReading([mark(0, 0, undefined, 3), mark(20, 8_000, 4_000, 3)], Number.POSITIVE_INFINITY, cfg);
    expect(r).toEqual({ cpu: 0.2, own: undefined, sessions: 3 });
    expect(settledReading([], Number.POSITIVE_INFINITY, cfg)).toBeUndefined();
  });
});

describe('SettledLoad', () => {
  it('marks when asked, at most every SETTLED_MARK_EVERY_MS, and counts the last start from now, not from the last mark', () => {
    let now = 0;
    let busy = 0;
    let reads = 0;
    const load = new SettledLoad({
      sessions: () => 4,
      ownCpuMs: () => {
        reads += 1;
        return busy / 2;
      },
      now: () => now,
      times: () => ({ busy, total: now * 2 }),
    });
    const ask = (since: number) => load.read(since, cfg);
    expect(ask(Number.POSITIVE_INFINITY)).toBeUndefined(); // one mark
    for (let t = 1_000; t <= 20_000; t += 1_000) {
      now = t;
      busy = t; // half the machine busy
      ask(Number.POSITIVE_INFINITY);
    }
    expect(reads).toBe(1 + 20_000 / SETTLED_MARK_EVERY_MS); // marks at 0, 5, 10, 15, 20 s
    now = 21_000;
    busy = 21_000;
    // asked at 21 s, the last mark at 20 s: a start 36 s before now was at −15 s, so its session settled at 0 s, when
    // the window (0 → 20 s) begins: readable. One 35.5 s before now settled at 0.5 s, inside the window: not.
    expect(ask(36_000)).toEqual({ cpu: 0.5, own: 0.25, sessions: 4 });
    expect(ask(35_500)).toBeUndefined();
  });
});
