import { describe, expect, it } from 'vitest';
import { median, medianStandardError, pooledSigma } from './stats.js';

describe('median', () => {
  it.each([
    [[], Number.NaN],
    [[3], 3],
    [[3, 1], 2],
    [[5, 1, 3], 3],
    [[1, 100, 2, 3], 2.5],
    [[301.2, 300.9, 350, 301.0, 301.1], 301.1],
  ])('%j → %s', (xs, want) => {
    expect(median(xs)).toBe(want);
  });
});

describe('pooledSigma', () => {
  it.each([
    ['no groups', [], 0],
    ['single values carry no spread', [[5], [9]], 0],
    ['identical values', [[2, 2, 2]], 0],
    // deviations from each group's own median: |1-2|,0,|3-2| and |10-11|,0,|12-11| → median 1 → 1.4826
    [
      'two shifted groups pool their own spreads, not the shift',
      [
        [1, 2, 3],
        [10, 11, 12],
      ],
      1.4826,
    ],
    // one wild value moves the median deviation only a little: deviations 0,0,0,1,48 → 0
    ['one outlier does not widen it', [[300, 300, 301, 300, 348]], 0],
  ])('%s', (_name, groups, want) => {
    expect(pooledSigma(groups)).toBeCloseTo(want, 6);
  });
});

describe('medianStandardError', () => {
  it('shrinks with √n and is infinite without samples', () => {
    expect(medianStandardError(2, 4)).toBeCloseTo(Math.sqrt(Math.PI / 2), 9);
    expect(medianStandardError(2, 16)).toBeCloseTo(Math.sqrt(Math.PI / 2) / 2, 9);
    expect(medianStandardError(1, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
