import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@userprobe/shared';
import { OutboxSpool } from './outbox-spool.js';
import type { FileFormat, FolderFormat } from './entry-format.js';
import { captureLog } from '../../../test/log-capture.js';

/** Two toy kinds, one per entry shape: what the outbox needs to know of an item, and nothing else. */
interface Note {
  readonly runId: string;
  readonly n: number;
  readonly text: string;
}
type NoteKey = Pick<Note, 'runId' | 'n'>;
const NOTES: FileFormat<NoteKey, Note> = {
  shape: 'file',
  noun: 'note',
  plural: 'notes',
  keyOf: (x) => ({ runId: x.runId, n: x.n }),
  entryName: (k) => String(k.n),
  parseName: (runId, name) => (/^[1-9][0-9]*$/.test(name) ? { runId, n: Number(name) } : null),
  compare: (a, b) => a.runId.localeCompare(b.runId) || a.n - b.n,
  label: (k) => `${k.runId}#${k.n}`,
  encode: (x) => JSON.stringify(x),
  decode(text, k) {
    const x = JSON.parse(text) as Note;
    if (x.runId !== k.runId || x.n !== k.n) throw new Error(`the file does not hold note ${k.runId}#${k.n}`);
    return x;
  },
};

interface Bundle {
  readonly runId: string;
  readonly id: string;
  readonly parts: ReadonlyArray<{ name: string; data: Uint8Array }>;
}
type BundleKey = Pick<Bundle, 'runId' | 'id'>;
const BUNDLES: FolderFormat<BundleKey, Bundle> = {
  shape: 'folder',
  noun: 'bundle',
  plural: 'bundles',
  keyOf: (b) => ({ runId: b.runId, id: b.id }),
  entryName: (k) => k.id,
  parseName: (runId, id) => ({ runId, id }),
  compare: (a, b) => a.runId.localeCompare(b.runId) || a.id.localeCompare(b.id),
  label: (k) => `${k.runId}/${k.id}`,
  encode: (b) => b.parts,
  decode: (parts, k) => ({ ...k, parts: parts.map((p) => ({ name: p.name, data: Buffer.from(p.data) })) }),
};

const bundle = (runId: string, id: string): Bundle => ({
  runId,
  id,
  parts: [
    { name: 'a.png', data: Buffer.from([137, 80]) },
    { name: 'b.txt', data: Buffer.from('hi') },
  ],
});

