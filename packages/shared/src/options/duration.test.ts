import { describe, it, expect } from 'vitest';
import { ConfigError } from '../errors.js';
import { parseDuration, formatDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['500ms', 500],
    ['1500', 1500],
    ['1.5s', 1500],
    ['1h', 3_600_000],
    ['0', 0],
    [' 10s ', 10_000],
    [250, 250],
  ] as const)('%s → %i ms', (input, ms) => expect(parseDuration(input, '--x')).toBe(ms));
  it.each(['', '10 seconds', '-1s', '1d', 'abc', '1e3'])('rejects %j, naming the flag and what is accepted', (input) => {
    expect(() => parseDuration(input, '--ramp-up')).toThrow(ConfigError);
    expect(() => parseDuration(input, '--ramp-up')).toThrow(/^--ramp-up: .* is not a duration such as 500ms, 30s, 2m/);
  });
  it.each([
    [500, '500ms'],
    [30_000, '30s'],
    [120_000, '2m'],
    [1500, '1500ms'],
    [3_600_000, '1h'],
  ])('formats %i as %s', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });
});
