import { describe, expect, it } from 'vitest';
import type { MetricBatch } from '@userprobe/shared';
import { customMetricRows } from './rows.js';

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
