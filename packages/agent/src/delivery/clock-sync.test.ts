import { describe, expect, it } from 'vitest';
import { estimateOffset, toControllerTime, toLocalTime } from './clock-sync.js';

describe('estimateOffset', () => {
  it.each([
    ['no samples', [], null],
    ['one symmetric sample, controller ahead by 100', [{ t0: 1000, t1: 1010, controllerNow: 1105 }], { offsetMs: 100, rttMs: 10, samples: 1 }],
    [
      'min-RTT sample wins over a queued one',
      [
        { t0: 1000, t1: 1200, controllerNow: 1050 }, // queued: would give -50
        { t0: 2000, t1: 2004, controllerNow: 1902 }, // controller behind by 100
        { t0: 3000, t1: 3020, controllerNow: 2915 },
      ],
      { offsetMs: -100, rttMs: 4, samples: 3 },
    ],
    [
      'a sample with t1 < t0 (clock stepped) is ignored',
      [
        { t0: 10, t1: 5, controllerNow: 0 },
        { t0: 20, t1: 22, controllerNow: 21 },
      ],
      { offsetMs: 0, rttMs: 2, samples: 2 },
    ],
  ])('%s', (_name, samples, expected) => {
    expect(estimateOffset(samples)).toEqual(expected);
  });
  it('converts between the clocks', () => {
    expect(toLocalTime(5_000, 100)).toBe(4_900);
    expect(toControllerTime(4_900, 100)).toBe(5_000);
  });
});
