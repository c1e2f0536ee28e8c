import { mkdtemp, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@userprobe/shared';
import { prepareOutDir } from './out-dir.js';

describe('prepareOutDir', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'up-outdir-'));
    await writeFile(join(root, 'file'), 'x');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates missing folders level by level and leaves no probe behind', async () => {
    const dir = join(root, 'a', 'b', 'c');
    expect(await prepareOutDir(dir)).toBe(dir);
    expect((await stat(dir)).isDirectory()).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(await prepareOutDir(dir)).toBe(dir); // existing: fine
  });

  it.each([
    [
      'an existing file',
      (r: string) => join(r, 'file'),
      (r: string) => `--out: ${r}/file exists and is not a folder; accepted: a writable folder (created if missing)`,
    ],
    [
      'a path under a file',
      (r: string) => join(r, 'file', 'x'),
      (r: string) => `--out: ${r}/file (in ${r}/file/x) is not a folder; accepted: a writable folder (created if missing)`,
    ],
    [
      'a folder the kernel will not make (/proc)',
      () => '/proc/x/y',
      () => '--out: cannot create the folder /proc/x (ENOENT); accepted: a writable folder (created if missing)',
    ],
    [
      'a folder that is not writable (/proc/self)',
      () => '/proc/self',
      () => '--out: the folder /proc/self is not writable (ENOENT); accepted: a writable folder (created if missing)',
    ],
  ])('%s → a ConfigError naming --out', async (_n, path, message) => {
    const e = await prepareOutDir(path(root)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(message(root));
  });
});
