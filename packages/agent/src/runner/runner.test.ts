import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import {
  AssignmentSchema,
  BUNDLED_PROFILES,
  ERROR_CODES,
  parseProfile,
  type AssignmentInput,
  type MetricBatch,
  type RunFinished,
  type SessionRecord,
  type TargetProfile,
} from '@userprobe/shared';
import { Agent } from '../agent.js';
import { resolveAgentId } from '../config/agent-id.js';
import { checkAssignment } from './assignment-check.js';
import { HostPolicy } from '../trust/host-policy.js';
import { repeatId, repeats } from './runner.js';
import { buildConfig } from '../config/config.js';
import type { Scenario } from './scenario-api.js';
import { captureLog } from '../../test/log-capture.js';
import { startTestController, type TestController } from '../../test/test-controller.js';

const profile: TargetProfile = parseProfile(readFileSync(BUNDLED_PROFILES.demo!, 'utf8'), 'profiles/demo.yaml', {
  DEMO_SITE_URL: 'http://127.0.0.1:9',
  DEMO_APP_URL: 'http://127.0.0.2:9',
});

function assignment(over: Partial<AssignmentInput> & { startAt: number }): AssignmentInput {
  return {
    runId: 'run-1',
    scenario: 'chat-load',
    browser: 'shell',
    profile,
    sessions: [{ sessionId: 's1', startOffsetMs: 0 }],
    durationMs: null,
    // Outcomes, not pacing, are under test here: the CPU start gate (tested on its own) would hold starts on a busy machine.
    options: { stepTimeoutMs: 5_000, sessionTimeoutMs: 20_000, adaptiveStart: false },
    ...over,
  };
}

/** The session timeout of the outcomes run: what ends its hung session. */
const HANG_TIMEOUT_MS = 6_000;

/** Sessions announce here that they are parked in their abortable step. */
const waiting = new EventEmitter();

/** Behaviour keyed by the session id's suffix, so one run covers every outcome. */
const probe: Scenario = {
  name: 'chat-load',
  async run(ctx) {
    const {
      recorder: r,
      session: { sessionId: id },
    } = ctx;
    await r.measure('load-visitor', () => ctx.pages.visitor.goto('data:text/html,<title>v</title>'), { metric: 'page_load' });
    r.value('api_init', 42, { detail: 'test' });
    if (id.endsWith('-bad'))
      await r.measure('send-message', async () => {
        throw new Error('send button missing');
      });
    if (id.endsWith('-slowstep')) await r.measure('open-widget', () => sleep(5_000), { timeoutMs: 100 });
    if (id.endsWith('-hang')) await r.measure('wait-for-agent', () => new Promise<never>(() => undefined));
    if (id.endsWith('-abortable')) {
      await r.measure(
        'wait-for-agent',
        () =>
          new Promise<never>((_res, rej) => {
            ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason));
            waiting.emit('waiting', id);
          }),
      );
    }
    r.value('api_create', 7);
  },
};

