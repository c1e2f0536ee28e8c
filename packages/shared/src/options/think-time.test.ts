import { describe, it, expect } from 'vitest';
import { ConfigError } from '../errors.js';
import { parseThinkTime } from './think-time.js';

describe('parseThinkTime', () => {
  it.each([
    ['20s', { minMs: 20_000, maxMs: 20_000 }],
    ['10s-30s', { minMs: 10_000, maxMs: 30_000 }],
    ['500ms-2s', { minMs: 500, maxMs: 2_000 }],
    ['0', { minMs: 0, maxMs: 0 }],
    [1500, { minMs: 1500, maxMs: 1500 }],
    [' 5s - 5s ', { minMs: 5_000, maxMs: 5_000 }],
    ['10m', { minMs: 600_000, maxMs: 600_000 }],
  ] as const)('%j → %j', (input, want) => expect(parseThinkTime(input, '--think-time')).toEqual(want));
  it.each([
    ['', /is not a duration \(20s, 500ms, 1m; a plain number is milliseconds\) or a range MIN-MAX \(10s-30s\), each up to 10m$/],
    ['10s-', /is not a duration/],
    ['-5s', /is not a duration/],
    ['1s-2s-3s', /is not a duration/],
    ['ten', /is not a duration/],
    ['30s-10s', /the range 30s-10s ends before it starts; write MIN-MAX/],
    ['1s-11m', /at most 10m \(got 11m\)/],
  ] as const)('rejects %j, naming the flag and what is accepted', (input, why) => {
    expect(() => parseThinkTime(input, '--think-time')).toThrow(ConfigError);
    expect(() => parseThinkTime(input, '--think-time')).toThrow(why);
    expect(() => parseThinkTime(input, '--think-time')).toThrow(/^--think-time: /);
  });
});
