import { describe, expect, it } from 'vitest';
import {
  afterDirectError,
  afterDrainError,
  afterDrainerExit,
  afterOpenError,
  nextBackoff,
  routeWrite,
  shouldDrain,
  sinkMode,
  type SinkState,
} from './sink-decisions.js';

const idle: SinkState = { failed: false, closing: false, draining: false, spoolSize: 0 };

describe('sinkMode and routeWrite: where a new entry goes', () => {
  it.each([
    [idle, 'direct', 'direct'],
    [{ ...idle, spoolSize: 3 }, 'spooling', 'spool'],
    // the drainer holds the last entry (not yet removed) or has just emptied the spool: still behind it, in order
    [{ ...idle, draining: true }, 'spooling', 'spool'],
    [{ ...idle, failed: true }, 'failed', 'refuse'],
    [{ ...idle, failed: true, spoolSize: 3, draining: true }, 'failed', 'refuse'],
  ] as const)('%o → %s, %s', (s, mode, route) => {
    expect(sinkMode(s)).toBe(mode);
    expect(routeWrite(s)).toBe(route);
  });
});

describe('nextBackoff', () => {
  it.each([
    [100, 5_000, 200],
    [3_000, 5_000, 5_000],
    [5_000, 5_000, 5_000],
  ])('%i (max %i) → %i', (now, max, next) => {
    expect(nextBackoff(now, max)).toBe(next);
  });
});

describe('afterDirectError: a direct write failed', () => {
  const t = { elapsedMs: 100, backoffMs: 50, maxBackoffMs: 1_000, budgetMs: 2_000, closing: false };
  it.each([
    ['sink', t, { do: 'stop-sink' }],
    ['batch', t, { do: 'refuse-entry' }],
    ['transient', t, { do: 'retry', waitMs: 50, nextBackoffMs: 100 }],
    ['transient', { ...t, backoffMs: 800 }, { do: 'retry', waitMs: 800, nextBackoffMs: 1_000 }],
    // the next attempt would start exactly at the budget: still allowed; one ms later: spool
    ['transient', { ...t, elapsedMs: 1_950 }, { do: 'retry', waitMs: 50, nextBackoffMs: 100 }],
    ['transient', { ...t, elapsedMs: 1_951 }, { do: 'spool' }],
    ['transient', { ...t, closing: true }, { do: 'spool' }],
    // permanent errors are not softened by closing
    ['sink', { ...t, closing: true }, { do: 'stop-sink' }],
  ] as const)('%s %o → %o', (kind, clock, step) => {
    expect(afterDirectError(kind, clock)).toEqual(step);
  });
});

describe("afterDrainError: the spool's head entry could not be written", () => {
  it.each([
    ['sink', { do: 'stop-sink' }],
    ['batch', { do: 'set-aside' }],
    ['transient', { do: 'wait', waitMs: 400, nextBackoffMs: 800 }],
  ] as const)('%s → %o', (kind, step) => {
    expect(afterDrainError(kind, 400, 5_000)).toEqual(step);
  });
  it('keeps waiting at the cap, never giving up on a transient error', () => {
    expect(afterDrainError('transient', 5_000, 5_000)).toEqual({ do: 'wait', waitMs: 5_000, nextBackoffMs: 5_000 });
  });
});

describe('shouldDrain and afterDrainerExit: when the spool replays, and when it is done', () => {
  it.each([
    [idle, false, 'drained'],
    [{ ...idle, spoolSize: 2 }, true, 'restart'],
    [{ ...idle, spoolSize: 2, draining: true }, false, null],
    [{ ...idle, spoolSize: 2, closing: true }, false, 'stopped'],
    [{ ...idle, spoolSize: 2, failed: true }, false, 'stopped'],
    [{ ...idle, closing: true }, false, 'drained'],
  ] as const)('%o → drain: %s, after the drainer: %s', (s, drain, exit) => {
    expect(shouldDrain(s)).toBe(drain);
    if (exit !== null) expect(afterDrainerExit(s)).toBe(exit);
  });
});

describe('afterOpenError: the schema check at open failed', () => {
  it.each([
    ['transient', 'open-spooling'],
    ['sink', 'fail-open'],
    ['batch', 'fail-open'],
  ] as const)('%s → %s', (kind, next) => {
    expect(afterOpenError(kind)).toBe(next);
  });
});
