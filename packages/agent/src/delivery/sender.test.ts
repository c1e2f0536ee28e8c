import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Hello, type MetricBatch } from '@userprobe/shared';
import { Connection } from './connection.js';
import { Sender, classifyAck } from './sender.js';
import { Spool } from './spool.js';
import { captureLog } from '../../test/log-capture.js';
import { nextEvent } from '../../test/socket-events.js';
import { startTestController, type TestController } from '../../test/test-controller.js';

const hello: Hello = {
  protocolVersion: PROTOCOL_VERSION,
  token: 'test-token',
  agentId: 'agent-t1',
  instanceId: 'agent-t1-i1',
  runs: [],
  name: 't1',
  labels: {},
  capacity: { 'chat-load': 2, 'video-call': 1, cobrowse: 2 },
  software: 'test',
  host: { cpus: 2, memMb: 1024, platform: 'linux' },
};

function batch(runId: string, seq: number): MetricBatch {
  return {
    runId,
    agentId: 'agent-t1',
    seq,
    createdAt: Date.now(),
    samples: [{ sessionId: 's1', metric: 'api_init', value: seq, ts: Date.now() }],
    sessions: [],
  };
}

const noop = {
  onAssign: () => Promise.reject(new Error('unused')),
  onAbort: () => undefined,
  onResume: () => ({ revoked: [], alreadyStarted: [] }),
  onFatal: () => undefined,
};

/** An agent's delivery half: spool + connection + sender over one spool dir. */
async function deliveryAgent(dir: string, url: string) {
  const { log, lines } = captureLog();
  const spool = new Spool(dir, log);
  await spool.open();
  const conn = new Connection({ url, hello: () => hello, log, handlers: noop, reconnectDelayMinMs: 50, reconnectDelayMaxMs: 200 });
  // No test here waits for an ack timeout (a dead controller is a disconnect): a short one only made a stall of the
  // test process while a batch was in flight resend it, and the exact lists of received batches below fail on that.
  const sender = new Sender(conn.socket, spool, log, { ackTimeoutMs: 60_000, retryMinMs: 20, retryMaxMs: 100 });
  sender.start();
  conn.connect();
  return {
    spool,
    conn,
    sender,
    lines,
    async stop() {
      await sender.stop();
      conn.close();
      await spool.close();
    },
  };
}

async function fileExists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

describe('classifyAck', () => {
  it.each([
    [
      { ok: true, seq: 3, duplicate: false },
      { kind: 'acked', duplicate: false },
    ],
    [
      { ok: true, seq: 3, duplicate: true },
      { kind: 'acked', duplicate: true },
    ],
    [
      { ok: false, seq: 3, retryable: true, code: 'E_SINK_UNAVAILABLE', reason: 'db down' },
      { kind: 'retry', reason: 'E_SINK_UNAVAILABLE: db down', backoff: true },
    ],
    [
      { ok: false, seq: 3, retryable: false, code: 'E_MESSAGE_INVALID', reason: 'bad' },
      { kind: 'rejected', reason: 'E_MESSAGE_INVALID: bad' },
    ],
    [
      { ok: true, seq: 4, duplicate: false },
      { kind: 'retry', reason: 'ack for seq 4, expected 3', backoff: true },
    ],
    [
      { ok: false, seq: 3, retryable: true, code: 'E_RUN_UNKNOWN', reason: 'no record of run r' },
      { kind: 'park', reason: 'E_RUN_UNKNOWN: no record of run r' },
    ],
  ])('%o → %o', (reply, expected) => {
    expect(classifyAck(reply, 3)).toEqual(expected);
  });
  it('a malformed ack is retried', () => {
    expect(classifyAck({ ok: 'yes' }, 3)).toMatchObject({ kind: 'retry', backoff: true });
  });
});