async function walk(dir: string): Promise<Array<{ path: string; mode: number }>> {
  const out: Array<{ path: string; mode: number }> = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push({ path: p, mode: (await stat(p)).mode & 0o777 });
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

describe('OutboxSpool (real files in a temp folder)', () => {
  let dir: string;
  const logs = captureLog();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'up-outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('file entries: written, read back, kept in send order, removed; owner-only modes', async () => {
    const s = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes' });
    await s.open();
    let woken = 0;
    s.onWrite(() => {
      woken += 1;
    });
    for (const [runId, n] of [
      ['r2', 2],
      ['r1', 1],
      ['r2', 1],
    ] as const)
      await s.write({ runId, n, text: `${runId}-${n}` });
    expect(s.pending()).toEqual([
      { runId: 'r1', n: 1 },
      { runId: 'r2', n: 1 },
      { runId: 'r2', n: 2 },
    ]);
    expect(woken).toBe(3);
    expect(await s.read({ runId: 'r2', n: 2 })).toEqual({ runId: 'r2', n: 2, text: 'r2-2' });
    expect(s.pathOf({ runId: 'r2', n: 2 })).toBe(join(dir, 'r2', '2.json'));
    await s.write({ runId: 'r2', n: 2, text: 'again' }); // same key: replaced, still once
    expect(s.size).toBe(3);
    await s.remove({ runId: 'r1', n: 1 });
    expect(s.pending()).toEqual([
      { runId: 'r2', n: 1 },
      { runId: 'r2', n: 2 },
    ]);
    expect(await readdir(dir)).toEqual(['r2']); // r1's folder went with its last entry
    expect((await walk(dir)).filter((w) => w.mode !== 0o600 && w.mode !== 0o700)).toEqual([]);
    expect((await walk(dir)).length).toBe(3);
    await s.close();
  });

  it('folder entries: parts then manifest; read back whole; removed', async () => {
    const s = new OutboxSpool(dir, BUNDLES, logs.log, { component: 'bundles' });
    await s.open();
    await s.write(bundle('r1', 's1'));
    expect((await readdir(join(dir, 'r1', 's1'))).sort()).toEqual(['a.png', 'b.txt', 'manifest.json']);
    expect(JSON.parse(await readFile(join(dir, 'r1', 's1', 'manifest.json'), 'utf8'))).toMatchObject({ names: ['a.png', 'b.txt'] });
    expect(await s.read({ runId: 'r1', id: 's1' })).toEqual(bundle('r1', 's1'));
    expect((await walk(dir)).filter((w) => w.mode !== 0o600 && w.mode !== 0o700)).toEqual([]);
    expect((await walk(dir)).length).toBe(5);
    await s.write(bundle('r1', 's2'));
    await s.remove({ runId: 'r1', id: 's1' });
    expect(await readdir(join(dir, 'r1'))).toEqual(['s2']);
    await s.remove({ runId: 'r1', id: 's2' });
    expect(s.size).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a restart finds every complete entry and clears what interrupted writes left (kill -9 mid-write); other files stay', async () => {
    const a = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes' });
    await a.open();
    await a.write({ runId: 'r1', n: 1, text: 'one' });
    await a.write({ runId: 'r1', n: 2, text: 'two' });
    await a.close();
    // what a process killed mid-write leaves: a temporary file never renamed, in this version's name and the older one's
    await writeFile(join(dir, 'r1', '.3.json.0badc0de.tmp'), '{"runId":"r1","n":3,"te');
    await writeFile(join(dir, 'r1', '4.json.tmp'), '{');
    await writeFile(join(dir, 'r1', 'notes.txt'), "an operator's note");
    await mkdir(join(dir, 'r-acked'));
    const b = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes' });
    await b.open();
    expect(b.pending()).toEqual([
      { runId: 'r1', n: 1 },
      { runId: 'r1', n: 2 },
    ]);
    expect((await readdir(join(dir, 'r1'))).sort()).toEqual(['1.json', '2.json', 'notes.txt']);
    expect(await readdir(dir)).not.toContain('r-acked'); // an empty run folder: everything was acknowledged
    expect(logs.lines.some((l) => l['msg'] === 'removed what interrupted writes left in the spool' && l['runId'] === 'r1')).toBe(true);
    await b.close();
  });

  it('a folder entry without its manifest is an interrupted write: removed at open, never sent', async () => {
    await mkdir(join(dir, 'r1', 'half'), { recursive: true });
    await writeFile(join(dir, 'r1', 'half', 'a.png'), 'x');
    const old = join(dir, 'r1', 'whole');
    await mkdir(old);
    // written by the previous version of the evidence spool: the same layout and manifest
    await writeFile(join(old, 'a.png'), 'png');
    await writeFile(join(old, 'manifest.json'), JSON.stringify({ names: ['a.png'], createdAt: 1_700_000_000_000 }));
    const s = new OutboxSpool(dir, BUNDLES, logs.log, { component: 'bundles' });
    await s.open();
    expect(s.pending()).toEqual([{ runId: 'r1', id: 'whole' }]);
    expect(await readdir(join(dir, 'r1'))).toEqual(['whole']);
    expect(await s.read({ runId: 'r1', id: 'whole' })).toEqual({ runId: 'r1', id: 'whole', parts: [{ name: 'a.png', data: Buffer.from('png') }] });
  });

  it('setAside moves an entry to rejected/ with its reason, for both shapes; it is not pending after a restart', async () => {
    const notes = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes' });
    await notes.open();
    await notes.write({ runId: 'r1', n: 1, text: 'one' });
    expect(await notes.setAside({ runId: 'r1', n: 1 }, 'E_X: no')).toBe(join(dir, 'rejected', 'r1.1.json'));
    const bdir = join(dir, 'b');
    const bundles = new OutboxSpool(bdir, BUNDLES, logs.log, { component: 'bundles' });
    await bundles.open();
    await bundles.write(bundle('r1', 's1'));
    expect(await bundles.setAside({ runId: 'r1', id: 's1' }, 'E_Y: no')).toBe(join(bdir, 'rejected', 'r1.s1'));
    expect((await readdir(join(bdir, 'rejected', 'r1.s1'))).sort()).toEqual(['a.png', 'b.txt', 'manifest.json']);
    expect(await readFile(join(bdir, 'rejected', 'r1.s1.reason.txt'), 'utf8')).toMatch(/E_Y: no\n$/);
    expect((await readdir(join(dir, 'rejected'))).sort()).toEqual(['r1.1.json', 'r1.1.reason.txt']);
    const again = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes' });
    await again.open();
    expect(again.size).toBe(0);
  });

  it('refuses, with E_SPOOL_IO, a key that would leave the spool, a part name that is a path, and an entry that does not read back', async () => {
    const notes = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes' });
    await notes.open();
    await expect(notes.write({ runId: '..', n: 1, text: 'x' })).rejects.toMatchObject({
      code: ERROR_CODES.SPOOL_IO,
      message: expect.stringContaining('cannot name a spool entry'),
    });
    await notes.write({ runId: 'r1', n: 1, text: 'x' });
    await writeFile(join(dir, 'r1', '1.json'), '{"runId":"r1","n":2}');
    await expect(notes.read({ runId: 'r1', n: 1 })).rejects.toMatchObject({
      code: ERROR_CODES.SPOOL_IO,
      message: expect.stringContaining('does not hold note r1#1'),
    });
    const bundles = new OutboxSpool(join(dir, 'b'), BUNDLES, logs.log, { component: 'bundles' });
    await bundles.open();
    await expect(bundles.write({ runId: 'r1', id: 's1', parts: [{ name: '../../escape', data: Buffer.from('x') }] })).rejects.toMatchObject({
      code: ERROR_CODES.SPOOL_IO,
      message: expect.stringContaining('not a plain file name'),
    });
    expect(await readdir(dir)).not.toContain('escape');
  });

  it('with lock: refuses a spool another live process holds, takes over a stale lock', async () => {
    await writeFile(join(dir, 'lock'), `${process.ppid}\n`);
    const s = new OutboxSpool(dir, NOTES, logs.log, { component: 'notes', lock: true });
    await expect(s.open()).rejects.toMatchObject({ code: ERROR_CODES.SPOOL_IO, message: expect.stringContaining(`in use by process ${process.ppid}`) });
    await writeFile(join(dir, 'lock'), '999999999\n');
    await s.open();
    expect(await readFile(join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    await s.close();
    expect(await readdir(dir)).not.toContain('lock');
  });
});
