import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { io as connect } from 'socket.io-client';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import {
  ERROR_CODES,
  PACKET_MAX_ATTACHMENTS,
  PACKET_MAX_BYTES,
  PROTOCOL_VERSION,
  ProbeError,
  type MetricBatch,
  type BatchAck,
  type ClockPong,
} from '@userprobe/shared';
import { HUB_REFUSED_LOG_WINDOW_MS, listenHub, type HubOptions, type ListeningHub } from './hub.js';
import { Ingest } from './ingest.js';
import { RunRegistry } from '../run/run-registry.js';
import { ResultsSink } from '../results/folder-sink.js';
import type { AgentInfo, Sink } from '../results/sink.js';
import { writeFile } from 'node:fs/promises';
import {
  captureLog,
  tempDir,
  hello,
  connectAgent,
  refusedWith,
  batch,
  sample,
  lineCount,
  deferred,
  agentToken,
  FIXTURE_MASTER,
  type FakeAgent,
} from '../../test/fixtures.js';
import { RevokedAgents } from '../trust/revoked-agents.js';

/** The master secret: agents send the token derived from it for their id (fixtures' hello()). */
const TOKEN = FIXTURE_MASTER;

interface Ctl {
  listening: ListeningHub;
  sink: ResultsSink;
  ingest: Ingest;
  close: () => Promise<void>;
}

async function startController(
  outDir: string,
  log: ReturnType<typeof captureLog>['log'],
  extraSinks: Sink[] = [],
  over: Partial<HubOptions> = {},
): Promise<Ctl> {
  const sink = new ResultsSink({ outDir, log });
  await sink.open();
  const ingest = new Ingest([sink, ...extraSinks], log);
  const listening = await listenHub('127.0.0.1', 0, { token: TOKEN, ingest, log, ...over });
  return {
    listening,
    sink,
    ingest,
    close: async () => {
      await listening.close();
      await sink.close();
    },
  };
}

const send = (s: FakeAgent, b: unknown): Promise<BatchAck> => s.timeout(10_000).emitWithAck('metrics:batch', b as MetricBatch);

