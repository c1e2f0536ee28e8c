import { describe, expect, it } from 'vitest';
import { percentileSorted, summarize } from './percentiles.js';

describe('percentiles (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
  const table: Array<[number[], number, number]> = [
    [[5], 50, 5],
    [[5], 99, 5],
    [[1, 2], 50, 1],
    [[1, 2], 51, 2],
    [oneToHundred, 50, 50],
    [oneToHundred, 95, 95],
    [oneToHundred, 99, 99],
    [oneToHundred, 100, 100],
    [oneToHundred, 0, 1],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
  ];
  for (const [values, p, expected] of table) {
    it(`p${p} of ${values.length} values is ${expected}`, () => expect(percentileSorted(values, p)).toBe(expected));
  }
  it('rejects p outside 0..100', () => expect(() => percentileSorted([1], 101)).toThrow(RangeError));
  it('is NaN on no values', () => expect(percentileSorted([], 50)).toBeNaN());
  it('summarizes unsorted input', () => {
    expect(summarize([30, 10, 20, 40])).toEqual({ count: 4, min: 10, mean: 25, p50: 20, p90: 40, p95: 40, p99: 40, max: 40 });
    expect(summarize([])).toBeNull();
  });
});
