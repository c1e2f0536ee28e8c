// Simulated agents for bench/scale: each a real socket.io-client connection speaking the agent
// protocol as packages/agent does (Hello with its derived token, agent:status every 5 s, the
// clock-sync round trips when it connects — or, with --clock assign, on run:assign before the
// ack, as the agent did before its clock keeper; the assignment ack; each
// session at the agreed start plus its offset: session:progress started, one validated batch
// of the scenario's core metrics — resent, as the agent's outbox does, when its ack does not
// come within the ack timeout — progress finished, then run:finished). No browser.
//
// Started by bench/scale/run.mjs (one process per share of the fleet):
//   node bench/scale/swarm.mjs --url http://127.0.0.1:PORT --from 0 --count 1250
// with PROBE_TOKEN (the controller's master secret) in the environment.
// Talks to its parent over IPC: {kind:'connected', n} once all are in; the parent sends
// {kind:'report'} and gets {kind:'report', ...} with what the agents saw.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const root = new URL('../../', import.meta.url);
const requireAgent = createRequire(new URL('packages/agent/package.json', root));
const { io } = requireAgent('socket.io-client');
const { PROTOCOL_VERSION, CLOCK_SYNC_ROUNDS, BATCH_ACK_TIMEOUT_MS, coreMetrics } = await import(new URL('packages/shared/dist/index.js', root).href);
const { deriveAgentToken } = await import(new URL('packages/controller/dist/index.js', root).href);

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    from: { type: 'string', default: '0' },
    count: { type: 'string', default: '100' },
    'connect-rate': { type: 'string', default: '250' },
    // connect: the offset is measured when the agent connects and a run uses it (the agent since the clock keeper);
    // assign: measured when an assignment comes, before the ack (the agent before it).
    clock: { type: 'string', default: 'connect' },
  },
});
const master = process.env.PROBE_TOKEN;
if (!args.url || !master) throw new Error('swarm: --url and PROBE_TOKEN are needed');
const FROM = Number(args.from);
const COUNT = Number(args.count);
const STATUS_EVERY_MS = 5_000;

const seen = {
  assigned: [], // [receivedAt, ackedAt, startAt] per agent
  lateness: [], // ms, actual start - planned start, per session
  batchAckMs: [], // hand-over → ack, per batch (the last try)
  resends: 0,
  clockRoundsLost: 0,
  batchesAcked: 0,
  duplicates: 0,
  refused: 0,
  finished: 0,
  errors: [],
};

function agent(i) {
  const agentId = `swarm-${i}`;
  const hello = {
    protocolVersion: PROTOCOL_VERSION,
    token: deriveAgentToken(master, agentId),
    agentId,
    instanceId: `swarm-${i}-${process.pid}`,
    runs: [],
    name: agentId,
    labels: { region: `r${i % 4}` },
    capacity: { 'chat-load': 1, 'video-call': 0, cobrowse: 0 },
    software: 'userprobe-bench-swarm/1',
    host: { cpus: 2, memMb: 2048, platform: 'linux' },
  };
  const socket = io(args.url, { auth: hello, transports: ['websocket'], reconnection: false, forceNew: true });
  let seq = 0;
  socket.on('agent:probe', (_p, ack) => ack({ instanceId: hello.instanceId }));
  socket.on('run:abort', () => undefined);
  socket.on('run:resume', (r, ack) => ack({ revoked: [...r.revoked], alreadyStarted: [] }));
  // As the agent does: each round trip may take 2 s (CLOCK_SYNC_ROUND_TIMEOUT_MS); one that does not answer is dropped.
  const syncClock = async () => {
    for (let k = 0; k < CLOCK_SYNC_ROUNDS; k++) {
      try {
        await socket.timeout(2_000).emitWithAck('clock:sync', { t0: Date.now() });
      } catch {
        seen.clockRoundsLost += 1;
      }
    }
  };
  if (args.clock === 'connect') socket.once('connect', () => void syncClock().catch((e) => seen.errors.push(`${agentId} clock: ${e.message}`)));
  socket.on('run:assign', (a, ack) => {
    const receivedAt = Date.now();
    void (async () => {
      if (args.clock === 'assign') await syncClock();
      ack({ accepted: true });
      seen.assigned.push([receivedAt, Date.now(), a.startAt]);
      await Promise.all(a.sessions.map((s) => session(a, s)));
      await socket.timeout(10_000).emitWithAck('run:finished', { runId: a.runId, lastSeq: seq, ok: a.sessions.length, failed: 0, parts: [a.part] });
      seen.finished += 1;
    })().catch((e) => seen.errors.push(`${agentId}: ${e.message}`));
  });
  async function session(a, s) {
    const planned = a.startAt + s.startOffsetMs;
    await new Promise((r) => setTimeout(r, Math.max(0, planned - Date.now())));
    const startedAt = Date.now();
    seen.lateness.push(startedAt - planned);
    socket.emit('session:progress', { runId: a.runId, sessionId: s.sessionId, phase: 'started' });
    const batch = {
      runId: a.runId,
      agentId,
      seq: ++seq,
      createdAt: Date.now(),
      samples: coreMetrics(a.scenario).map((metric, k) => ({ sessionId: s.sessionId, metric, value: 100 + k, ts: startedAt + k })),
      sessions: [
        {
          sessionId: s.sessionId,
          scenario: a.scenario,
          browser: a.browser,
          status: 'ok',
          startedAt,
          endedAt: Date.now(),
          failedStep: null,
          error: null,
          artifacts: [],
        },
      ],
    };
    for (;;) {
      const t = Date.now();
      try {
        const ack = await socket.timeout(BATCH_ACK_TIMEOUT_MS).emitWithAck('metrics:batch', batch);
        seen.batchAckMs.push(Date.now() - t);
        if (!ack.ok) {
          seen.refused += 1;
          seen.errors.push(`${agentId} batch ${batch.seq}: ${ack.reason}`);
        } else {
          seen.batchesAcked += 1;
          if (ack.duplicate) seen.duplicates += 1;
        }
        break;
      } catch {
        seen.resends += 1; // no ack within the timeout: the outbox sends it again
      }
    }
    socket.emit('session:progress', { runId: a.runId, sessionId: s.sessionId, phase: 'finished' });
  }
  const status = setInterval(
    () => socket.emit('agent:status', { cpu: 0.05, memMb: 150, activeSessions: 0, saturated: false, spooled: 0 }),
    STATUS_EVERY_MS + (i % 100), // spread as real agents' timers are
  );
  socket.on('disconnect', () => clearInterval(status));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => reject(new Error(`${agentId}: ${e.message}`)));
  });
}

const sockets = [];
const gap = 1000 / Number(args['connect-rate']);
for (let i = FROM; i < FROM + COUNT; i++) {
  sockets.push(agent(i));
  await new Promise((r) => setTimeout(r, gap));
}
await Promise.all(sockets);
process.send?.({ kind: 'connected', n: COUNT });
process.on('message', (m) => {
  if (m.kind === 'report') process.send?.({ kind: 'report', ...seen, errors: seen.errors.slice(0, 20), errorCount: seen.errors.length });
  if (m.kind === 'stop') process.exit(0);
});
