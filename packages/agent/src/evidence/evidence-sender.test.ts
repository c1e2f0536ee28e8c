import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, EVIDENCE_MAX_FILES, EVIDENCE_MAX_UPLOAD_BYTES, PROTOCOL_VERSION, type EvidenceFile, type Hello } from '@userprobe/shared';
// The controller is a dev dependency of the agent package: the sender is tested against its real hub.
import { EvidenceStore, Ingest, deriveAgentToken, listenHub, type ListeningHub } from '@userprobe/controller';
import { Connection } from '../delivery/connection.js';
import { captureLog } from '../../test/log-capture.js';
import { EvidenceSender, classifyEvidenceAck, evidenceOutcome } from './evidence-sender.js';
import { EvidenceSpool } from './evidence-spool.js';

const TOKEN = 'sender-token';
// The agent's own token, derived from the hub's master token as an operator's `controller agent-token agent-e1` prints it.
const hello: Hello = {
  protocolVersion: PROTOCOL_VERSION,
  token: deriveAgentToken(TOKEN, 'agent-e1'),
  agentId: 'agent-e1',
  instanceId: 'agent-e1-i1',
  runs: [],
  name: 'e1',
  labels: {},
  capacity: { 'chat-load': 1, 'video-call': 1, cobrowse: 1 },
  software: 'test',
  host: { cpus: 2, memMb: 1024, platform: 'linux' },
};
const MB = 1024 * 1024;
const noop = {
  onAssign: () => Promise.reject(new Error('unused')),
  onAbort: () => undefined,
  onResume: () => ({ revoked: [], alreadyStarted: [] }),
  onFatal: (e: Error) => {
    throw e;
  },
};

describe('classifyEvidenceAck', () => {
  it.each([
    [
      { ok: true, stored: ['evidence/s1/a.png'], skipped: [], exhausted: false },
      { kind: 'acked', duplicate: false, stored: ['evidence/s1/a.png'], skipped: [], exhausted: false },
    ],
    [
      { ok: false, retryable: true, code: ERROR_CODES.SINK_UNAVAILABLE, reason: 'disk' },
      { kind: 'retry', reason: `${ERROR_CODES.SINK_UNAVAILABLE}: disk`, backoff: true },
    ],
    [
      { ok: false, retryable: false, code: ERROR_CODES.MESSAGE_TOO_LARGE, reason: 'evidence:upload refused: 11 binary attachments; at most 10 per message' },
      { kind: 'rejected', reason: `${ERROR_CODES.MESSAGE_TOO_LARGE}: evidence:upload refused: 11 binary attachments; at most 10 per message` },
    ],
    [{ ok: 'yes' }, { kind: 'retry', reason: expect.stringMatching(/^malformed evidence ack: /), backoff: true }],
  ])('%o', (reply, expected) => {
    expect(classifyEvidenceAck(reply)).toEqual(expected);
  });
});

describe('evidenceOutcome (what the session record is told)', () => {
  it.each([
    [null, { kind: 'pending' }],
    [
      { kind: 'acked', duplicate: false, stored: ['evidence/s1/a.png'], skipped: ['evidence/s1/b.har'], exhausted: true },
      { kind: 'stored', stored: ['evidence/s1/a.png'], skipped: ['evidence/s1/b.har'], exhausted: true },
    ],
    [
      { kind: 'rejected', reason: 'E_RUN_UNKNOWN: not a run of this controller' },
      { kind: 'refused', reason: 'E_RUN_UNKNOWN: not a run of this controller' },
    ],
    [
      { kind: 'corrupt', reason: 'manifest.json is missing' },
      { kind: 'refused', reason: 'unreadable in the spool: manifest.json is missing' },
    ],
  ] as const)('%o', (settled, expected) => {
    expect(evidenceOutcome(settled)).toEqual(expected);
  });
});

