import { describe, it, expect, vi, afterEach } from 'vitest';
import { ProgressReporter, PROGRESS_PLAIN_INTERVAL_MS } from './progress.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressReporter (pure counting, fake timers)', () => {
  it('counts per agent and prints throttled plain lines when not a TTY', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const p = new ProgressReporter({ write: (s: string) => out.push(s), isTTY: false });
    p.plan([
      { name: 'local-1', sessions: 2 },
      { name: 'local-2', sessions: 1 },
    ]);
    p.session('local-1', 'started');
    p.session('local-1', 'started');
    p.session('local-2', 'started');
    p.session('local-1', 'finished');
    expect(out).toEqual([]);
    vi.advanceTimersByTime(PROGRESS_PLAIN_INTERVAL_MS);
    expect(out).toEqual(['sessions: all 3/3 started, 1 done, 0 failed | local-1 2/2 started, 1 done, 0 failed | local-2 1/1 started, 0 done, 0 failed\n']);
    p.session('local-2', 'failed');
    p.note('agent local-3 connected');
    p.flush();
    expect(out.slice(1)).toEqual([
      'agent local-3 connected\n',
      'sessions: all 3/3 started, 1 done, 1 failed | local-1 2/2 started, 1 done, 0 failed | local-2 1/1 started, 0 done, 1 failed\n',
    ]);
  });
  it('counts aborted sessions apart from failed ones', () => {
    const p = new ProgressReporter({ write: () => undefined, isTTY: false }, true);
    p.plan([{ name: 'local-1', sessions: 3 }]);
    for (const phase of ['started', 'started', 'started', 'failed', 'aborted', 'aborted'] as const) p.session('local-1', phase);
    expect(p.line()).toBe('local-1 3/3 started, 0 done, 1 failed, 2 aborted');
  });
  it('moves shares with reassigned sessions: the lost agent keeps what it started, the receiver counts what it got', () => {
    const p = new ProgressReporter({ write: () => undefined, isTTY: false }, true);
    p.plan([
      { name: 'survivor', sessions: 4 },
      { name: 'victim', sessions: 4 },
    ]);
    p.session('victim', 'started');
    p.reshare('victim', 'survivor', 3);
    expect(p.line()).toBe('all 1/8 started, 0 done, 0 failed | survivor 0/7 started, 0 done, 0 failed | victim 1/1 started, 0 done, 0 failed');
    p.reshare('victim', 'survivor', 5); // never below what it started
    expect(p.line()).toBe('all 1/13 started, 0 done, 0 failed | survivor 0/12 started, 0 done, 0 failed | victim 1/1 started, 0 done, 0 failed');
  });
  it('redraws one line on a TTY', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const p = new ProgressReporter({ write: (s: string) => out.push(s), isTTY: true });
    p.session('a', 'started');
    vi.advanceTimersByTime(1000);
    expect(out).toEqual(['\r\x1b[Ksessions: a 1 started, 0 done, 0 failed']);
  });

  it('with --duration a share is slots that repeat, said so (never "12/2")', () => {
    const p = new ProgressReporter({ write: () => undefined, isTTY: false }, true);
    p.plan([{ name: 'local-1', sessions: 2 }], { repeating: true });
    for (let i = 0; i < 12; i++) p.session('local-1', 'started');
    for (let i = 0; i < 10; i++) p.session('local-1', 'finished');
    expect(p.line()).toBe('local-1 12 started (2 slots, repeating), 10 done, 0 failed');
  });

  it('adds the live lines once there are values: core metrics so far and each threshold now', () => {
    const p = new ProgressReporter({ write: () => undefined, isTTY: false }, true);
    p.plan([{ name: 'local-1', sessions: 3 }]);
    expect(p.block()).toEqual(['sessions: local-1 0/3 started, 0 done, 0 failed']);
    const failing = { threshold: 'api_create:p95<10ms', metric: 'api_create', detail: null, stat: 'p95', op: '<', limit: 10, observed: 14, count: 2 };
    const rest = { saturatedExcluded: 0, reason: null, abortOnFail: false, includeSaturated: false } as const;
    p.live(() => ({
      metrics: [
        { metric: 'page_load', unit: 'ms', count: 2, p50: 427.4, p95: 899.6 },
        { metric: 'api_create', unit: 'ms', count: 2, p50: 12, p95: 14 },
        { metric: 'widget_load', unit: 'ms', count: 0, p50: null, p95: null },
      ],
      thresholds: [
        { ...failing, ...rest, ok: false },
        { ...failing, ...rest, threshold: 'page_load:p95<2s', metric: 'page_load', limit: 2000, observed: 900, ok: true },
        { ...failing, ...rest, threshold: 'api_init:p95<1s', metric: 'api_init', observed: null, ok: false, reason: 'no api_init sample was recorded' },
      ] as never,
    }));
    expect(p.block()).toEqual([
      'sessions: local-1 0/3 started, 0 done, 0 failed',
      '  so far, p50/p95 ms: page_load 427/900 · api_create 12/14 (2 session(s))',
      '  thresholds now: 1 passing, 1 failing, 1 without values yet — api_create:p95<10ms (p95 14 ms over 2 value(s))',
    ]);
  });

  it('redraws the whole block in place on a TTY, and clears it for a note', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const p = new ProgressReporter({ write: (s: string) => out.push(s), isTTY: true });
    p.live(() => ({ metrics: [{ metric: 'api_create', unit: 'ms', count: 1, p50: 12, p95: 12 }], thresholds: [] }));
    p.session('a', 'started');
    vi.advanceTimersByTime(1000);
    expect(out).toEqual(['\r\x1b[Ksessions: a 1 started, 0 done, 0 failed\n  so far, p50/p95 ms: api_create 12/12 (1 session(s))']);
    p.session('a', 'finished');
    vi.advanceTimersByTime(1000);
    expect(out[1]).toBe('\x1b[1F\x1b[Jsessions: a 1 started, 1 done, 0 failed\n  so far, p50/p95 ms: api_create 12/12 (1 session(s))');
    p.note('agent b connected');
    expect(out.slice(2)).toEqual(['\x1b[1F\x1b[J', 'agent b connected\n']);
  });
});
