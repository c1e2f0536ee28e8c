import { describe, it, expect, afterEach, vi } from 'vitest';
import { appendFile, chmod, mkdir, open, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import { GROUP_MAX_BATCHES, ResultsSink } from './folder-sink.js';
import { readRunResults } from './run-folder-reader.js';
import type { AgentInfo, RunInfo } from './sink.js';
import { captureLog, tempDir, batch, lineCount, notPrivate } from '../../test/fixtures.js';

const agent: AgentInfo = {
  agentId: 'agent-1',
  name: 'a1',
  labels: { region: 'fra1' },
  capacity: { 'chat-load': 2, 'video-call': 0, cobrowse: 0 },
  location: 'fra1',
};
const run: RunInfo = {
  runId: 'run-1',
  scenario: 'chat-load',
  browser: 'shell',
  total: 1,
  targetName: 'demo',
  startedAt: Date.UTC(2025, 0, 1),
  params: { total: 1 },
};

describe('ResultsSink', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const setup = async () => {
    const tmp = await tempDir();
    const { log, lines } = captureLog();
    const sink = new ResultsSink({ outDir: tmp.dir, log });
    await sink.open();
    cleanups.push(async () => {
      await sink.close();
      await tmp.cleanup();
    });
    return { tmp, log, lines, sink, dir: join(tmp.dir, 'run-1') };
  };

  it('writes run.json, samples with run scenario/browser/location, sessions, and the final status', async () => {
    const { sink, dir, tmp } = await setup();
    await sink.runStarted(run, [agent]);
    const b = batch({
      samples: [{ sessionId: 's0001', metric: 'page_load', value: 99.5, ts: Date.UTC(2025, 0, 1, 0, 0, 1, 5), saturated: true, detail: 'x' }],
      sessions: [
        {
          sessionId: 's0001',
          scenario: 'chat-load',
          browser: 'shell',
          status: 'failed',
          startedAt: Date.UTC(2025, 0, 1),
          endedAt: Date.UTC(2025, 0, 1, 0, 0, 2),
          failedStep: 'create',
          error: { code: 'E_STEP_FAILED', message: 'boom' },
          artifacts: [],
        },
      ],
    });
    expect(await sink.writeBatch(b, agent)).toBe('stored');
    expect(await sink.writeBatch(b, agent)).toBe('duplicate');
    await sink.runEnded('run-1', 'failed', Date.UTC(2025, 0, 1, 0, 1));
    const r = await readRunResults(tmp.dir, 'run-1');
    expect(r.samples).toEqual([
      {
        runId: 'run-1',
        agentId: 'agent-1',
        sessionId: 's0001',
        scenario: 'chat-load',
        metric: 'page_load',
        value: 99.5,
        ts: '2025-01-01T00:00:01.005Z',
        location: 'fra1',
        browser: 'shell',
        saturated: true,
        detail: 'x',
      },
    ]);
    expect(r.sessions).toEqual([
      expect.objectContaining({ sessionId: 's0001', status: 'failed', failedStep: 'create', startedAt: '2025-01-01T00:00:00.000Z', location: 'fra1' }),
    ]);
    const info = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({
      runId: 'run-1',
      status: 'failed',
      startedAt: '2025-01-01T00:00:00.000Z',
      endedAt: '2025-01-01T00:01:00.000Z',
      agents: [agent],
    });
  });

  it('after a crash between lines and key, a reopened sink cuts the unacknowledged lines and stores the replay once', async () => {
    const { sink, dir, tmp, log, lines } = await setup();
    expect(await sink.writeBatch(batch(), agent)).toBe('stored');
    await sink.close();
    // Simulate a crash after batch 2's sample lines were written but before its key.
    await appendFile(join(dir, 'samples.jsonl'), '{"runId":"run-1","seq2":true}\n{"partial');
    await appendFile(join(dir, 'batches.jsonl'), '{"agentId":"agent-1","se');
    const again = new ResultsSink({ outDir: tmp.dir, log });
    cleanups.push(() => again.close());
    expect(await again.writeBatch(batch(), agent)).toBe('duplicate');
    expect(await lineCount(join(dir, 'samples.jsonl'))).toBe(3);
    expect(await again.writeBatch(batch({ seq: 2 }), agent)).toBe('stored');
    expect(await lineCount(join(dir, 'samples.jsonl'))).toBe(6);
    expect(await lineCount(join(dir, 'batches.jsonl'))).toBe(2);
    expect((await readFile(join(dir, 'samples.jsonl'), 'utf8')).includes('seq2')).toBe(false);
    expect(lines().some((l) => l.msg?.toString().startsWith('cutting lines'))).toBe(true);
  });

  it("temporary files an interrupted write left (this version's names and the older one's) are cleared when the run folder is opened; run.json stands", async () => {
    const { sink, dir, tmp, log, lines } = await setup();
    await sink.runStarted(run, [agent]);
    await sink.close();
    const runJson = await readFile(join(dir, 'run.json'), 'utf8');
    await writeFile(join(dir, '.run.json.0badc0de.tmp'), '{"runId":"run-1","sta');
    await writeFile(join(dir, 'summary.json.tmp'), '{');
    const again = new ResultsSink({ outDir: tmp.dir, log });
    cleanups.push(() => again.close());
    expect(await again.writeBatch(batch(), agent)).toBe('stored');
    expect((await readdir(dir)).sort()).toEqual(['batches.jsonl', 'run.json', 'samples.jsonl', 'sessions.jsonl']);
    expect(await readFile(join(dir, 'run.json'), 'utf8')).toBe(runJson);
    expect(lines().find((l) => l.msg === 'removed temporary files an interrupted write left in the run folder')).toMatchObject({
      removed: ['.run.json.0badc0de.tmp', 'summary.json.tmp'],
    });
  });

  it("concurrent writes of one run document land in call order (the run's queue), whole", async () => {
    const { sink, dir } = await setup();
    await Promise.all(Array.from({ length: 10 }, (_, i) => sink.writeRunJson('run-1', 'run-state.json', { version: i, pad: 'x'.repeat(50_000) })));
    expect(JSON.parse(await readFile(join(dir, 'run-state.json'), 'utf8'))).toMatchObject({ version: 9 });
    expect(await readdir(dir)).toEqual(['run-state.json']);
  });

  it('accepts batches of a run it did not start (spool replay)', async () => {
    const { sink, tmp } = await setup();
    expect(await sink.writeBatch(batch({ runId: 'older-run' }), agent)).toBe('stored');
    expect(await lineCount(join(tmp.dir, 'older-run', 'samples.jsonl'))).toBe(3);
  });

  it('refuses a run id that would leave the results folder, permanently', async () => {
    const { sink } = await setup();
    const e = await sink.writeBatch(batch({ runId: '..' }), agent).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProbeError);
    expect((e as ProbeError).code).toBe(ERROR_CODES.SINK_PERMANENT);
  });

  it("results are the operator's alone: folders 0700, files 0600, also a run folder an older version left readable", async () => {
    const tmp = await tempDir();
    const { log } = captureLog();
    const outDir = join(tmp.dir, 'results');
    const sink = new ResultsSink({ outDir, log });
    cleanups.push(async () => {
      await sink.close();
      await tmp.cleanup();
    });
    await sink.open();
    const old = join(outDir, 'old-run');
    await mkdir(old);
    await writeFile(join(old, 'samples.jsonl'), '');
    await chmod(old, 0o755);
    await chmod(join(old, 'samples.jsonl'), 0o644);
    await sink.runStarted(run, [agent]);
    expect(await sink.writeBatch(batch(), agent)).toBe('stored');
    expect(await sink.writeBatch(batch({ runId: 'old-run' }), agent)).toBe('stored');
    await sink.writeRunJson('run-1', 'summary.json', { ok: true });
    await sink.runEnded('run-1', 'passed', Date.now());
    expect((await readdir(join(outDir, 'run-1'))).sort()).toEqual(['batches.jsonl', 'run.json', 'samples.jsonl', 'sessions.jsonl', 'summary.json']);
    expect(await notPrivate(outDir)).toEqual([]);
  });

  it('serializes concurrent batches of one run: every line and key present once', async () => {
    const { sink, dir } = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => sink.writeBatch(batch({ seq: (i % 10) + 1 }), agent)));
    expect(results.filter((r) => r === 'stored')).toHaveLength(10);
    expect(await lineCount(join(dir, 'samples.jsonl'))).toBe(30);
    expect(await lineCount(join(dir, 'batches.jsonl'))).toBe(10);
  });
  it('group commit: batches of a run arriving together share two fsync rounds per group; each key records exactly its own lines; a reopened sink keeps them all', async () => {
    const { sink, dir, tmp, log } = await setup();
    const n = GROUP_MAX_BATCHES + 44; // two groups
    const agents = ['agent-1', 'agent-2', 'agent-3'];
    const probe = await open(join(tmp.dir, 'probe'), 'w');
    const datasync = vi.spyOn(Object.getPrototypeOf(probe) as { datasync: () => Promise<void> }, 'datasync');
    await probe.close();
    try {
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => {
          const agentId = agents[i % agents.length]!;
          const b = batch({ agentId, seq: Math.floor(i / agents.length) + 1 });
          // a resend of every tenth batch in the same group: stored once
          return Promise.all([sink.writeBatch(b, agent), i % 10 === 0 ? sink.writeBatch(b, agent) : Promise.resolve('duplicate' as const)]);
        }),
      );
      expect(results.flat().filter((r) => r === 'stored')).toHaveLength(n);
      // per group, the samples file then the keys (these batches carry no session records): 2 per group, where one batch at a time took 600
      expect(datasync.mock.calls.length).toBe(4);
    } finally {
      datasync.mockRestore();
    }
    const samples = await readFile(join(dir, 'samples.jsonl'));
    const keys = (await readFile(join(dir, 'batches.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { agentId: string; seq: number; samples: number; samplesEnd: number });
    expect(keys).toHaveLength(n);
    let from = 0;
    for (const k of keys) {
      const lines = samples
        .subarray(from, k.samplesEnd)
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { agentId: string });
      expect([lines.length, ...new Set(lines.map((l) => l.agentId))]).toEqual([k.samples, k.agentId]);
      from = k.samplesEnd;
    }
    expect(from).toBe(samples.byteLength);
    await sink.close();
    const again = new ResultsSink({ outDir: tmp.dir, log });
    cleanups.push(() => again.close());
    expect(await again.writeBatch(batch({ agentId: 'agent-2', seq: 1 }), agent)).toBe('duplicate');
    expect(await lineCount(join(dir, 'samples.jsonl'))).toBe(n * 3);
  });

  it('a group that cannot be written rejects every batch in it with a clear reason, and the next write of the run is stored', async () => {
    const { sink, tmp } = await setup();
    await writeFile(join(tmp.dir, 'run-f'), 'a file where the run folder should be');
    const group = await Promise.allSettled([1, 2, 3].map((seq) => sink.writeBatch(batch({ runId: 'run-f', seq }), agent)));
    for (const r of group) {
      expect(r.status).toBe('rejected');
      expect(r.status === 'rejected' && r.reason instanceof ProbeError && r.reason.code).toBe(ERROR_CODES.SINK_UNAVAILABLE);
      expect(r.status === 'rejected' && (r.reason as Error).message).toMatch(/^results folder for run run-f could not be opened: /);
    }
    expect(await sink.writeBatch(batch({ seq: 4 }), agent)).toBe('stored');
  });
});