describe('checkAssignment', () => {
  const base = AssignmentSchema.parse(assignment({ startAt: 1 }));
  const c = {
    capacity: { 'chat-load': 2, 'video-call': 0, cobrowse: 2 },
    knownScenarios: ['chat-load'],
    active: null,
    hosts: new HostPolicy(['127.0.0.1', '127.0.0.2']),
    scenarioDirs: [] as string[],
  };
  const urls = (visitor: string, agent = profile.agent.url) => ({
    ...base,
    profile: { ...base.profile, visitor: { ...base.profile.visitor, url: visitor }, agent: { ...base.profile.agent, url: agent } },
  });
  const held = (parts: Record<number, string[]>, over: { scenario?: 'chat-load' | 'cobrowse'; browser?: 'shell' | 'chromium' } = {}) => ({
    scenario: over.scenario ?? ('chat-load' as const),
    browser: over.browser ?? ('shell' as const),
    parts: new Map(Object.entries(parts).map(([k, v]) => [Number(k), new Set(v)])),
  });
  it.each([
    ['fits', base, c, null],
    ['durationMs set (sessions repeat)', { ...base, durationMs: 60_000 }, c, null],
    ['unknown scenario', { ...base, scenario: 'cobrowse' as const }, c, ERROR_CODES.SCENARIO_UNKNOWN],
    ['zero capacity', { ...base, scenario: 'video-call' as const }, { ...c, knownScenarios: ['chat-load', 'video-call'] }, ERROR_CODES.PLAN_INFEASIBLE],
    [
      'duplicate session ids',
      {
        ...base,
        sessions: [
          { sessionId: 'a', startOffsetMs: 0 },
          { sessionId: 'a', startOffsetMs: 1 },
        ],
      },
      c,
      ERROR_CODES.MESSAGE_INVALID,
    ],
    ['a held part with other sessions', base, { ...c, active: held({ 0: ['x'] }) }, ERROR_CODES.PLAN_INFEASIBLE],
    ['a new part with new sessions', { ...base, part: 1, sessions: [{ sessionId: 's2.a2', startOffsetMs: 0 }] }, { ...c, active: held({ 0: ['s1'] }) }, null],
    ['a new part naming a session already held', { ...base, part: 1 }, { ...c, active: held({ 0: ['s1'] }) }, ERROR_CODES.MESSAGE_INVALID],
    [
      'a new part of another scenario',
      { ...base, part: 1, sessions: [{ sessionId: 's2', startOffsetMs: 0 }] },
      { ...c, active: held({ 0: ['s1'] }, { scenario: 'cobrowse' }) },
      ERROR_CODES.PLAN_INFEASIBLE,
    ],
    [
      'a new part on another browser',
      { ...base, part: 1, sessions: [{ sessionId: 's2', startOffsetMs: 0 }] },
      { ...c, active: held({ 0: ['s1'] }, { browser: 'chromium' }) },
      ERROR_CODES.PLAN_INFEASIBLE,
    ],
    // the agent's operator's policy (issue 11) comes first, even for a part of a run held here
    ['a file: visitor URL', urls('file:///etc/passwd'), c, ERROR_CODES.NOT_ALLOWED],
    ['a javascript: agent URL', urls(profile.visitor.url, 'javascript:alert(1)'), c, ERROR_CODES.NOT_ALLOWED],
    ['a host not allowed', urls('https://www.example.com/'), c, ERROR_CODES.NOT_ALLOWED],
    [
      'a metadata address, even allowed',
      urls('http://169.254.169.254/'),
      { ...c, hosts: new HostPolicy(['127.0.0.1', '127.0.0.2', '*.example.com']) },
      ERROR_CODES.NOT_ALLOWED,
    ],
    ['no --allow-host at all', base, { ...c, hosts: new HostPolicy([]) }, ERROR_CODES.NOT_ALLOWED],
    ['a custom module without --scenario-dir', { ...base, scenarioModule: '/opt/x.mjs' }, c, ERROR_CODES.NOT_ALLOWED],
    [
      'a custom module with a --scenario-dir (the loader checks where it is)',
      { ...base, scenarioModule: '/opt/s/x.mjs' },
      { ...c, scenarioDirs: ['/opt/s'] },
      null,
    ],
    [
      'a held part whose profile now names another host',
      { ...urls('https://evil.example/'), part: 1 },
      { ...c, active: held({ 0: ['s1'] }) },
      ERROR_CODES.NOT_ALLOWED,
    ],
  ])('%s', (_n, a, ctx, code) => {
    const r = checkAssignment(a, ctx);
    if (code === null) expect(r).toBeNull();
    else expect(r).toMatchObject({ accepted: false, code });
  });
  it('an exact repeat of a held part is accepted (lost ack)', () => {
    expect(checkAssignment(base, { ...c, active: held({ 0: ['s1'] }) })).toEqual({ accepted: true });
  });
});

