import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoundReport } from '@userprobe/shared';
import { FakePool } from '../../test/fake-pool.js';
import type { RunOutcome } from '../run/coordinator.js';
import { parseMonitorConfig, type CheckConfig } from './monitor-config.js';
import { Monitor, reportOf, roundRunId, type RoundStart } from './monitor.js';

const log = pino({ level: 'silent' });

function checks(raw: unknown[]): readonly CheckConfig[] {
  return parseMonitorConfig({ checks: raw }, '/m.yaml').checks;
}

function completed(ok: number, failed = 0, failedSteps: { step: string; count: number }[] = []): RunOutcome {
  return {
    kind: 'completed',
    status: failed ? 'failed' : 'passed',
    exitCode: failed ? 1 : 0,
    summaryPath: '/x/summary.json',
    error: null,
    summary: { sessions: { expected: ok + failed, recorded: ok + failed, ok, failed, aborted: 0, missing: 0, lost: 0, notRun: 0, reassigned: 0 }, failedSteps },
  } as unknown as RunOutcome;
}

/** A monitor over an in-memory pool whose rounds last `roundMs` and end ok. */
function harness(roundMs: number | ((r: RoundStart) => number)) {
  const pool = new FakePool();
  const reports: RoundReport[] = [];
  const starts: RoundStart[] = [];
  const aborted: string[] = [];
  const monitor = new Monitor({
    pool,
    log,
    targetName: () => 'demo',
    runRound: (r) => {
      starts.push(r);
      let abort: (why: string) => void = () => {};
      const outcome = new Promise<RunOutcome>((resolve) => {
        const t = setTimeout(() => resolve(completed(r.sessions)), typeof roundMs === 'number' ? roundMs : roundMs(r));
        abort = (why) => {
          clearTimeout(t);
          aborted.push(`${r.runId}: ${why}`);
          resolve({ kind: 'not-run', exitCode: 3, error: new Error(why) } as unknown as RunOutcome);
        };
      });
      return Promise.resolve({ abort: (why) => abort(why), outcome });
    },
    recordRound: (r) => {
      reports.push(r);
      return Promise.resolve();
    },
  });
  return { pool, monitor, reports, starts, aborted };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Until `ok()` holds (checked every 20 ms), at most 30 s: tests wait for the rounds they judge, not for a time. */
async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await wait(20);
  }
}
let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

