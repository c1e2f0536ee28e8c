import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CpuMonitor, busyShare, crowdedDuring, recentCpu, saturatedDuring, sessionsDuring, type CpuReadingWindow, type OthersWindow } from './cpu-monitor.js';

// Readings of 250 ms each, from t=0: idle, idle, pegged, pegged, idle.
const R: CpuReadingWindow[] = [
  { from: 0, to: 250, cpu: 0.2 },
  { from: 250, to: 500, cpu: 0.3 },
  { from: 500, to: 750, cpu: 1 },
  { from: 750, to: 1_000, cpu: 0.95 },
  { from: 1_000, to: 1_250, cpu: 0.1 },
];

describe('saturatedDuring (mean CPU over the measured interval ≥ threshold)', () => {
  it.each([
    ['no readings yet', [], 0, 100, false],
    ['a 150 ms call inside idle readings', R, 50, 200, false],
    ['a 150 ms call inside the pegged stretch', R, 550, 700, true],
    ['a 500 ms interval over exactly the pegged stretch', R, 500, 1_000, true],
    ['a 1 s page load with a 500 ms spike: mean 0.61', R, 0, 1_000, false],
    ['mostly pegged: 600..1100 → mean ≈ 0.81 (< 0.9)', R, 600, 1_100, false],
    ['an instant inside a pegged reading', R, 800, 800, true],
    ['an instant inside an idle reading', R, 1_100, 1_100, false],
    ['newer than the last reading: judged by the last one (idle)', R, 1_300, 1_400, false],
    ['newer than the last reading, last one pegged', R.slice(0, 4), 1_100, 1_200, true],
  ])('%s', (_n, readings, from, to, want) => {
    expect(saturatedDuring(readings, from, to, 0.9)).toBe(want);
  });
});

// The same CPU, with sessions counted: one session until 750, two from 750 to 1 000.
const S: CpuReadingWindow[] = R.map((r, i) => ({ ...r, sessions: i === 3 ? 2 : 1 }));
// Others' share per second: quiet in the first second, busy (a busy loop elsewhere) after.
const QUIET: OthersWindow[] = [{ from: 0, to: 1_000, others: 0.04 }];
const BUSY: OthersWindow[] = [...QUIET, { from: 1_000, to: 2_000, others: 0.6 }];
const LIMITS = { threshold: 0.9, othersThreshold: 0.1 };

describe('sessionsDuring (the most sessions live in an overlapping reading)', () => {
  it.each([
    ['inside a one-session reading', S, 550, 700, 1],
    ['overlapping the two-session reading', S, 700, 800, 2],
    ['newer than the last reading: the last one', S, 1_300, 1_400, 1],
    ['not counted', R, 550, 700, undefined],
    ['no readings', [], 0, 10, undefined],
  ])('%s', (_n, readings, from, to, want) => {
    expect(sessionsDuring(readings, from, to)).toBe(want);
  });
});

describe('crowdedDuring (CPU full, and something besides one session wanted it)', () => {
  it.each([
    ['CPU not full: never crowded, whatever else ran', S, BUSY, 50, 200, false],
    ['one session filled the CPU alone (others 4 %): the reference, not flagged', S, QUIET, 550, 700, false],
    ['CPU full with two sessions live', S, QUIET, 800, 900, true],
    ['one session, CPU full, others took 60 % (judged by the last window: newer than it)', S.slice(0, 3), [{ from: 0, to: 400, others: 0.6 }], 550, 700, true],
    ['others exactly at the limit', S, [{ from: 0, to: 1_000, others: 0.1 }], 550, 700, true],
    ['others unknown (no /proc): judged by the CPU alone', S, [], 550, 700, true],
    ['sessions not counted: judged by the CPU alone', R, QUIET, 550, 700, true],
  ])('%s', (_n, readings, others, from, to, want) => {
    expect(crowdedDuring(readings, others, from, to, LIMITS)).toBe(want);
  });
});

describe('recentCpu', () => {
  it.each([
    ['mean of the readings ending in the window', 1_250, 500, (0.95 + 0.1 + 1) / 3],
    ['only the last', 1_250, 100, 0.1],
    ['nothing recent: the last reading', 5_000, 100, 0.1],
  ])('%s', (_n, now, windowMs, want) => {
    expect(recentCpu(R, now, windowMs)).toBeCloseTo(want, 6);
  });
});

describe('busyShare / CpuMonitor', () => {
  it('share between two readings, clamped', () => {
    expect(busyShare({ busy: 100, total: 1_000 }, { busy: 600, total: 2_000 })).toBe(0.5);
    expect(busyShare({ busy: 0, total: 1 }, { busy: 0, total: 1 })).toBe(0);
  });
  it('takes readings of the whole machine', () => {
    const m = new CpuMonitor({ threshold: 0.9 });
    const until = Date.now() + 30;
    while (Date.now() < until) {
      /* spin so the reading is not empty */
    }
    m.sample();
    expect(m.cpu).toBeGreaterThanOrEqual(0);
    expect(m.cpu).toBeLessThanOrEqual(1);
    expect(m.memMb).toBeGreaterThan(0);
  });
  it("reads others' share each second while one session is live, every 5 s while none is, not with more", async () => {
    let live = 1;
    let reads = 0;
    const m = new CpuMonitor({
      sessions: () => live,
      ownCpuMs: () => {
        reads += 1;
        return 0; // this agent uses nothing: all busy time is others'
      },
    });
    m.sample(); // the base
    const busy = spawn(process.execPath, ['-e', 'const t=Date.now();while(Date.now()-t<6000){}']);
    try {
      await new Promise((r) => setTimeout(r, 1_100));
      m.sample(); // a second later: one window of others' share, with the busy child in it
      expect(reads).toBe(2);
      live = 0;
      await new Promise((r) => setTimeout(r, 1_100));
      m.sample();
      expect(reads).toBe(2); // none live: read every 5 s only (one live would have read now: the last read was 1.1 s ago)
      // the child is somebody else's to this monitor: with the CPU judged full (threshold 0), a lone session is crowded
      const crowded = new CpuMonitor({ threshold: 0, sessions: () => 1, ownCpuMs: () => 0 });
      crowded.sample();
      await new Promise((r) => setTimeout(r, 1_100));
      crowded.sample();
      expect(crowded.crowdedDuring(Date.now() - 500, Date.now())).toBe(true);
      live = 3;
      await new Promise((r) => setTimeout(r, 1_100));
      m.sample();
      expect(reads).toBe(2); // three live: a full CPU is crowded anyway, the tree is not read
    } finally {
      busy.kill();
    }
  });
});
