import { describe, expect, it } from 'vitest';
import type { MetricBatch } from '@userprobe/shared';
import { customMetricRows, samplesTsv, type SampleRow } from './rows.js';

const AT = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
const batch = (metrics?: MetricBatch['metrics']): MetricBatch => ({
  runId: 'r',
  agentId: 'a',
  seq: 1,
  createdAt: AT.getTime(),
  samples: [],
  sessions: [],
  ...(metrics === undefined ? {} : { metrics }),
});

describe('customMetricRows', () => {
  it.each([
    ['no declarations', batch(), []],
    ['an empty list', batch([]), []],
    [
      'each declaration, stamped',
      batch([
        { name: 'checkout_total', unit: 'ms', kind: 'core', description: 'Cart to confirmation' },
        { name: 'retries', unit: 'count', kind: 'extra', description: 'Retried requests' },
      ]),
      [
        ['r', 'checkout_total', 'ms', 'core', 'Cart to confirmation', AT],
        ['r', 'retries', 'count', 'extra', 'Retried requests', AT],
      ],
    ],
    [
      'a name the catalog took up since the module declared it: left out (the catalog wins)',
      batch([
        { name: 'page_load', unit: 'count', kind: 'extra', description: 'an older module' },
        { name: 'retries', unit: 'count', kind: 'extra', description: 'Retried requests' },
      ]),
      [['r', 'retries', 'count', 'extra', 'Retried requests', AT]],
    ],
  ])('%s', (_name, b, expected) => {
    expect(customMetricRows(b, AT)).toEqual(expected);
  });
});

describe('samplesTsv', () => {
  const row = (over: Partial<Record<number, unknown>> = {}): SampleRow =>
    Object.assign(
      ['run', 'sess', 'agent', 'chat-load', 'api_init', 12.5, new Date(Date.UTC(2031, 5, 15, 23, 59, 58, 7)), 'fra1', 'shell', 0, null],
      over,
    ) as SampleRow;

  it.each([
    [
      'plain values, NULL as \\N, UTC time with milliseconds',
      row(),
      'run\tsess\tagent\tchat-load\tapi_init\t12.5\t2031-06-15 23:59:58.007\tfra1\tshell\t0\t\\N\n',
    ],
    [
      'a tab, a newline, a carriage return and a backslash escaped',
      row({ 7: 'a\tb\nc\rd\\e', 10: 'x' }),
      'run\tsess\tagent\tchat-load\tapi_init\t12.5\t2031-06-15 23:59:58.007\ta\\tb\\nc\\rd\\\\e\tshell\t0\tx\n',
    ],
    ['the text \\N is text, not NULL', row({ 10: '\\N' }), 'run\tsess\tagent\tchat-load\tapi_init\t12.5\t2031-06-15 23:59:58.007\tfra1\tshell\t0\t\\\\N\n'],
    [
      'a NUL byte escaped; non-ASCII as UTF-8',
      row({ 1: 'sé\u0000ß😀', 9: 1 }),
      'run\tsé\\0ß😀\tagent\tchat-load\tapi_init\t12.5\t2031-06-15 23:59:58.007\tfra1\tshell\t1\t\\N\n',
    ],
    [
      'tiny and huge numbers as JavaScript prints them (MySQL reads exponents)',
      row({ 5: 1e-7 }),
      'run\tsess\tagent\tchat-load\tapi_init\t1e-7\t2031-06-15 23:59:58.007\tfra1\tshell\t0\t\\N\n',
    ],
  ])('%s', (_what, r, expected) => {
    expect(samplesTsv([r]).toString('utf8')).toBe(expected);
  });

  it('one line per row; no rows, an empty file', () => {
    expect(samplesTsv([row(), row()]).toString('utf8').split('\n')).toHaveLength(3);
    expect(samplesTsv([]).length).toBe(0);
  });
});
