import { describe, expect, it } from 'vitest';
import { CpuMonitor, busyShare, recentCpu, saturatedDuring, type CpuReadingWindow } from './cpu-monitor.js';

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
    const m = new CpuMonitor(0.9);
    const until = Date.now() + 30;
    while (Date.now() < until) {
      /* spin so the reading is not empty */
    }
    m.sample();
    expect(m.cpu).toBeGreaterThanOrEqual(0);
    expect(m.cpu).toBeLessThanOrEqual(1);
    expect(m.memMb).toBeGreaterThan(0);
  });
});
