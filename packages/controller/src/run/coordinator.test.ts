import { describe, it, expect, afterEach } from 'vitest';
import { readFile } from 'node:fs/promises';
import { coreMetrics, defaultScenarioChoices, ERROR_CODES, SCENARIO_OPTION_KEYS, START_LEAD_MS, type Assignment, type MetricBatch } from '@userprobe/shared';
import { RunCoordinator, type RunParams } from './coordinator.js';
import { ResultsSink } from '../results/folder-sink.js';
import { readRunResults } from '../results/run-folder-reader.js';
import { ProgressReporter } from './progress.js';
import { FakePool, type FakeHandle } from '../../test/fake-pool.js';
import { captureLog, tempDir } from '../../test/fixtures.js';
import { demoLikeProfile } from '../../test/profile.js';
import { RESULT_FILES } from '../results/run-folder.js';

const params = (over: Partial<RunParams> = {}): RunParams => ({
  runId: 'run-c',
  scenario: 'chat-load',
  browser: 'shell',
  total: 6,
  rampUpMs: 600,
  durationMs: null,
  expectAgents: 2,
  agentWaitMs: 2_000,
  // A bound, not a wait: a run ends as soon as its batches are in. Generous, so batches written
  // (fsynced) on a busy machine are not counted missing; the test of batches that never arrive sets its own.
  drainTimeoutMs: 10_000,
  profile: demoLikeProfile,
  targetName: 'demo',
  options: defaultScenarioChoices(),
  params: { total: 6 },
  ...over,
});

