import { describe, expect, it } from 'vitest';
import { LogLimiter, type LogDecision } from './log-limiter.js';

const W = 60_000;

describe('LogLimiter (one line per key per window, the rest counted)', () => {
  it.each<[string, { maxKeys?: number }, Array<[string, number]>, LogDecision[]]>([
    ['the first line of a key is logged', {}, [['a', 0]], [{ log: true, suppressed: 0 }]],
    [
      'within the window the rest are held back',
      {},
      [
        ['a', 0],
        ['a', 1],
        ['a', W - 1],
      ],
      [{ log: true, suppressed: 0 }, { log: false }, { log: false }],
    ],
    [
      'after the window: logged with the count held back',
      {},
      [
        ['a', 0],
        ['a', 1],
        ['a', 2],
        ['a', W],
      ],
      [{ log: true, suppressed: 0 }, { log: false }, { log: false }, { log: true, suppressed: 2 }],
    ],
    [
      'the count starts again after it was reported',
      {},
      [
        ['a', 0],
        ['a', 1],
        ['a', W],
        ['a', 2 * W],
      ],
      [{ log: true, suppressed: 0 }, { log: false }, { log: true, suppressed: 1 }, { log: true, suppressed: 0 }],
    ],
    [
      'keys are independent',
      {},
      [
        ['a', 0],
        ['b', 1],
        ['a', 2],
        ['b', 3],
      ],
      [{ log: true, suppressed: 0 }, { log: true, suppressed: 0 }, { log: false }, { log: false }],
    ],
    [
      'full: expired keys are forgotten to make room',
      { maxKeys: 2 },
      [
        ['a', 0],
        ['b', 0],
        ['c', W],
      ],
      [
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
      ],
    ],
    [
      'full of live keys: new keys share one overflow key, with its own count',
      { maxKeys: 2 },
      [
        ['a', 0],
        ['b', 0],
        ['c', 1],
        ['d', 2],
        ['a', W],
        ['b', W],
        ['e', W + 1],
      ],
      [
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
        { log: false },
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
        { log: true, suppressed: 1 },
      ],
    ],
    [
      'full, then the old keys expire: a new key gets its own place again',
      { maxKeys: 2 },
      [
        ['a', 0],
        ['b', 0],
        ['c', 1],
        ['e', W + 1],
      ],
      [
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
        { log: true, suppressed: 0 },
      ],
    ],
  ])('%s', (_n, opts, calls, expected) => {
    const l = new LogLimiter({ windowMs: W, maxKeys: opts.maxKeys ?? 100 });
    expect(calls.map(([k, t]) => l.admit(k, t))).toEqual(expected);
  });

  it('remembers at most maxKeys keys (and the overflow key)', () => {
    const l = new LogLimiter({ windowMs: W, maxKeys: 10 });
    for (let i = 0; i < 10_000; i++) l.admit(`10.0.${i >> 8}.${i & 255}`, i);
    expect(l.size).toBeLessThanOrEqual(11);
  });
});
