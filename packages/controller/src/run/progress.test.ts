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
    expect(out).toEqual(['sessions: local-1 2/2 started, 1 done, 0 failed | local-2 1/1 started, 0 done, 0 failed\n']);
    p.session('local-2', 'failed');
    p.note('agent local-3 connected');
    p.flush();
    expect(out.slice(1)).toEqual(['agent local-3 connected\n', 'sessions: local-1 2/2 started, 1 done, 0 failed | local-2 1/1 started, 0 done, 1 failed\n']);
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
    expect(p.line()).toBe('survivor 0/7 started, 0 done, 0 failed | victim 1/1 started, 0 done, 0 failed');
    p.reshare('victim', 'survivor', 5); // never below what it started
    expect(p.line()).toBe('survivor 0/12 started, 0 done, 0 failed | victim 1/1 started, 0 done, 0 failed');
  });
  it('redraws one line on a TTY', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const p = new ProgressReporter({ write: (s: string) => out.push(s), isTTY: true });
    p.session('a', 'started');
    vi.advanceTimersByTime(1000);
    expect(out).toEqual(['\r\x1b[Ksessions: a 1 started, 0 done, 0 failed']);
  });
});