describe('session repetition for a duration', () => {
  it.each([
    [null, 0, 1, false],
    [1_000, 0, 999, true],
    [1_000, 0, 1_000, false],
    [1_000, 500, 1_499, true],
    [1_000, 500, 2_000, false],
  ] as const)('duration %s from %s at %s → another round: %s', (duration, start, now, expected) => {
    expect(repeats(duration, start, now)).toBe(expected);
  });
  it('names rounds after the planned session', () => {
    expect([1, 2, 10].map((r) => repeatId('s0001', r))).toEqual(['s0001.r1', 's0001.r2', 's0001.r10']);
  });
});

describe('Runner (full agent, real Chromium, real Socket.IO)', () => {
  let ctl: TestController;
  let agent: Agent;
  let spoolRoot: string;

  beforeAll(async () => {
    ctl = await startTestController({ clockSkewMs: 60_000 });
    spoolRoot = await mkdtemp(join(tmpdir(), 'up-runner-'));
    const config = buildConfig(
      { controller: ctl.url, token: 'test-token', id: 'runner-1', spool: spoolRoot, capacity: ['2'], logLevel: 'debug', allowHost: ['127.0.0.1', '127.0.0.2'] },
      {},
      { cpus: 2, memMb: 4096, hostname: 'test', platform: 'linux', homeDir: spoolRoot },
    );
    agent = new Agent({
      config: await resolveAgentId(config, 'test'),
      log: captureLog('warn').log,
      env: {},
      scenarios: new Map([['chat-load', probe]]),
      reconnectDelayMinMs: 50,
      reconnectDelayMaxMs: 200,
      // Records are not held for the evidence ack.
      runner: { evidenceWaitMs: 50 },
    });
    const joined = ctl.waitFor('agent');
    await agent.start();
    await joined;
  });
  afterAll(async () => {
    await agent.stop('test over');
    expect(await agent.exited).toEqual({ kind: 'stopped', reason: 'test over' });
    await ctl.close();
    await rm(spoolRoot, { recursive: true, force: true });
  });
  afterEach(() => {
    ctl.received.length = 0;
    ctl.progress.length = 0;
  });

  async function runToEnd(a: AssignmentInput): Promise<{ finished: RunFinished; batches: MetricBatch[]; records: Map<string, SessionRecord> }> {
    const finished = ctl.waitFor<RunFinished>('finished', (f) => f.runId === a.runId);
    const reply = await ctl.sockets
      .at(-1)!
      .timeout(10_000)
      .emitWithAck('run:assign', a as never);
    expect(reply).toEqual({ accepted: true });
    const f = await finished;
    expect(await agent.sender.drained(10_000)).toBe(true);
    const batches = [...ctl.stored.values()].filter((b) => b.runId === a.runId);
    const records = new Map(batches.flatMap((b) => b.sessions).map((s) => [s.sessionId, s]));
    return { finished: f, batches, records };
  }

  it('records every outcome exactly: samples, failed steps, timeouts; run:finished lastSeq = batches', async () => {
    const t0 = ctl.now();
    const { finished, batches, records } = await runToEnd(
      assignment({
        runId: 'run-outcomes',
        startAt: t0 + 300, // controller clock: 60 s ahead of this machine
        sessions: ['a-ok', 'b-ok', 'c-bad', 'd-slowstep', 'e-hang'].map((sessionId, i) => ({ sessionId, startOffsetMs: i * 50 })),
        // The hung session ends at its session timeout; every other one finishes well inside it, however busy the machine.
        options: { stepTimeoutMs: 30_000, sessionTimeoutMs: HANG_TIMEOUT_MS, adaptiveStart: false },
      }),
    );
    const took = ctl.now() - t0;
    expect(took).toBeLessThan(60_000); // started on the controller's clock (60 s ahead), not 60 s late

    expect(finished).toEqual({
      runId: 'run-outcomes',
      lastSeq: batches.length,
      ok: 2,
      failed: 3,
      aborted: 0,
      rampMs: expect.any(Number),
      peakConcurrent: expect.any(Number),
      parts: [0],
    });
    expect(finished.peakConcurrent).toBeLessThanOrEqual(2); // capacity 2
    expect(batches.map((b) => b.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: batches.length }, (_, i) => i + 1));
    expect([...records.keys()].sort()).toEqual(['a-ok', 'b-ok', 'c-bad', 'd-slowstep', 'e-hang']);
    expect(records.get('a-ok')).toMatchObject({ status: 'ok', failedStep: null, error: null, scenario: 'chat-load', browser: 'shell', artifacts: [] });
    expect(records.get('c-bad')).toMatchObject({
      status: 'failed',
      failedStep: 'send-message',
      error: { code: ERROR_CODES.STEP_FAILED, message: 'step "send-message" failed: send button missing' },
    });
    expect(records.get('d-slowstep')).toMatchObject({
      status: 'failed',
      failedStep: 'open-widget',
      error: { code: ERROR_CODES.STEP_TIMEOUT, message: expect.stringContaining('did not finish within 100 ms (step timeout; raise timeouts.step') },
    });
    expect(records.get('e-hang')).toMatchObject({
      status: 'failed',
      failedStep: 'wait-for-agent',
      error: { code: ERROR_CODES.STEP_TIMEOUT, message: expect.stringContaining(`hard limit of ${HANG_TIMEOUT_MS} ms`) },
    });

    const samples = batches.flatMap((b) => b.samples);
    const count = (id: string): string[] =>
      samples
        .filter((s) => s.sessionId === id)
        .map((s) => s.metric)
        .sort();
    expect(count('a-ok')).toEqual(['api_create', 'api_init', 'page_load']);
    expect(count('b-ok')).toEqual(['api_create', 'api_init', 'page_load']);
    for (const id of ['c-bad', 'd-slowstep', 'e-hang']) expect(count(id)).toEqual(['api_init', 'page_load']);
    expect(samples).toHaveLength(12);
    // stored times are in the controller's clock
    for (const s of samples) expect(Math.abs(s.ts - ctl.now())).toBeLessThan(30_000);
    for (const r of records.values()) expect(r.endedAt).toBeGreaterThanOrEqual(r.startedAt);

    const phases = (p: string): string[] =>
      ctl.progress
        .filter((x) => x.runId === 'run-outcomes' && x.phase === p)
        .map((x) => x.sessionId)
        .sort();
    expect(phases('started')).toEqual(['a-ok', 'b-ok', 'c-bad', 'd-slowstep', 'e-hang']);
    expect(phases('finished')).toEqual(['a-ok', 'b-ok']);
    expect(phases('failed')).toEqual(['c-bad', 'd-slowstep', 'e-hang']);
    expect(agent.pool.browser?.browserContexts()).toHaveLength(1); // only the default context is left
  });

  it('run:abort aborts running sessions and records those not yet started as aborted', async () => {
    const runId = 'run-abort';
    let parked = 0;
    const started = new Promise<void>((resolve) =>
      waiting.on('waiting', () => {
        if (++parked === 2) resolve();
      }),
    );
    const finished = ctl.waitFor<RunFinished>('finished', (f) => f.runId === runId);
    const reply = await ctl.sockets
      .at(-1)!
      .timeout(10_000)
      .emitWithAck(
        'run:assign',
        assignment({
          runId,
          startAt: ctl.now() + 100,
          sessions: [
            { sessionId: 'x1-abortable', startOffsetMs: 0 },
            { sessionId: 'x2-abortable', startOffsetMs: 0 },
            { sessionId: 'x3-abortable', startOffsetMs: 0 },
            { sessionId: 'x4-late', startOffsetMs: 600_000 },
          ],
        }) as never,
      );
    expect(reply).toEqual({ accepted: true });
    await started; // capacity 2: x3 waits in the p-limit queue, x4 waits for its start time
    ctl.sockets.at(-1)!.emit('run:abort', { runId, reason: 'operator pressed ctrl-c' });
    expect(await finished).toEqual({
      runId,
      lastSeq: expect.any(Number),
      ok: 0,
      failed: 0,
      aborted: 4,
      rampMs: expect.any(Number),
      peakConcurrent: 2,
      parts: [0],
    });
    expect(await agent.sender.drained(10_000)).toBe(true);
    const records = new Map(
      [...ctl.stored.values()]
        .filter((b) => b.runId === runId)
        .flatMap((b) => b.sessions)
        .map((s) => [s.sessionId, s]),
    );
    expect([...records.values()].map((r) => r.status)).toEqual(['aborted', 'aborted', 'aborted', 'aborted']);
    const running = [...records.values()].filter((r) => r.failedStep === 'wait-for-agent');
    expect(running).toHaveLength(2);
    expect(running[0]!.error).toEqual({ code: ERROR_CODES.SESSION_ABORTED, message: 'session aborted: operator pressed ctrl-c' });
    expect(records.get('x4-late')).toMatchObject({ failedStep: null, error: { code: ERROR_CODES.SESSION_ABORTED } });
  });

  it('a new part adds sessions to the run; a part after the run finished reopens it and run:finished comes again with the higher lastSeq', async () => {
    const runId = 'run-parts';
    const first = ctl.waitFor<RunFinished>('finished', (f) => f.runId === runId);
    expect(
      await ctl.sockets
        .at(-1)!
        .timeout(10_000)
        .emitWithAck('run:assign', assignment({ runId, startAt: ctl.now() + 100, sessions: [{ sessionId: 'p1-ok', startOffsetMs: 0 }] }) as never),
    ).toEqual({ accepted: true });
    const f1 = await first;
    expect(f1).toMatchObject({ ok: 1, failed: 0 });
    const second = ctl.waitFor<RunFinished>('finished', (f) => f.runId === runId && f.lastSeq > f1.lastSeq);
    const part1 = assignment({ runId, part: 1, startAt: ctl.now() + 100, sessions: [{ sessionId: 'p2-ok.a2', startOffsetMs: 0 }] });
    expect(
      await ctl.sockets
        .at(-1)!
        .timeout(10_000)
        .emitWithAck('run:assign', part1 as never),
    ).toEqual({ accepted: true });
    // the same part again (a lost ack) is accepted as a repeat; other sessions under a held part are refused
    expect(
      await ctl.sockets
        .at(-1)!
        .timeout(10_000)
        .emitWithAck('run:assign', part1 as never),
    ).toEqual({ accepted: true });
    const f2 = await second;
    expect(f2).toMatchObject({ ok: 2, failed: 0 });
    expect(await agent.sender.drained(10_000)).toBe(true);
    const records = [...ctl.stored.values()]
      .filter((b) => b.runId === runId)
      .flatMap((b) => b.sessions)
      .map((r) => r.sessionId)
      .sort();
    expect(records).toEqual(['p1-ok', 'p2-ok.a2']);
    const seqs = [...ctl.stored.values()]
      .filter((b) => b.runId === runId)
      .map((b) => b.seq)
      .sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: f2.lastSeq }, (_, i) => i + 1)); // numbering goes on across parts
  });

  it('run:resume drops the revoked sessions that had not started (no record), names those that had, ignores ids it never held; the hello reports what the agent holds', async () => {
    const runId = 'run-revoke';
    let parked = false;
    const started = new Promise<void>((resolve) =>
      waiting.once('waiting', () => {
        parked = true;
        resolve();
      }),
    );
    const finished = ctl.waitFor<RunFinished>('finished', (f) => f.runId === runId);
    const sock = ctl.sockets.at(-1)!;
    expect(
      await sock.timeout(10_000).emitWithAck(
        'run:assign',
        assignment({
          runId,
          startAt: ctl.now() + 100,
          sessions: [
            { sessionId: 'v1-abortable', startOffsetMs: 0 },
            { sessionId: 'v2-late', startOffsetMs: 600_000 },
          ],
        }) as never,
      ),
    ).toEqual({ accepted: true });
    await started;
    expect(parked).toBe(true);
    expect(agent.runner.runStates().find((r) => r.runId === runId)).toMatchObject({ running: ['v1-abortable'], pending: 1, finished: false });
    const reply = await sock.timeout(10_000).emitWithAck('run:resume', { runId, revoked: ['v2-late', 'v1-abortable', 'not-mine'], reason: 'test' });
    expect(reply).toEqual({ revoked: ['v2-late'], alreadyStarted: ['v1-abortable'] });
    sock.emit('run:abort', { runId, reason: 'test over' });
    expect(await finished).toMatchObject({ ok: 0, failed: 0, aborted: 1 });
    expect(await agent.sender.drained(10_000)).toBe(true);
    const records = [...ctl.stored.values()]
      .filter((b) => b.runId === runId)
      .flatMap((b) => b.sessions)
      .map((r) => r.sessionId);
    expect(records).toEqual(['v1-abortable']); // the revoked session left no record
  });

  it('refuses an assignment it cannot run, with the reason', async () => {
    const reply = await ctl.sockets
      .at(-1)!
      .timeout(10_000)
      .emitWithAck('run:assign', assignment({ runId: 'run-unknown', startAt: ctl.now(), scenario: 'cobrowse' }) as never);
    expect(reply).toMatchObject({ accepted: false, code: ERROR_CODES.SCENARIO_UNKNOWN, reason: expect.stringContaining('it runs: chat-load') });
  });

  it('with adaptive start, run:finished says what the start gate held back: two starts at once, the second waits its turn', async () => {
    const { finished } = await runToEnd(
      assignment({
        runId: 'run-gate',
        startAt: ctl.now() + 100,
        sessions: [
          { sessionId: 'g1-ok', startOffsetMs: 0 },
          { sessionId: 'g2-ok', startOffsetMs: 0 },
        ],
        options: { stepTimeoutMs: 5_000, sessionTimeoutMs: 20_000, adaptiveStart: true },
      }),
    );
    expect(finished.ok).toBe(2);
    // The gate spaces starts by at least its minimum interval (100 ms), whatever the CPU: the second start is held.
    expect(finished.startGate!.held).toBeGreaterThanOrEqual(1);
    expect(finished.startGate!.maxMs).toBeGreaterThanOrEqual(1);
    expect(finished.startGate!.totalMs).toBeGreaterThanOrEqual(finished.startGate!.maxMs);
  });

  it('with a duration, each session slot repeats until the duration is over, every round recorded', async () => {
    const durationMs = 4_000;
    const { finished, batches, records } = await runToEnd(
      assignment({
        runId: 'run-duration',
        startAt: ctl.now() + 200,
        durationMs,
        sessions: [
          { sessionId: 'p1-ok', startOffsetMs: 0 },
          { sessionId: 'p2-ok', startOffsetMs: 100 },
        ],
      }),
    );
    const ids = [...records.keys()].sort();
    for (const slot of ['p1-ok', 'p2-ok']) {
      const rounds = ids.filter((id) => id === slot || id.startsWith(`${slot}.r`));
      expect(rounds.length).toBeGreaterThanOrEqual(2);
      // consecutive rounds: slot, slot.r1, slot.r2, …
      expect(rounds.sort((x, y) => x.length - y.length || x.localeCompare(y, 'en', { numeric: true }))).toEqual([
        slot,
        ...Array.from({ length: rounds.length - 1 }, (_, i) => `${slot}.r${i + 1}`),
      ]);
    }
    expect([...records.values()].every((r) => r.status === 'ok')).toBe(true);
    // No round starts after the duration: every record began within it (controller clock).
    const start = Math.min(...[...records.values()].map((r) => r.startedAt));
    for (const r of records.values()) expect(r.startedAt - start).toBeLessThan(durationMs + 200);
    expect(finished).toMatchObject({ runId: 'run-duration', ok: records.size, failed: 0, lastSeq: batches.length });
    expect(batches.flatMap((b) => b.samples)).toHaveLength(records.size * 3);
  });
});