describe('EvidenceSender against the real hub: never an upload over the limits', () => {
  let out: string;
  let spoolDir: string;
  let hub: ListeningHub;
  let store: EvidenceStore;
  const logs = captureLog('debug');

  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'up-ev-sender-out-'));
    spoolDir = await mkdtemp(join(tmpdir(), 'up-ev-sender-spool-'));
    store = new EvidenceStore({ outDir: out, log: logs.log });
    hub = await listenHub('127.0.0.1', 0, { token: TOKEN, ingest: new Ingest([], logs.log), log: logs.log, evidence: store });
  });
  afterEach(async () => {
    await hub.close();
    for (const d of [out, spoolDir]) await rm(d, { recursive: true, force: true });
  });

  it('restart replay: evidence a previous process spooled is sent by a new sender; an interrupted write never is; a refusal is dropped', async () => {
    // The previous process: spooled s1 (complete) and was killed while writing s2 (no manifest), never sent either.
    const before = new EvidenceSpool(spoolDir, logs.log);
    await before.open();
    await before.write({
      runId: 'r-1',
      sessionId: 's1',
      files: [
        { name: 'console.json', data: Buffer.from('{"entries":[]}') },
        { name: 'visitor.png', data: Buffer.alloc(2_000, 7) },
      ],
    });
    await mkdir(join(spoolDir, 'r-1', 's2'));
    await writeFile(join(spoolDir, 'r-1', 's2', 'visitor.png'), Buffer.alloc(10, 1));

    store.setBudget('r-1', { maxSessions: 5, maxBytes: 100 * MB });
    const spool = new EvidenceSpool(spoolDir, logs.log);
    await spool.open();
    expect(spool.pending()).toEqual([{ runId: 'r-1', sessionId: 's1' }]);
    const conn = new Connection({ url: hub.url, hello: () => hello, log: logs.log, handlers: noop, reconnectDelayMinMs: 50, reconnectDelayMaxMs: 200 });
    const sender = new EvidenceSender(conn.socket, spool, hello.agentId, logs.log, { ackTimeoutMs: 5_000 });
    const replayed = sender.watch({ runId: 'r-1', sessionId: 's1' });
    sender.start();
    const connected = new Promise((resolve) => conn.socket.once('connect', () => resolve(undefined)));
    conn.connect();
    await connected;
    try {
      expect(evidenceOutcome(await replayed.settled)).toEqual({
        kind: 'stored',
        stored: ['evidence/s1/console.json', 'evidence/s1/visitor.png'],
        skipped: [],
        exhausted: false,
      });
      expect((await readdir(join(out, 'r-1', 'evidence', 's1'))).sort()).toEqual(['console.json', 'visitor.png']);
      expect(await readdir(join(out, 'r-1', 'evidence'))).toEqual(['s1']);
      // A run the controller does not know: refused for good, dropped from the spool, the reason logged.
      const refused = await sender.deliver({ runId: 'r-unknown', sessionId: 's9' }, [{ name: 'console.json', data: Buffer.from('{}') }], 10_000);
      expect(refused).toMatchObject({ kind: 'refused', reason: expect.stringContaining('E_RUN_UNKNOWN') });
      expect(sender.pending).toBe(0);
      expect(logs.lines.some((l) => l['msg'] === 'the controller refused this evidence for good; dropped' && l['sessionId'] === 's9')).toBe(true);
      expect(await readdir(spoolDir)).toEqual([]);
    } finally {
      await sender.stop();
      conn.close();
    }
  }, 60_000);

  it('too many files and too many bytes: sends what fits (the console log kept), logs what it left out, the controller stores it', async () => {
    const spool = new EvidenceSpool(spoolDir, logs.log);
    await spool.open();
    const conn = new Connection({ url: hub.url, hello: () => hello, log: logs.log, handlers: noop, reconnectDelayMinMs: 50, reconnectDelayMaxMs: 200 });
    const sender = new EvidenceSender(conn.socket, spool, hello.agentId, logs.log, { ackTimeoutMs: 5_000 });
    sender.start();
    const connected = new Promise((resolve) => conn.socket.once('connect', () => resolve(undefined)));
    conn.connect();
    await connected;
    try {
      store.setBudget('r-1', { maxSessions: 5, maxBytes: 100 * MB });
      const files: EvidenceFile[] = [
        { name: 'visitor.png', data: Buffer.alloc(7 * MB, 1) },
        { name: 'session.har', data: Buffer.alloc(7 * MB, 2) },
        ...Array.from({ length: EVIDENCE_MAX_FILES }, (_, i) => ({ name: `extra-${i}.txt`, data: Buffer.alloc(1_000 + i, 3) })),
        { name: 'console.json', data: Buffer.from('{"entries":[]}') },
      ];
      const outcome = await sender.deliver({ runId: 'r-1', sessionId: 's1' }, files, 20_000);
      expect(outcome.kind).toBe('stored');
      const stored = outcome.kind === 'stored' ? outcome.stored : [];
      expect(stored.length).toBeLessThanOrEqual(EVIDENCE_MAX_FILES);
      expect(stored).toContain('evidence/s1/console.json');
      expect(stored).toContain('evidence/s1/visitor.png'); // what fits stays: one of the two big files
      expect(stored).not.toContain('evidence/s1/session.har');
      const onDisk = await readdir(join(out, 'r-1', 'evidence', 's1'));
      expect(onDisk.sort()).toEqual(stored.map((p) => p.split('/').pop()!).sort());
      const note = logs.lines.find((l) => l.msg === 'evidence over the upload limits: sending what fits');
      expect(note).toMatchObject({ runId: 'r-1', sessionId: 's1', maxFiles: EVIDENCE_MAX_FILES, maxBytes: EVIDENCE_MAX_UPLOAD_BYTES });
      expect((note!['left'] as Array<{ name: string }>).map((l) => l.name)).toEqual(expect.arrayContaining(['session.har', 'extra-9.txt']));
    } finally {
      await sender.stop();
      conn.close();
    }
  }, 60_000);
});
