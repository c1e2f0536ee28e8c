import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, type EvidenceUpload } from '@userprobe/shared';
import { EVIDENCE_MIN_USEFUL_BYTES, EvidenceStore, admitEvidence, type EvidenceUsage } from './evidence-store.js';
import type { AgentInfo } from './sink.js';
import { notPrivate } from '../../test/fixtures.js';

const none: EvidenceUsage = { sessions: 0, bytes: 0, skippedSessions: 0, skippedFiles: 0, skippedBytes: 0 };
const MB = 1_048_576;
const files = (...sizes: number[]) => sizes.map((bytes, i) => ({ name: `f${i}`, bytes }));

describe('admitEvidence (per-run budget)', () => {
  it.each([
    ['room for all', { maxSessions: 2, maxBytes: 10 * MB }, none, files(MB, MB), ['f0', 'f1'], [], false, { sessions: 1, bytes: 2 * MB }],
    [
      'the last session slot: stored, budget now used up',
      { maxSessions: 1, maxBytes: 10 * MB },
      none,
      files(100),
      ['f0'],
      [],
      true,
      { sessions: 1, bytes: 100 },
    ],
    [
      'no session slot left: everything skipped and counted',
      { maxSessions: 1, maxBytes: 10 * MB },
      { ...none, sessions: 1, bytes: 5 },
      files(100, 200),
      [],
      ['f0', 'f1'],
      true,
      { sessions: 1, bytes: 5, skippedSessions: 1, skippedFiles: 2, skippedBytes: 300 },
    ],
    [
      'a big HAR that does not fit is skipped, the small file after it stored',
      { maxSessions: 5, maxBytes: 3 * MB },
      { ...none, bytes: MB },
      files(3 * MB, 1_000),
      ['f1'],
      ['f0'],
      false,
      { sessions: 1, bytes: MB + 1_000, skippedFiles: 1, skippedBytes: 3 * MB },
    ],
    [
      'bytes nearly used up: exhausted',
      { maxSessions: 5, maxBytes: 2 * MB },
      none,
      files(2 * MB - EVIDENCE_MIN_USEFUL_BYTES + 1),
      ['f0'],
      [],
      true,
      { sessions: 1 },
    ],
    ['zero budget: nothing stored', { maxSessions: 0, maxBytes: 0 }, none, files(1), [], ['f0'], true, { sessions: 0, skippedSessions: 1 }],
  ])('%s', (_n, budget, usage, fs, store, skip, exhausted, next) => {
    const d = admitEvidence(budget, usage, fs);
    expect(d.store).toEqual(store);
    expect(d.skip).toEqual(skip);
    expect(d.exhausted).toBe(exhausted);
    expect(d.usage).toMatchObject(next);
  });
});