describe('Monitor', () => {
  it("starts rounds on the grid, rotates over a location's agents, records a gap where no agent is", async () => {
    const h = harness(100);
    stop = () => h.monitor.stop(0);
    h.pool.add('a1', 2, undefined, { region: 'ams3' });
    h.pool.add('a2', 2, undefined, { region: 'ams3' });
    h.monitor.apply(checks([{ name: 'chat', scenario: 'chat-load', interval: '1s', locations: { region: ['ams3', 'nyc1'] } }]));
    await until('three ams3 rounds', () => h.reports.filter((r) => r.location === 'ams3').length >= 3);
    // Stopped (rounds in flight finish and report) before reading: a gap is reported at its slot, a round when it ends.
    await h.monitor.stop(5_000);
    const ams = h.reports.filter((r) => r.location === 'ams3');
    const nyc = h.reports.filter((r) => r.location === 'nyc1');
    expect(ams.length).toBeGreaterThanOrEqual(3);
    expect(ams.every((r) => r.status === 'ok' && r.startedAt! - r.slotAt < 1_000 && r.slotAt % 1_000 === ams[0]!.slotAt % 1_000)).toBe(true);
    // Consecutive slots, one interval apart: nothing skipped.
    for (let i = 1; i < ams.length; i++) expect(ams[i]!.slotAt - ams[i - 1]!.slotAt).toBe(1_000);
    expect(ams.map((r) => r.agents[0])).toEqual(ams.map((_r, i) => (i % 2 === 0 ? 'fake-a1' : 'fake-a2')));
    expect(nyc.length).toBe(ams.length);
    expect(nyc.every((r) => r.status === 'gap' && r.reason === 'no agent in nyc1' && r.runId === null)).toBe(true);
    expect(h.starts.every((s) => s.runId === roundRunId('chat', s.location, s.slotAt))).toBe(true);
  });

  it('a location whose round is still running skips its slot (counted); the other location goes on', async () => {
    const h = harness((r) => (r.location === 'nyc1' ? 2_500 : 100));
    stop = () => h.monitor.stop(0);
    h.pool.add('a1', 1, undefined, { region: 'ams3' });
    h.pool.add('n1', 1, undefined, { region: 'nyc1' });
    h.monitor.apply(checks([{ name: 'chat', scenario: 'chat-load', interval: '1s', locations: { region: ['ams3', 'nyc1'] } }]));
    await until('a skipped nyc1 slot', () => h.reports.some((r) => r.location === 'nyc1' && r.status === 'skipped'));
    const nyc = h.reports.filter((r) => r.location === 'nyc1').map((r) => r.status);
    expect(nyc).toContain('skipped');
    expect(h.reports.find((r) => r.status === 'skipped')!.reason).toBe('the previous round of this check in nyc1 is still running');
    expect(h.reports.filter((r) => r.location === 'ams3').every((r) => r.status === 'ok')).toBe(true);
    expect(h.monitor.status()[0]!.counts.skipped).toBeGreaterThanOrEqual(1);
  });

  it("holds an agent's capacity while its round runs: a full agent is passed over, then a gap when all are full", async () => {
    const h = harness(1_700);
    stop = () => h.monitor.stop(0);
    h.pool.add('a1', 1, undefined, { region: 'ams3' });
    h.monitor.apply(
      checks([
        { name: 'one', scenario: 'chat-load', interval: '1s', locations: { region: ['ams3'] } },
        { name: 'two', scenario: 'chat-load', interval: '1s', locations: { region: ['ams3'] } },
      ]),
    );
    await until('a gap for capacity', () => h.reports.some((r) => r.status === 'gap'));
    expect(h.reports.some((r) => r.status === 'gap' && r.reason === 'no free capacity in ams3 (1 agent(s) connected, all busy)')).toBe(true);
  });

  it('pause() turns slots into skipped rounds until resume(); apply() adds and removes checks', async () => {
    const h = harness(50);
    stop = () => h.monitor.stop(0);
    h.pool.add('a1', 4);
    h.monitor.apply(checks([{ name: 'chat', scenario: 'chat-load', interval: '1s' }]));
    h.monitor.pause();
    await until('two paused slots', () => h.reports.length >= 2);
    expect(h.reports.length).toBeGreaterThanOrEqual(2);
    expect(h.reports.every((r) => r.status === 'skipped' && r.reason === 'checks are paused while a load test runs')).toBe(true);
    h.monitor.resume();
    const diff = h.monitor.apply(checks([{ name: 'video', scenario: 'chat-load', interval: '1s' }]));
    expect(diff).toEqual({ added: ['video'], removed: ['chat'], changed: [] });
    // The same file read again changes nothing.
    expect(h.monitor.apply(checks([{ name: 'video', scenario: 'chat-load', interval: '1s' }]))).toEqual({ added: [], removed: [], changed: [] });
    const before = h.reports.length;
    await until('two video rounds', () => h.reports.length - before >= 2);
    const after = h.reports.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.every((r) => r.check === 'video' && r.status === 'ok')).toBe(true);
  });

  it('stop() starts nothing new and aborts rounds still running after the grace', async () => {
    const h = harness(60_000);
    h.pool.add('a1', 4);
    h.monitor.apply(checks([{ name: 'chat', scenario: 'chat-load', interval: '1s' }]));
    await until('a running round', () => h.monitor.running().length >= 1);
    expect(h.monitor.running()).toHaveLength(1);
    const t0 = Date.now();
    await h.monitor.stop(300);
    expect(Date.now() - t0).toBeLessThan(10_000); // bounded: unbounded, stop() waits for the whole round
    expect(h.aborted).toHaveLength(1);
    expect(h.aborted[0]).toContain('the controller is shutting down');
    expect(h.reports.at(-1)!.status).toBe('not-run');
    const n = h.reports.length;
    await wait(1_200);
    expect(h.reports.length).toBe(n);
  });
});

describe('reportOf', () => {
  const check = checks([{ name: 'chat', scenario: 'chat-load', interval: '1m' }])[0]!;
  const base = {
    check,
    location: 'ams3',
    slotAt: 1_000,
    startedAt: 1_010,
    endedAt: 5_000,
    runId: 'chat.ams3.x',
    targetName: 'demo',
    picks: [{ agentId: 'a', name: 'a', sessions: 2 }],
    planned: 2,
    failure: null,
  };
  it.each([
    ['all ok', completed(2), { status: 'ok', reason: null, sessions: { planned: 2, ok: 2, failed: 0 }, exitCode: 0 }],
    [
      'failed sessions name the step',
      completed(1, 1, [{ step: 'widget_load', count: 1 }]),
      { status: 'failed', reason: '1 failed (1 at step widget_load) of 2 session(s)', failedStep: { step: 'widget_load', count: 1 }, exitCode: 1 },
    ],
  ] as const)('%s', (_n, outcome, want) => {
    expect(reportOf({ ...base, outcome })).toMatchObject(want);
  });
  it('a run that could not start, and a round that threw', () => {
    expect(reportOf({ ...base, outcome: { kind: 'not-run', exitCode: 3, error: new Error('agents left') } as unknown as RunOutcome })).toMatchObject({
      status: 'not-run',
      reason: 'agents left',
      exitCode: 3,
    });
    expect(reportOf({ ...base, outcome: null, failure: new Error('target down') })).toMatchObject({ status: 'not-run', reason: 'target down', exitCode: null });
  });
});
