import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, type MetricBatch } from '@userprobe/shared';
import { Spool } from './spool.js';
import { captureLog } from '../../test/log-capture.js';

function batch(runId: string, seq: number, n = 1): MetricBatch {
  return {
    runId,
    agentId: 'a1',
    seq,
    createdAt: 1_700_000_000_000,
    samples: Array.from({ length: n }, (_, i) => ({ sessionId: 's1', metric: 'page_load' as const, value: i, ts: 1_700_000_000_000 + i })),
    sessions: [],
  };
}

describe('Spool', () => {
  let dir: string;
  const { log } = captureLog();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'up-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each batch to <runId>/<seq>.json and reads it back', async () => {
    const s = new Spool(dir, log);
    await s.open();
    const seq = await s.allocateSeq('run-1');
    expect(seq).toBe(1);
    await s.write(batch('run-1', seq, 3));
    expect(JSON.parse(await readFile(join(dir, 'run-1', '1.json'), 'utf8'))).toEqual(batch('run-1', 1, 3));
    expect(await s.read({ runId: 'run-1', seq: 1 })).toEqual(batch('run-1', 1, 3));
    expect(s.pending()).toEqual([{ runId: 'run-1', seq: 1 }]);
    await s.remove({ runId: 'run-1', seq: 1 });
    expect(s.size).toBe(0);
    expect((await readdir(join(dir, 'run-1'))).sort()).toEqual(['next-seq']);
    await s.close();
  });

  it('loads leftovers in (run, seq) order, ignores tmp files, and continues seqs after a restart', async () => {
    const a = new Spool(dir, log);
    await a.open();
    for (const run of ['run-b', 'run-a']) {
      for (let i = 0; i < 3; i += 1) await a.write(batch(run, await a.allocateSeq(run)));
    }
    await a.remove({ runId: 'run-a', seq: 3 }); // acked: the highest seq is gone from disk, the counter remains
    // an interrupted write: a tmp file that was never renamed
    await writeFile(join(dir, 'run-a', '.4.json.deadbeef.tmp'), '{"half":');
    await a.close();

    const b = new Spool(dir, log);
    await b.open();
    expect(b.pending()).toEqual([
      { runId: 'run-a', seq: 1 },
      { runId: 'run-a', seq: 2 },
      { runId: 'run-b', seq: 1 },
      { runId: 'run-b', seq: 2 },
      { runId: 'run-b', seq: 3 },
    ]);
    expect(b.lastSeq('run-a')).toBe(3);
    expect(await b.allocateSeq('run-a')).toBe(4); // never reuses 3, though 3.json was removed
    expect(await b.allocateSeq('run-b')).toBe(4);
    expect(await b.allocateSeq('run-new')).toBe(1);
    await b.close();
  });

  it('keeps pending() sorted when batches of several runs interleave', async () => {
    const s = new Spool(dir, log);
    await s.open();
    await s.write(batch('r2', 2));
    await s.write(batch('r1', 1));
    await s.write(batch('r2', 1));
    expect(s.pending()).toEqual([
      { runId: 'r1', seq: 1 },
      { runId: 'r2', seq: 1 },
      { runId: 'r2', seq: 2 },
    ]);
    await s.close();
  });

  it('moves a rejected batch to rejected/ with its reason, never deletes it', async () => {
    const s = new Spool(dir, log);
    await s.open();
    await s.write(batch('run-1', 1));
    const to = await s.setAside({ runId: 'run-1', seq: 1 }, 'E_MESSAGE_INVALID: bad sample');
    expect(to).toBe(join(dir, 'rejected', 'run-1.1.json'));
    expect(JSON.parse(await readFile(to, 'utf8'))).toEqual(batch('run-1', 1));
    expect(await readFile(join(dir, 'rejected', 'run-1.1.reason.txt'), 'utf8')).toContain('E_MESSAGE_INVALID: bad sample');
    expect(s.size).toBe(0);
    await s.close();
    const again = new Spool(dir, log);
    await again.open();
    expect(again.size).toBe(0);
    await again.close();
  });

  it('refuses a damaged batch file on read with SPOOL_IO', async () => {
    const s = new Spool(dir, log);
    await s.open();
    await s.write(batch('run-1', 1));
    await writeFile(join(dir, 'run-1', '1.json'), '{"runId":"run-1"}');
    await expect(s.read({ runId: 'run-1', seq: 1 })).rejects.toMatchObject({ code: ERROR_CODES.SPOOL_IO });
    await s.close();
  });

  it('refuses a spool locked by another live process', async () => {
    await writeFile(join(dir, 'lock'), `${process.ppid}\n`);
    const s = new Spool(dir, log);
    await expect(s.open()).rejects.toMatchObject({ code: ERROR_CODES.SPOOL_IO, message: expect.stringContaining('--id') });
    await writeFile(join(dir, 'lock'), '999999999\n'); // stale: no such process
    await s.open();
    await s.close();
  });
});