describe('RunCoordinator (in-memory pool)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup(p: RunParams) {
    const tmp = await tempDir();
    const { log, lines } = captureLog();
    const sink = new ResultsSink({ outDir: tmp.dir, log });
    await sink.open();
    cleanups.push(async () => {
      await sink.close();
      await tmp.cleanup();
    });
    const notes: string[] = [];
    const progress = new ProgressReporter({ write: (s: string) => notes.push(s) });
    const pool = new FakePool();
    const coord = new RunCoordinator(p, {
      pool,
      sinks: [sink],
      progress,
      log,
      waitNoticeEveryMs: 100,
      results: {
        read: (id) => readRunResults(tmp.dir, id),
        writeSummary: (id, s) => sink.writeRunJson(id, RESULT_FILES.summary, s),
        writeRunJson: (id, file, value) => sink.writeRunJson(id, file, value),
      },
    });
    /**
     * A well-behaved fake agent: stores one batch per session through the sink, then reports finished. As a real agent does, its
     * seqs go on across parts (a seq is taken when its batch is made), and it reports once every part it accepted is over,
     * naming those parts: a part that arrives while an earlier one is still being written (a reassignment on a busy machine)
     * is in the same report.
     */
    const agents = new Map<string, { seq: number; parts: number[]; playing: number; ok: number; failed: number }>();
    const play = (a: Assignment, h: FakeHandle, opts: { fail?: string[]; dropSeq?: number; writeDelayMs?: number } = {}) => {
      const me = agents.get(h.info.agentId) ?? { seq: 0, parts: [], playing: 0, ok: 0, failed: 0 };
      agents.set(h.info.agentId, me);
      me.parts.push(a.part);
      me.playing += 1;
      setImmediate(
        () =>
          void (async () => {
            for (const s of a.sessions) {
              const seq = ++me.seq;
              pool.emit('progress', h.info.agentId, { runId: a.runId, sessionId: s.sessionId, phase: 'started' });
              const failed = opts.fail?.includes(s.sessionId) ?? false;
              const metrics = failed ? coreMetrics('chat-load').slice(0, 2) : coreMetrics('chat-load');
              const batch: MetricBatch = {
                runId: a.runId,
                agentId: h.info.agentId,
                seq,
                createdAt: Date.now(),
                samples: metrics.map((metric, i) => ({ sessionId: s.sessionId, metric, value: 100 + i, ts: Date.now() })),
                sessions: [
                  {
                    sessionId: s.sessionId,
                    scenario: a.scenario,
                    browser: a.browser,
                    status: failed ? 'failed' : 'ok',
                    startedAt: Date.now(),
                    endedAt: Date.now(),
                    failedStep: failed ? 'widget_load' : null,
                    error: null,
                    artifacts: [],
                  },
                ],
              };
              if (failed) me.failed += 1;
              else me.ok += 1;
              pool.emit('progress', h.info.agentId, { runId: a.runId, sessionId: s.sessionId, phase: failed ? 'failed' : 'finished' });
              if (seq === opts.dropSeq) continue;
              if (opts.writeDelayMs !== undefined) await new Promise((r) => setTimeout(r, opts.writeDelayMs));
              const r = await sink.writeBatch(batch, h.info);
              pool.emit('batch', {
                runId: a.runId,
                agentId: h.info.agentId,
                seq,
                duplicate: r === 'duplicate',
                samples: batch.samples.length,
                sessions: 1,
                records: batch.sessions.map((x) => ({ sessionId: x.sessionId, status: x.status, scenario: x.scenario })),
              });
            }
            me.playing -= 1;
            if (me.playing > 0) return;
            pool.emit('finished', h.info.agentId, { runId: a.runId, lastSeq: me.seq, parts: [...me.parts], ok: me.ok, failed: me.failed });
          })(),
      );
      return { accepted: true as const };
    };
    return { tmp, pool, coord, notes, lines, play, sink };
  }

  it('waits for the agents, plans 3/3, assigns with an agreed start, and passes with exit 0', async () => {
    const { pool, coord, notes, play, tmp } = await setup(params());
    const a1 = pool.add('a1', 10, (a, h) => play(a, h));
    const t0 = Date.now();
    const outcome = coord.run();
    setTimeout(() => pool.add('a2', 10, (a, h) => play(a, h)), 50);
    const o = await outcome;
    expect(o.kind).toBe('completed');
    if (o.kind !== 'completed') return;
    expect([o.status, o.exitCode, o.error]).toEqual(['passed', 0, null]);
    const a = a1.assignments[0]!;
    expect(a.sessions).toEqual([
      { sessionId: 's0001', startOffsetMs: 0 },
      { sessionId: 's0003', startOffsetMs: 200 },
      { sessionId: 's0005', startOffsetMs: 400 },
    ]);
    expect(pool.list[1]!.assignments[0]!.sessions.map((s) => s.sessionId)).toEqual(['s0002', 's0004', 's0006']);
    expect(a.startAt - t0).toBeGreaterThanOrEqual(START_LEAD_MS);
    expect(a.startAt - t0).toBeLessThan(START_LEAD_MS + 10_000); // the lead counts from the plan, which a stalled 2-core machine may reach seconds after t0
    // every option, resolved: the defaults, and the timeouts the profile does not set
    expect(Object.keys(a.options).sort()).toEqual([...SCENARIO_OPTION_KEYS].sort());
    expect(a.options).toMatchObject({
      messages: 1,
      callDurationMs: 5000,
      mirrorSamples: 3,
      har: 'failures',
      stepTimeoutMs: 30_000,
      sessionTimeoutMs: 120_000,
      adaptiveStart: true,
      thinkTime: { minMs: 0, maxMs: 0 },
      input: 'type',
    });
    expect(a.profile.name).toBe('demo');
    expect(o.summary.sessions).toEqual({ expected: 6, recorded: 6, ok: 6, failed: 0, aborted: 0, missing: 0, lost: 0, notRun: 0, reassigned: 0 });
    expect(o.summary.metrics.filter((m) => m.count === 6).map((m) => m.metric)).toEqual(coreMetrics('chat-load'));
    const onDisk = JSON.parse(await readFile(o.summaryPath, 'utf8')) as unknown;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(o.summary)));
    const run = JSON.parse(await readFile(`${tmp.dir}/run-c/run.json`, 'utf8')) as { status: string };
    expect(run.status).toBe('passed');
    expect(notes.join('')).toMatch(/plan: 6 chat-load session\(s\) over 2 agent\(s\): fake-a1 3\/10, fake-a2 3\/10/);
    expect(notes.join('')).toMatch(/sessions: all 6\/6 started, 6 done, 0 failed \| fake-a1 3\/3 started, 3 done, 0 failed/);
  });

  it('a failed session makes exit code 1', async () => {
    const { pool, coord, play } = await setup(params({ expectAgents: 1, total: 2 }));
    pool.add('a1', 5, (a, h) => play(a, h, { fail: ['s0002'] }));
    const o = await coord.run();
    expect(o.kind === 'completed' && [o.status, o.exitCode, o.summary.failedSteps]).toEqual(['failed', 1, [{ step: 'widget_load', count: 1 }]]);
  });

  it('gives up waiting for agents with a message naming who came', async () => {
    const { pool, coord, notes } = await setup(params({ agentWaitMs: 300 }));
    pool.add('a1', 10);
    const o = await coord.run();
    expect(o.kind).toBe('not-run');
    expect(o.exitCode).toBe(3);
    expect(o.error?.code).toBe(ERROR_CODES.AGENTS_MISSING);
    expect(o.error?.message).toBe(
      "only 1 of 2 expected agent(s) connected within 300ms (connected: fake-a1); check the agents' logs (wrong --controller URL or --token?) or increase --agent-wait",
    );
    expect(notes.join('')).toMatch(/waiting for agents: 1\/2 connected \(fake-a1\)/);
  });

  it('refuses a plan larger than the cluster with exit 2', async () => {
    const { pool, coord } = await setup(params({ total: 50, expectAgents: 2 }));
    pool.add('a1', 20);
    pool.add('a2', 20);
    const o = await coord.run();
    expect([o.kind, o.exitCode, o.error?.message]).toEqual(['not-run', 2, "total 50 exceeds the cluster's chat-load capacity 40: fake-a1 20, fake-a2 20"]);
  });

  // 150 ms per batch written: the survivor is still writing its first part when the reassigned one arrives (as on a busy machine).
  it.each([
    ['', undefined],
    [' (the survivor still writing its first part)', 150],
  ])('an agent lost before its sessions started: they are reassigned to the other agent and the run passes%s', async (_, writeDelayMs) => {
    const { pool, coord, play, notes, tmp } = await setup(params({ lossGraceMs: 200 }));
    const a1 = pool.add('a1', 10, (a, h) => play(a, h, { writeDelayMs }));
    pool.add('a2', 10, () => {
      setImmediate(() => pool.drop('a2'));
      return { accepted: true };
    });
    const o = await coord.run();
    expect(o.kind).toBe('completed');
    if (o.kind !== 'completed') return;
    expect([o.status, o.exitCode, o.error]).toEqual(['passed', 0, null]);
    expect(a1.assignments.map((a) => [a.part, a.sessions.map((s) => s.sessionId)])).toEqual([
      [0, ['s0001', 's0003', 's0005']],
      [1, ['s0002.a2', 's0004.a2', 's0006.a2']],
    ]);
    expect(o.summary.sessions).toMatchObject({ expected: 6, recorded: 6, ok: 6, lost: 0, notRun: 0, reassigned: 3, missing: 0 });
    expect(notes.join('')).toMatch(/agent fake-a2 is lost \(disconnected and not back within 0 s\): 0 running session\(s\) lost, 3 not started reassigned/);
    const state = JSON.parse(await readFile(`${tmp.dir}/run-c/run-state.json`, 'utf8')) as { status: string; slots: { slot: string; attempt: number }[] };
    expect(state.status).toBe('closed');
    expect(
      state.slots
        .filter((x) => x.attempt === 2)
        .map((x) => x.slot)
        .sort(),
    ).toEqual(['s0002', 's0004', 's0006']);
  });

  it('--on-agent-loss fail: an agent gone past the grace fails the run (exit 3) and the other gets run:abort', async () => {
    const { pool, coord, play } = await setup(params({ lossGraceMs: 200, onAgentLoss: 'fail' }));
    const a1 = pool.add('a1', 10, (a) => {
      void a;
      return { accepted: true };
    });
    pool.add('a2', 10, () => {
      setImmediate(() => pool.drop('a2'));
      return { accepted: true };
    });
    void play;
    const o = coord.run();
    const out = await o;
    expect(out.exitCode).toBe(3);
    expect(out.error?.code).toBe(ERROR_CODES.AGENTS_MISSING);
    expect(out.error?.message).toMatch(/^agent fake-a2 was lost mid-run \(disconnected and not back within 0 s\) and --on-agent-loss is fail/);
    expect(a1.aborts.map((x) => x.runId)).toEqual(['run-c']);
  });

  it('fails when batches up to lastSeq never arrive, naming them', async () => {
    const { pool, coord, play } = await setup(params({ expectAgents: 1, total: 3, drainTimeoutMs: 300 }));
    pool.add('a1', 10, (a, h) => play(a, h, { dropSeq: 2 }));
    const o = await coord.run();
    expect(o.kind === 'completed' && o.exitCode).toBe(3);
    expect(o.error?.message).toMatch(/every agent finished but not all batches arrived: fake-a1 batches 2 of 3/);
  });

  it('abort sends run:abort, waits for the agents, summarizes, exit 3', async () => {
    const { pool, coord } = await setup(params({ expectAgents: 1, total: 2 }));
    const h = pool.add('a1', 10, () => ({ accepted: true }));
    const o = coord.run();
    await new Promise<void>((r) => {
      const i = setInterval(() => {
        if (h.assignments.length) {
          clearInterval(i);
          r();
        }
      }, 5);
    });
    coord.abort('SIGINT');
    await new Promise((r) => setImmediate(r));
    expect(h.aborts).toEqual([{ runId: 'run-c', reason: 'SIGINT' }]);
    pool.emit('finished', 'a1', { runId: 'run-c', lastSeq: 0, ok: 0, failed: 0 });
    const out = await o;
    expect(out.kind === 'completed' && [out.status, out.exitCode]).toEqual(['aborted', 3]);
  });

  it('an agent refusing its assignment fails the run with its reason', async () => {
    const { pool, coord } = await setup(params({ expectAgents: 1, total: 1 }));
    pool.add('a1', 10, () => ({ accepted: false, code: 'E_BROWSER_UNAVAILABLE', reason: 'no chromium at /usr/lib/chromium' }));
    const o = await coord.run();
    expect(o.exitCode).toBe(3);
    expect(o.error?.message).toBe('run could not start: agent fake-a1 refused its assignment: no chromium at /usr/lib/chromium (E_BROWSER_UNAVAILABLE)');
  });
});