describe('Sender over real Socket.IO', () => {
  let dir: string;
  const controllers: TestController[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'up-sender-'));
  });
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((c) => c.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('removes a batch from the spool once acked', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const a = await deliveryAgent(dir, ctl.url);
    const stored = ctl.waitFor('stored');
    await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    await stored;
    expect(await a.sender.drained(5_000)).toBe(true);
    expect(await fileExists(join(dir, 'run-1', '1.json'))).toBe(false);
    expect(ctl.received.map((b) => b.seq)).toEqual([1]);
    await a.stop();
  });

  it('keeps an unacked batch when the controller dies, and delivers it exactly once to the next one on the same port', async () => {
    const first = await startTestController({ batchMode: 'hold' });
    const port = first.port;
    const a = await deliveryAgent(dir, first.url);
    const got = first.waitFor<MetricBatch>('batch');
    await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    expect((await got).seq).toBe(1);
    const disconnected = nextEvent(a.conn.socket, 'disconnect');
    await first.close(); // the controller goes away before acking
    await disconnected;
    expect(a.spool.pending()).toEqual([{ runId: 'run-1', seq: 1 }]);
    expect(await fileExists(join(dir, 'run-1', '1.json'))).toBe(true);

    const second = await startTestController({ port });
    controllers.push(second);
    await second.waitFor<MetricBatch>('stored', (b) => b.seq === 1);
    // a later batch arrives after any re-send of seq 1 would have (one batch in flight, in order)
    const later = second.waitFor<MetricBatch>('stored', (b) => b.seq === 2);
    await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    await later;
    expect(second.received.map((b) => b.seq)).toEqual([1, 2]);
    expect(await a.sender.drained(5_000)).toBe(true);
    expect(await readdir(join(dir, 'run-1'))).toEqual(['next-seq']);
    await a.stop();
  });

  it('a run the controller has no record of waits aside; the batches of the run it follows go on (review: one unknown run blocked every later batch)', async () => {
    const ctl = await startTestController({
      batchMode: (b) =>
        b.runId === 'a-old-run'
          ? { ok: false, seq: b.seq, retryable: true, code: 'E_RUN_UNKNOWN', reason: 'no record of run a-old-run' }
          : { ok: true, seq: b.seq, duplicate: false },
    });
    controllers.push(ctl);
    const a = await deliveryAgent(dir, ctl.url);
    // 'a-old-run' sorts first: before this change the sender retried it forever and never reached 'b-current'.
    await a.spool.write(batch('a-old-run', await a.spool.allocateSeq('a-old-run')));
    const current = ctl.waitFor<MetricBatch>('batch', (b) => b.runId === 'b-current');
    await a.spool.write(batch('b-current', await a.spool.allocateSeq('b-current')));
    expect((await current).seq).toBe(1);
    for (let i = 0; i < 500 && a.spool.pending().length > 1; i++) await new Promise((r) => setTimeout(r, 10)); // its ack lands right after
    expect(a.sender.stats.parked).toBeGreaterThanOrEqual(1);
    expect(a.spool.pending()).toEqual([{ runId: 'a-old-run', seq: 1 }]); // kept, for a controller that has the run
    await a.stop();
  });

  it('re-sends leftovers after an agent restart (a new sender over the same spool)', async () => {
    const hold = await startTestController({ batchMode: 'hold' });
    controllers.push(hold);
    const a = await deliveryAgent(dir, hold.url);
    const got = hold.waitFor('batch');
    for (let i = 0; i < 3; i += 1) await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    await got;
    await a.stop(); // "killed": nothing acked

    const ctl = await startTestController();
    controllers.push(ctl);
    const b = await deliveryAgent(dir, ctl.url);
    expect(b.spool.size).toBe(3);
    const all = ctl.waitFor<MetricBatch>('stored', (x) => x.seq === 3);
    await all;
    expect(ctl.received.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(await b.sender.drained(5_000)).toBe(true);
    expect(await b.spool.allocateSeq('run-1')).toBe(4);
    await b.stop();
  });

  it('retries a retryable nack and moves a non-retryable one to rejected/', async () => {
    let nacks = 0;
    const ctl = await startTestController({
      batchMode: (b) => {
        if (b.seq === 1 && nacks++ < 2) return { ok: false, seq: b.seq, retryable: true, code: 'E_SINK_UNAVAILABLE', reason: 'db down' };
        if (b.seq === 2) return { ok: false, seq: b.seq, retryable: false, code: 'E_MESSAGE_INVALID', reason: 'not for this run' };
        return { ok: true, seq: b.seq, duplicate: false };
      },
    });
    controllers.push(ctl);
    const a = await deliveryAgent(dir, ctl.url);
    await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    expect(await a.sender.drained(10_000)).toBe(true);
    expect(ctl.received.map((b) => b.seq)).toEqual([1, 1, 1, 2]);
    expect(a.sender.stats).toMatchObject({ acked: 1, rejected: 1, retries: 2 });
    expect((await readdir(join(dir, 'rejected'))).sort()).toEqual(['run-1.2.json', 'run-1.2.reason.txt']);
    expect(
      a.lines.some(
        (l) =>
          l['msg'] === "controller refused the batch for good; kept in the spool's rejected folder" && l['reason'] === 'E_MESSAGE_INVALID: not for this run',
      ),
    ).toBe(true);
    await a.stop();
  });

  it('a corrupt spool file is logged as what it is (never sent, moved aside, with its path), not as a refusal', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    // a batch file damaged on disk (a crash mid-write on a filesystem without atomic rename, a disk error, an edit)
    await mkdir(join(dir, 'run-1'), { recursive: true });
    await writeFile(join(dir, 'run-1', '1.json'), '{"runId":"run-1","seq":1,"samp');
    const a = await deliveryAgent(dir, ctl.url);
    await a.spool.write(batch('run-1', await a.spool.allocateSeq('run-1')));
    expect(await a.sender.drained(10_000)).toBe(true);
    expect(ctl.received.map((b) => b.seq)).toEqual([2]);
    expect(a.sender.stats).toMatchObject({ acked: 1, rejected: 0, corrupt: 1 });
    expect((await readdir(join(dir, 'rejected'))).sort()).toEqual(['run-1.1.json', 'run-1.1.reason.txt']);
    const line = a.lines.find((l) => l['msg'] === 'corrupt spool file moved aside; it was never sent');
    expect(line).toMatchObject({ level: 50, runId: 'run-1', seq: 1, file: join(dir, 'run-1', '1.json'), path: join(dir, 'rejected', 'run-1.1.json') });
    expect(String(line?.['reason'])).toMatch(/is not valid JSON/);
    expect(a.lines.some((l) => String(l['msg']).includes('controller refused'))).toBe(false);
    await a.stop();
  });
});