describe('EvidenceStore (real files)', () => {
  let out: string;
  const agent: AgentInfo = { agentId: 'a-1', name: 'a', labels: {}, capacity: { 'chat-load': 1, 'video-call': 1, cobrowse: 1 }, location: 'local' };
  const log = pino({ level: 'silent' });
  const upload = (sessionId: string, ...f: Array<[string, string]>): EvidenceUpload => ({
    runId: 'r-1',
    agentId: 'a-1',
    sessionId,
    files: f.map(([name, text]) => ({ name, data: Buffer.from(text) })),
  });

  beforeEach(async () => {
    out = await mkdtemp(join(tmpdir(), 'up-evidence-store-'));
  });
  afterEach(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('writes results/<run>/evidence/<session>/<file>, answers a resend with what is stored (counted once), skips beyond the budget', async () => {
    const store = new EvidenceStore({ outDir: out, log });
    store.setBudget('r-1', { maxSessions: 1, maxBytes: 10 * MB });
    const a = await store.handle(upload('s1', ['visitor.png', 'PNG'], ['console.json', '{}']), agent);
    expect(a).toEqual({ ok: true, stored: ['evidence/s1/visitor.png', 'evidence/s1/console.json'], skipped: [], exhausted: true });
    expect(await readFile(join(out, 'r-1', 'evidence', 's1', 'visitor.png'), 'utf8')).toBe('PNG');
    expect(await store.handle(upload('s1', ['visitor.png', 'PNG'], ['console.json', '{}']), agent)).toEqual(a);
    expect(await store.handle(upload('s2', ['visitor.png', 'PNG']), agent)).toEqual({ ok: true, stored: [], skipped: ['visitor.png'], exhausted: true });
    expect(await store.handle(upload('s2', ['visitor.png', 'PNG']), agent)).toMatchObject({ stored: [] }); // resend of a skipped one
    expect(await store.usage('r-1')).toEqual({
      sessions: 1,
      bytes: 5,
      skippedSessions: 1,
      skippedFiles: 1,
      skippedBytes: 3,
      budget: { maxSessions: 1, maxBytes: 10 * MB },
    });
    expect(await readdir(join(out, 'r-1', 'evidence'))).toEqual(['s1']);
  });

  /** The run's results folder as the results sink starts it: run.json with the run's agents. */
  const startedRun = async (runId: string, agentIds: string[]): Promise<void> => {
    await mkdir(join(out, runId), { recursive: true });
    await writeFile(join(out, runId, 'run.json'), JSON.stringify({ runId, status: 'running', agents: agentIds.map((agentId) => ({ agentId })) }));
  };

  it("a new controller process counts what is on disk against the run's budget", async () => {
    await startedRun('r-1', ['a-1']);
    await new EvidenceStore({ outDir: out, log }).handle(upload('s1', ['a.txt', 'xyz']), agent);
    const again = new EvidenceStore({ outDir: out, log, defaultBudget: { maxSessions: 1, maxBytes: MB } });
    expect(await again.handle(upload('s2', ['a.txt', 'xyz']), agent)).toMatchObject({ ok: true, stored: [], exhausted: true });
    expect(await again.usage('r-1')).toMatchObject({ sessions: 1, bytes: 3, skippedSessions: 1 });
  });

  it('a temporary file an interrupted write left is neither counted nor listed, and is cleared when the run is loaded', async () => {
    await startedRun('r-1', ['a-1']);
    const folder = join(out, 'r-1', 'evidence', 's1');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'console.json'), '{}');
    await writeFile(join(folder, '.session.har.0badc0de.tmp'), 'x'.repeat(1_000)); // this version's temporary name
    await writeFile(join(folder, 'visitor.png.tmp'), 'x'.repeat(1_000)); // the older version's
    const store = new EvidenceStore({ outDir: out, log });
    expect(await store.handle(upload('s1', ['console.json', '{}']), agent)).toEqual({
      ok: true,
      stored: ['evidence/s1/console.json'],
      skipped: [],
      exhausted: false,
    });
    expect(await store.usage('r-1')).toMatchObject({ sessions: 1, bytes: 2 });
    expect(await readdir(folder)).toEqual(['console.json']);
  });

  it("redacts again before storing (defence in depth): secret headers and fields, the agents' token; images kept as sent; files 0600, folders 0700", async () => {
    const store = new EvidenceStore({ outDir: join(out, 'results'), log, secrets: ['agents-token-42'] });
    store.setBudget('r-1', { maxSessions: 5, maxBytes: 10 * MB });
    const har = {
      log: {
        version: '1.2',
        entries: [
          {
            request: {
              url: 'http://h/x?api_key=k1',
              headers: [
                { name: 'Authorization', value: 'Bearer abcdefghijkl' },
                { name: 'Accept', value: '*/*' },
              ],
              cookies: [{ name: 'sid', value: 's1' }],
              postData: { text: '{"password":"pw1","note":"agents-token-42"}' },
            },
          },
        ],
      },
    };
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, ...Buffer.from('password=pw2')]);
    const u: EvidenceUpload = {
      runId: 'r-1',
      agentId: 'a-1',
      sessionId: 's1',
      files: [
        { name: 'session.har', data: Buffer.from(JSON.stringify(har)) },
        { name: 'console.json', data: Buffer.from(JSON.stringify({ entries: [{ text: 'token=t0 and agents-token-42' }] }, null, 2)) },
        { name: 'clean.json', data: Buffer.from('{ "a": 1 }') },
        { name: 'visitor.png', data: png },
      ],
    };
    expect(await store.handle(u, agent)).toMatchObject({ ok: true, skipped: [] });
    const dir = join(out, 'results', 'r-1', 'evidence', 's1');
    const stored = JSON.parse(await readFile(join(dir, 'session.har'), 'utf8')) as typeof har;
    expect(stored.log.entries[0]!.request).toEqual({
      url: 'http://h/x?api_key=[redacted]',
      headers: [
        { name: 'Authorization', value: '[redacted]' },
        { name: 'Accept', value: '*/*' },
      ],
      cookies: [{ name: 'sid', value: '[redacted]' }],
      postData: { text: '{"password":"[redacted]","note":"[redacted]"}' },
    });
    expect(await readFile(join(dir, 'console.json'), 'utf8')).toBe(JSON.stringify({ entries: [{ text: 'token=[redacted] and [redacted]' }] }, null, 2));
    expect(await readFile(join(dir, 'clean.json'), 'utf8')).toBe('{ "a": 1 }'); // nothing to redact: the bytes as sent
    expect((await readFile(join(dir, 'visitor.png'))).equals(png)).toBe(true);
    expect(await notPrivate(join(out, 'results'))).toEqual([]);
  });

  it("redacts the uploading agent's own token (derived from the master) from its files", async () => {
    const store = new EvidenceStore({ outDir: join(out, 'results'), log, secrets: ['m4ster'], agentSecrets: (id) => [`token-of-${id}`] });
    store.setBudget('r-1', { maxSessions: 5, maxBytes: 10 * MB });
    const u: EvidenceUpload = {
      runId: 'r-1',
      agentId: 'a-1',
      sessionId: 's1',
      files: [{ name: 'console.json', data: Buffer.from(JSON.stringify({ entries: [{ text: 'mine token-of-a-1, master m4ster, other token-of-a-2' }] })) }],
    };
    expect(await store.handle(u, agent)).toMatchObject({ ok: true });
    expect(await readFile(join(out, 'results', 'r-1', 'evidence', 's1', 'console.json'), 'utf8')).toBe(
      JSON.stringify({ entries: [{ text: 'mine [redacted], master [redacted], other token-of-a-2' }] }),
    );
  });

  it("keeps evidence only for runs it knows and only from their agents: the budget is not the sender's to choose by run id", async () => {
    const store = new EvidenceStore({ outDir: out, log });
    // Made-up run ids get no budget at all: each is refused for good, nothing is written.
    for (let i = 0; i < 20; i++) {
      expect(await store.handle({ ...upload('s1', ['a.txt', 'x']), runId: `made-up-${i}` }, agent)).toEqual({
        ok: false,
        retryable: false,
        code: ERROR_CODES.RUN_UNKNOWN,
        reason: `run made-up-${i} is not a run of this controller (no results folder with run.json under ${out}); evidence is kept only for known runs`,
      });
    }
    expect(await readdir(out)).toEqual([]);
    // A run started on this results folder (a previous controller's too: replays), from one of its agents: stored.
    await startedRun('r-2', ['a-1']);
    expect(await store.handle({ ...upload('s1', ['a.txt', 'x']), runId: 'r-2' }, agent)).toMatchObject({ ok: true, stored: ['evidence/s1/a.txt'] });
    // Another agent cannot spend that run's budget.
    expect(await store.handle({ ...upload('s2', ['a.txt', 'x']), runId: 'r-2', agentId: 'a-2' }, { ...agent, agentId: 'a-2' })).toEqual({
      ok: false,
      retryable: false,
      code: ERROR_CODES.RUN_UNKNOWN,
      reason: "agent a-2 is not one of run r-2's agents; it keeps evidence only of its own runs",
    });
    expect(await readdir(join(out, 'r-2', 'evidence'))).toEqual(['s1']);
    // This controller's own run (its budget set) is known before its results folder exists.
    store.setBudget('r-3', { maxSessions: 1, maxBytes: MB });
    expect(await store.handle({ ...upload('s1', ['a.txt', 'x']), runId: 'r-3' }, agent)).toMatchObject({ ok: true });
  });

  it('refuses a session id that would leave the evidence folder', async () => {
    const store = new EvidenceStore({ outDir: out, log });
    expect(await store.handle(upload('..', ['a.txt', 'x']), agent)).toMatchObject({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID });
    expect(await readdir(out)).toEqual([]);
  });
});
