import { describe, expect, it } from 'vitest';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import { think, thinkPauseMs } from './think.js';

describe('thinkPauseMs', () => {
  it.each([
    [{ minMs: 0, maxMs: 0 }, 0.99, 0],
    [{ minMs: 20_000, maxMs: 20_000 }, 0, 20_000],
    [{ minMs: 20_000, maxMs: 20_000 }, 0.999, 20_000],
    [{ minMs: 10_000, maxMs: 30_000 }, 0, 10_000],
    [{ minMs: 10_000, maxMs: 30_000 }, 0.5, 20_000],
    [{ minMs: 10_000, maxMs: 30_000 }, 0.999_999_99, 30_000],
  ])('%j with random %d → %i ms', (t, r, want) => {
    expect(thinkPauseMs(t, () => r)).toBe(want);
  });
  it('draws every whole millisecond of the range, uniformly', () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 40_000; i++) {
      const v = thinkPauseMs({ minMs: 100, maxMs: 103 });
      seen.set(v, (seen.get(v) ?? 0) + 1);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([100, 101, 102, 103]);
    for (const n of seen.values()) expect(n).toBeGreaterThan(9_000); // 10 000 expected each
  });
});

describe('think', () => {
  it('waits the drawn pause', async () => {
    const t0 = performance.now();
    await think({ minMs: 120, maxMs: 120 }, 'think', new AbortController().signal);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(119);
  });
  it("ends at once when the session is aborted, as the session's abort", async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    setTimeout(() => ac.abort(), 50);
    const e = await think({ minMs: 60_000, maxMs: 60_000 }, 'think', ac.signal).then(
      () => null,
      (err: unknown) => err,
    );
    expect(performance.now() - t0).toBeLessThan(30_000); // the pause was 60 s; a loaded machine may take a while to get here
    expect(e).toBeInstanceOf(StepError);
    expect((e as StepError).code).toBe(ERROR_CODES.SESSION_ABORTED);
    expect((e as StepError).step).toBe('think');
  });
});