describe('agent hub', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let logs: ReturnType<typeof captureLog>;
  let ctl: Ctl;
  const sockets: FakeAgent[] = [];

  beforeEach(async () => {
    tmp = await tempDir();
    logs = captureLog();
    ctl = await startController(tmp.dir, logs.log);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await ctl.close();
    await tmp.cleanup();
  });

  /** Restart the controller on the same folder with other hub options. */
  const stopAndStart = async (over: Partial<HubOptions>) => {
    await ctl.close();
    ctl = await startController(tmp.dir, logs.log, [], over);
  };

  const agent = async (over = {}) => {
    const s = await connectAgent(ctl.listening.url, hello(over));
    sockets.push(s);
    return s;
  };

  it('refuses a wrong token with a reason the agent receives, without echoing the token', async () => {
    const err = await refusedWith(ctl.listening.url, hello({ token: 'not-the-token-xyz' }));
    expect(err.data).toEqual({ code: ERROR_CODES.AUTH_REJECTED, reason: expect.stringMatching(/wrong token/) });
    expect(err.data!.reason).not.toContain('not-the-token-xyz');
    expect(JSON.stringify(logs.lines())).not.toContain('not-the-token-xyz');
    expect(JSON.stringify(logs.lines())).not.toContain(TOKEN);
    expect(ctl.listening.hub.agents()).toHaveLength(0);
  });

  it('a wrong token is refused before anything else: the protocol version is revealed only to a holder of the token', async () => {
    const err = await refusedWith(ctl.listening.url, hello({ token: 'wrong', protocolVersion: PROTOCOL_VERSION + 1 }));
    expect(err.data).toEqual({ code: ERROR_CODES.AUTH_REJECTED, reason: expect.stringMatching(/wrong token/) });
    expect(err.data!.reason).not.toMatch(/protocol/);
    const { token: _t, ...noToken } = hello({ protocolVersion: PROTOCOL_VERSION + 1 });
    expect((await refusedWith(ctl.listening.url, noToken)).data?.code).toBe(ERROR_CODES.AUTH_REJECTED);
    const { capacity: _c, ...malformed } = hello({ token: 'wrong' });
    expect((await refusedWith(ctl.listening.url, malformed)).data?.code).toBe(ERROR_CODES.AUTH_REJECTED);
  });

  describe('per-agent identity (issue 11, finding 3)', () => {
    it('a token derived for another agent id is refused: one agent cannot speak for another', async () => {
      const err = await refusedWith(ctl.listening.url, hello({ agentId: 'agent-1', token: agentToken('agent-2') }));
      expect(err.data).toEqual({ code: ERROR_CODES.AUTH_REJECTED, reason: expect.stringMatching(/wrong token .*controller agent-token <agent id>/) });
      expect(err.data!.reason).not.toContain(agentToken('agent-2'));
      // …while agent-2's token works for agent-2
      const s = await agent({ agentId: 'agent-2', name: 'fake-2' });
      expect(s.connected).toBe(true);
      expect(ctl.listening.hub.agents().map((a) => a.info.agentId)).toEqual(['agent-2']);
    });

    it('the master secret itself is refused from an agent, with what to do instead; a wrong token learns nothing of this', async () => {
      const err = await refusedWith(ctl.listening.url, hello({ token: TOKEN }));
      expect(err.data?.code).toBe(ERROR_CODES.AUTH_REJECTED);
      expect(err.data?.reason).toMatch(/master secret.*controller agent-token.*--allow-shared-token/);
      expect(err.data?.reason).not.toContain(TOKEN);
      expect((await refusedWith(ctl.listening.url, hello({ token: 'guess' }))).data?.reason).toMatch(/^wrong token/);
      expect(JSON.stringify(logs.lines())).not.toContain(TOKEN);
      expect(ctl.listening.hub.agents()).toHaveLength(0);
    });

    it("--allow-shared-token accepts the master from any agent id (the old mode), and agents' own tokens still", async () => {
      await stopAndStart({ allowSharedToken: true });
      const a = await agent({ agentId: 'any-id', name: 'any', token: TOKEN });
      const b = await agent({ agentId: 'agent-2', name: 'two' });
      expect([a.connected, b.connected]).toEqual([true, true]);
      expect((await refusedWith(ctl.listening.url, hello({ agentId: 'x', token: agentToken('y') }))).data?.code).toBe(ERROR_CODES.AUTH_REJECTED);
    });

    it('a revoked agent id is refused even with its valid token; other agents are not', async () => {
      const file = join(tmp.dir, 'revoked.txt');
      await writeFile(file, '# revoked after the laptop was lost\nagent-7\n');
      const revoked = await RevokedAgents.open(file, logs.log, 50);
      try {
        await stopAndStart({ revoked });
        const err = await refusedWith(ctl.listening.url, hello({ agentId: 'agent-7' }));
        expect(err.data).toEqual({
          code: ERROR_CODES.AGENT_REVOKED,
          reason: expect.stringMatching(/agent id "agent-7" is revoked on this controller \(listed in its --revoked-agents file\)/),
        });
        // revocation is told only to a holder of the id's token
        expect((await refusedWith(ctl.listening.url, hello({ agentId: 'agent-7', token: 'guess' }))).data?.code).toBe(ERROR_CODES.AUTH_REJECTED);
        expect((await agent({ agentId: 'agent-8', name: 'eight' })).connected).toBe(true);
      } finally {
        revoked.close();
      }
    });

    it('an agent revoked while connected is disconnected when the file changes, and refused when it dials again', async () => {
      const file = join(tmp.dir, 'revoked.txt');
      await writeFile(file, '');
      const revoked = await RevokedAgents.open(file, logs.log, 50);
      try {
        await stopAndStart({ revoked });
        const s = await agent({ agentId: 'agent-9', name: 'nine' });
        const gone = new Promise<string>((r) => s.once('disconnect', (reason) => r(reason)));
        await writeFile(file, 'agent-9\n');
        expect(await gone).toBe('io server disconnect');
        expect(ctl.listening.hub.agents()).toHaveLength(0);
        expect((await refusedWith(ctl.listening.url, hello({ agentId: 'agent-9' }))).data?.code).toBe(ERROR_CODES.AGENT_REVOKED);
        expect(logs.lines().some((l) => l.msg === 'agent revoked: disconnecting it' && l.agentId === 'agent-9')).toBe(true);
      } finally {
        revoked.close();
      }
    });
  });

  it('refused handshakes log at most one line per address per window, then one with the count held back', async () => {
    await ctl.close();
    let clock = 1_000_000;
    const sink = new ResultsSink({ outDir: tmp.dir, log: logs.log });
    await sink.open();
    const listening = await listenHub('127.0.0.1', 0, { token: TOKEN, ingest: new Ingest([sink], logs.log), log: logs.log, now: () => clock });
    ctl = {
      listening,
      sink,
      ingest: new Ingest([sink], logs.log),
      close: async () => {
        await listening.close();
        await sink.close();
      },
    };
    const refusedLines = () => logs.lines().filter((l) => l.msg === 'agent refused');
    for (let i = 0; i < 20; i++) await refusedWith(listening.url, hello({ token: `wrong-${i}` }));
    expect(refusedLines()).toHaveLength(1);
    expect(refusedLines()[0]).toMatchObject({ remote: expect.stringContaining('127.0.0.1'), code: ERROR_CODES.AUTH_REJECTED });
    clock += HUB_REFUSED_LOG_WINDOW_MS;
    await refusedWith(listening.url, hello({ token: 'wrong-again' }));
    expect(refusedLines()).toHaveLength(2);
    expect(refusedLines()[1]).toMatchObject({ suppressed: 19 });
  });

  it('refuses a protocol mismatch naming both versions', async () => {
    const err = await refusedWith(ctl.listening.url, hello({ protocolVersion: PROTOCOL_VERSION + 1 }));
    expect(err.data?.code).toBe(ERROR_CODES.PROTOCOL_MISMATCH);
    expect(err.data?.reason).toContain(`protocol ${PROTOCOL_VERSION + 1}`);
    expect(err.data?.reason).toContain(`accepts protocol ${PROTOCOL_VERSION}`);
  });

  it('refuses a malformed hello naming the bad field and what is accepted', async () => {
    const { capacity: _c, ...noCapacity } = hello();
    const err = await refusedWith(ctl.listening.url, noCapacity);
    expect(err.data?.code).toBe(ERROR_CODES.MESSAGE_INVALID);
    expect(err.data?.reason).toMatch(/^malformed hello: capacity: .*accepted: an object with protocolVersion/);
    const err2 = await refusedWith(ctl.listening.url, hello({ agentId: 'has spaces' }));
    expect(err2.data?.reason).toMatch(/agentId:/);
  });

  it('refuses a hello with 10,000 labels with a short reason; neither the reason nor the log holds the labels', async () => {
    const labels = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`label${i}`, `value-${i}-${'x'.repeat(100)}`]));
    const err = await refusedWith(ctl.listening.url, hello({ labels }));
    expect(err.data?.code).toBe(ERROR_CODES.MESSAGE_INVALID);
    expect(err.data?.reason).toMatch(/^malformed hello: labels: at most \d+ labels, got 10000/);
    expect(err.data!.reason.length).toBeLessThan(500);
    const logged = JSON.stringify(logs.lines());
    expect(logged).not.toContain('label9999');
    expect(logged.length).toBeLessThan(5_000);
    expect(ctl.listening.hub.agents()).toHaveLength(0);
  });

  it('accepts a good hello and reports the agent with its location', async () => {
    const connected = new Promise((r) => ctl.listening.hub.once('agent:connected', r));
    await agent({ labels: { region: 'ams3' } });
    await connected;
    expect(ctl.listening.hub.agents().map((a) => a.info)).toEqual([
      { agentId: 'agent-1', name: 'fake-1', labels: { region: 'ams3' }, capacity: { 'chat-load': 4, 'video-call': 1, cobrowse: 2 }, location: 'ams3' },
    ]);
  });

  it('drops an invalid payload, logs it with the agent id, and keeps serving', async () => {
    const s = await agent();
    const ack = await send(s, { runId: 'run-1', agentId: 'agent-1', seq: 'one' });
    expect(ack).toMatchObject({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID });
    expect((ack as { reason: string }).reason).toMatch(/invalid "metrics:batch" message: seq:/);
    s.emit('session:progress', { runId: 'run-1' } as never);
    // Still serving: a clock sync round trip on the same socket.
    const pong: ClockPong = await s.timeout(5_000).emitWithAck('clock:sync', { t0: 123 });
    expect(pong.t0).toBe(123);
    expect(Math.abs(pong.controllerNow - Date.now())).toBeLessThan(5_000);
    const dropped = logs.lines().filter((l) => l.msg === 'invalid message dropped');
    expect(dropped.map((l) => [l.agentId, l.event])).toEqual([
      ['agent-1', 'metrics:batch'],
      ['agent-1', 'session:progress'],
    ]);
    expect(await lineCount(join(tmp.dir, 'run-1', 'samples.jsonl'))).toBe(0);
  });

  it('refuses a batch with an absurd timestamp as invalid, for good (not a retryable sink error the agent loops on)', async () => {
    const s = await agent();
    const ack = await send(s, batch({ samples: [sample('s0001', 'page_load', 120, 1e20)] }));
    expect(ack).toMatchObject({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID });
    expect((ack as { reason: string }).reason).toMatch(/samples\.0\.ts: .*2000-01-01.*2100-01-01/);
    expect(await lineCount(join(tmp.dir, 'run-1', 'samples.jsonl'))).toBe(0);
  });

  it("refuses a batch carrying another agent's id", async () => {
    const s = await agent();
    const ack = await send(s, batch({ agentId: 'agent-2' }));
    expect(ack).toMatchObject({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID });
  });

  it('acks a batch only after the results sink wrote it; the same batch twice is stored once', async () => {
    await ctl.close();
    const gate = deferred();
    const reached = deferred();
    const gated: Sink = {
      name: 'gate',
      open: async () => {},
      runStarted: async () => {},
      runEnded: async () => {},
      close: async () => {},
      writeBatch: async () => {
        reached.resolve();
        await gate.promise;
        return 'stored';
      },
    };
    ctl = await startController(tmp.dir, logs.log, [gated]);
    const s = await agent();
    const b = batch();
    let acked = false;
    const ackP = send(s, b).then((a) => {
      acked = true;
      return a;
    });
    await reached.promise; // the results sink ran first, the gate sink holds the ack back
    const samplesPath = join(tmp.dir, 'run-1', 'samples.jsonl');
    expect(await lineCount(samplesPath)).toBe(3);
    expect(acked).toBe(false);
    gate.resolve();
    expect(await ackP).toEqual({ ok: true, seq: 1, duplicate: false });
    expect(await send(s, b)).toEqual({ ok: true, seq: 1, duplicate: true });
    expect(await send(s, batch({ seq: 2, samples: [b.samples[0]!] }))).toEqual({ ok: true, seq: 2, duplicate: false });
    expect(await lineCount(samplesPath)).toBe(4);
    const first = JSON.parse((await readFile(samplesPath, 'utf8')).split('\n')[0]!) as Record<string, unknown>;
    expect(first).toEqual({
      runId: 'run-1',
      agentId: 'agent-1',
      sessionId: 's0001',
      scenario: null,
      metric: 'page_load',
      value: 120,
      ts: '2025-01-01T12:00:00.000Z',
      location: 'local',
      browser: null,
      saturated: false,
    });
    expect(await lineCount(join(tmp.dir, 'run-1', 'batches.jsonl'))).toBe(2);
  });

  it('acks ok:false (retryable) when a sink fails, and stores it on the retry', async () => {
    await ctl.close();
    let fail = true;
    const flaky: Sink = {
      name: 'flaky',
      open: async () => {},
      runStarted: async () => {},
      runEnded: async () => {},
      close: async () => {},
      writeBatch: async () => {
        if (fail) throw new ProbeError(ERROR_CODES.SINK_UNAVAILABLE, 'database unreachable');
        return 'stored';
      },
    };
    ctl = await startController(tmp.dir, logs.log, [flaky]);
    const s = await agent();
    const a1 = await send(s, batch());
    expect(a1).toMatchObject({ ok: false, seq: 1, retryable: true, code: ERROR_CODES.SINK_UNAVAILABLE });
    expect((a1 as { reason: string }).reason).toContain('database unreachable');
    fail = false;
    // The results sink stored it already; the flaky sink stores it now: not a duplicate overall.
    expect(await send(s, batch())).toEqual({ ok: true, seq: 1, duplicate: false });
    expect(await lineCount(join(tmp.dir, 'run-1', 'samples.jsonl'))).toBe(3);
  });

  it('a restarted controller on the same results folder still reports a replayed batch as duplicate', async () => {
    let s = await agent();
    expect(await send(s, batch())).toEqual({ ok: true, seq: 1, duplicate: false });
    s.close();
    await ctl.close();
    ctl = await startController(tmp.dir, logs.log);
    s = await agent();
    expect(await send(s, batch())).toEqual({ ok: true, seq: 1, duplicate: true });
    expect(await send(s, batch({ seq: 2 }))).toEqual({ ok: true, seq: 2, duplicate: false });
    expect(await lineCount(join(tmp.dir, 'run-1', 'samples.jsonl'))).toBe(6);
  });

  it('a reconnect of the same agent process (same instance) replaces its stale connection', async () => {
    const a = await agent();
    const gone = new Promise((r) => a.once('disconnect', r));
    await agent();
    await gone;
    expect(ctl.listening.hub.agents()).toHaveLength(1);
  });

  it("a second process claiming a connected agent's id is refused while the first answers its liveness probe", async () => {
    const first = await agent();
    first.on('agent:probe', (_p, ack) => ack({ instanceId: 'instance-1' }));
    const err = await refusedWith(ctl.listening.url, hello({ instanceId: 'instance-2' }));
    expect(err.data?.code).toBe(ERROR_CODES.AGENT_DUPLICATE);
    expect(err.data?.reason).toMatch(/agent id "agent-1" is already connected and answering.*every agent needs its own --id/);
    expect(first.connected).toBe(true);
    expect(ctl.listening.hub.agents().map((a) => a.hello.instanceId)).toEqual(['instance-1']);
  });

  it('a second process takes an agent id over when the connected one does not answer (a half-open connection)', async () => {
    await stopAndStart({ livenessProbeMs: 200 });
    const silent = await agent(); // no agent:probe handler: it never answers
    const gone: string[] = [];
    ctl.listening.hub.on('agent:disconnected', (g) => gone.push(g.reason));
    const second = await agent({ instanceId: 'instance-2' });
    expect(second.connected).toBe(true);
    expect(ctl.listening.hub.agents().map((a) => a.hello.instanceId)).toEqual(['instance-2']);
    expect(gone).toEqual(['replaced: no answer to a liveness probe']);
    void silent;
  });

  it("stores a batch only for a run the agent was assigned, sessions of its share, times in the run's window (finding 6)", async () => {
    const registry = new RunRegistry(tmp.dir, logs.log);
    await stopAndStart({ runs: registry });
    const t0 = Date.UTC(2025, 0, 1, 12);
    registry.set({
      version: 2,
      runId: 'run-1',
      status: 'open',
      scenario: 'chat-load',
      browser: 'shell',
      targetName: 'demo',
      total: 2,
      startedAt: t0 - 60_000,
      startAt: t0 - 58_500,
      deadlineAt: t0 + 600_000,
      durationMs: null,
      config: { onAgentLoss: 'reassign', lossGraceMs: 15_000, drainMs: 30_000, startLeadMs: 1_500, reassignSpacingMs: 1_000, sessionTimeoutMs: 120_000 },
      nextPart: 1,
      agents: [
        { agentId: 'agent-1', name: 'fake-1', capacity: 4, instanceId: 'instance-1', inRun: true, parts: [0], sentParts: [0], finished: null, lost: false },
      ],
      slots: [{ slot: 's0001', agentId: 'agent-1', attempt: 1, part: 0, current: null, offsetMs: 0, phase: 'pending', status: null, movedFrom: [] }],
      lostSessions: [],
      end: null,
      endedAt: null,
    });
    const s = await agent();
    const internal = await send(s, batch({ runId: '.spool' }));
    expect(internal).toMatchObject({ ok: false, retryable: true, code: ERROR_CODES.RUN_UNKNOWN });
    const unknown = await send(s, batch({ runId: 'run-made-up' }));
    expect(unknown).toMatchObject({ ok: false, retryable: true, code: ERROR_CODES.RUN_UNKNOWN });
    const foreign = await send(s, batch({ samples: [sample('s0002', 'page_load', 1)] }));
    expect(foreign).toMatchObject({ ok: false, code: ERROR_CODES.MESSAGE_INVALID, reason: expect.stringContaining('s0002') });
    expect(await send(s, batch())).toEqual({ ok: true, seq: 1, duplicate: false });
    expect(await lineCount(join(tmp.dir, 'run-1', 'samples.jsonl'))).toBe(3);
    expect(await lineCount(join(tmp.dir, '.spool', 'samples.jsonl'))).toBe(0);
    expect(await lineCount(join(tmp.dir, 'run-made-up', 'samples.jsonl'))).toBe(0);
  });

  it('an agent back holding a run that has ended (it was away when the run closed) is told to abort it', async () => {
    const registry = new RunRegistry(tmp.dir, logs.log);
    await stopAndStart({ runs: registry });
    registry.set({
      version: 2,
      runId: 'ended-run',
      status: 'closed',
      scenario: 'chat-load',
      browser: 'shell',
      targetName: 'demo',
      total: 1,
      startedAt: 1,
      startAt: 2,
      deadlineAt: 3,
      durationMs: null,
      config: { onAgentLoss: 'reassign', lossGraceMs: 15_000, drainMs: 30_000, startLeadMs: 1_500, reassignSpacingMs: 1_000, sessionTimeoutMs: 120_000 },
      nextPart: 1,
      agents: [],
      slots: [],
      lostSessions: [],
      end: { kind: 'aborted', reason: 'SIGINT' },
      endedAt: 3,
    });
    // Listening before the connection opens: the abort follows the connect at once.
    const s: FakeAgent = connect(ctl.listening.url, {
      auth: hello({ runs: [{ runId: 'ended-run', lastSeq: 0, running: [], pending: 2, finished: false }] }),
      reconnection: false,
      transports: ['websocket'],
      forceNew: true,
    });
    sockets.push(s);
    const aborted = new Promise<unknown>((resolve) => s.on('run:abort', resolve));
    expect(await aborted).toEqual({ runId: 'ended-run', reason: 'run ended-run has ended (aborted) while this agent was away' });
  });

  it('two live processes racing for the same agent id: one is admitted, the other refused (review: both were admitted)', async () => {
    const outcomes = await Promise.all(
      ['instance-a', 'instance-b'].map(
        (instanceId) =>
          new Promise<string>((resolve) => {
            const s: FakeAgent = connect(ctl.listening.url, { auth: hello({ instanceId }), reconnection: false, transports: ['websocket'], forceNew: true });
            sockets.push(s);
            s.on('agent:probe', (_p, ack) => ack({ instanceId })); // both alive: they answer
            s.once('connect', () => resolve('admitted'));
            s.once('connect_error', (e: Error & { data?: { code: string } }) => resolve(e.data?.code ?? e.message));
          }),
      ),
    );
    expect(outcomes.sort()).toEqual(['E_AGENT_DUPLICATE', 'admitted']);
    expect(ctl.listening.hub.agents()).toHaveLength(1);
  });

  it('emits typed events for progress, finished and status; acks run:finished', async () => {
    const s = await agent();
    const progress = new Promise((r) => ctl.listening.hub.once('progress', (id, p) => r([id, p])));
    s.emit('session:progress', { runId: 'run-1', sessionId: 's0001', phase: 'started' });
    expect(await progress).toEqual(['agent-1', { runId: 'run-1', sessionId: 's0001', phase: 'started' }]);
    const finished = new Promise((r) => ctl.listening.hub.once('finished', (id, f) => r([id, f])));
    expect(await s.timeout(5_000).emitWithAck('run:finished', { runId: 'run-1', lastSeq: 2, ok: 1, failed: 0 })).toEqual({ ok: true });
    expect(await finished).toEqual(['agent-1', { runId: 'run-1', lastSeq: 2, ok: 1, failed: 0 }]);
    const status = new Promise((r) => ctl.listening.hub.once('status', (id, st) => r([id, st])));
    s.emit('agent:status', { cpu: 0.5, memMb: 100, activeSessions: 1, saturated: false, spooled: 0 });
    expect(await status).toEqual(['agent-1', { cpu: 0.5, memMb: 100, activeSessions: 1, saturated: false, spooled: 0 }]);
  });

  it('sends an assignment and returns the validated reply', async () => {
    const s = await agent();
    s.on('run:assign', (a, ack) => ack(a.sessions.length === 1 ? { accepted: true } : { accepted: false, code: 'X', reason: 'no' }));
    const [handle] = ctl.listening.hub.agents();
    const info: AgentInfo = handle!.info;
    expect(info.agentId).toBe('agent-1');
    const { AssignmentSchema } = await import('@userprobe/shared');
    const { demoLikeProfile } = await import('../../test/profile.js');
    const a = AssignmentSchema.parse({
      runId: 'run-1',
      scenario: 'chat-load',
      browser: 'shell',
      profile: demoLikeProfile,
      sessions: [{ sessionId: 's0001', startOffsetMs: 0 }],
      startAt: Date.now(),
      durationMs: null,
      options: { stepTimeoutMs: 1000, sessionTimeoutMs: 5000 },
    });
    expect(await handle!.assign(a, 5_000)).toEqual({ accepted: true });
  });

  it('evidence:upload: without a store it is refused as retryable (the agent keeps it); bad names and foreign agent ids are refused for good', async () => {
    const s = await agent();
    const up = (over: Record<string, unknown> = {}) =>
      s.timeout(10_000).emitWithAck('evidence:upload', {
        runId: 'r-1',
        agentId: hello().agentId,
        sessionId: 's1',
        files: [{ name: 'visitor.png', data: Buffer.from('x') }],
        ...over,
      }) as Promise<unknown>;
    expect(await up()).toMatchObject({ ok: false, retryable: true, code: ERROR_CODES.SINK_UNAVAILABLE });
    expect(await up({ files: [{ name: '../../etc/passwd', data: Buffer.from('x') }] })).toMatchObject({
      ok: false,
      retryable: false,
      code: ERROR_CODES.MESSAGE_INVALID,
      reason: expect.stringContaining('files.0.name'),
    });
    expect(await up({ agentId: 'someone-else' })).toMatchObject({ ok: false, retryable: false, reason: expect.stringContaining('does not match') });
  });

  it("evidence:upload over the parser's limits (an 11th attachment, more bytes than one packet) is refused for good with a clear reason; the connection stays", async () => {
    const s = await agent();
    const up = (files: Array<{ name: string; data: Buffer }>) =>
      s.timeout(10_000).emitWithAck('evidence:upload', {
        runId: 'r-1',
        agentId: hello().agentId,
        sessionId: 's1',
        files,
      }) as Promise<unknown>;
    const eleven = Array.from({ length: PACKET_MAX_ATTACHMENTS + 1 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from('x') }));
    expect(await up(eleven)).toEqual({
      ok: false,
      retryable: false,
      code: ERROR_CODES.MESSAGE_TOO_LARGE,
      reason: `evidence:upload refused: ${PACKET_MAX_ATTACHMENTS + 1} binary attachments; at most ${PACKET_MAX_ATTACHMENTS} per message`,
    });
    const big = [0, 1].map((i) => ({ name: `big${i}.bin`, data: Buffer.alloc(PACKET_MAX_BYTES / 2 + 1, 1) }));
    expect(await up(big)).toMatchObject({
      ok: false,
      retryable: false,
      code: ERROR_CODES.MESSAGE_TOO_LARGE,
      reason: expect.stringContaining(`at most ${PACKET_MAX_BYTES} bytes`),
    });
    // Still connected and served: nothing was dropped silently.
    expect(s.connected).toBe(true);
    expect(await s.timeout(5_000).emitWithAck('clock:sync', { t0: 7 })).toMatchObject({ t0: 7 });
    expect(await up([{ name: 'console.json', data: Buffer.from('{}') }])).toMatchObject({ ok: false, retryable: true, code: ERROR_CODES.SINK_UNAVAILABLE });
    const refused = logs.lines().filter((l) => l.msg === 'message over the size limits refused');
    expect(refused.map((l) => [l.agentId, l.event])).toEqual([
      ['agent-1', 'evidence:upload'],
      ['agent-1', 'evidence:upload'],
    ]);
  });
});
