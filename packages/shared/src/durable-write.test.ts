import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendDurable, isTempFile, mkdirPrivate, moveDurable, removeTempFiles, truncateDurable, writeFileDurable, writeJsonDurable } from './durable-write.js';

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

describe('durable writes (real files)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'up-durable-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writeFileDurable writes text and bytes, owner-only, replacing what was there, leaving no temporary file', async () => {
    const path = join(dir, 'run.json');
    await writeFileDurable(path, 'first');
    await writeFileDurable(path, Buffer.from([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await mode(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['run.json']);
  });

  it('writeFileDurable narrows a file an older version left readable (the replacement is a new file)', async () => {
    const path = join(dir, 'agent-id');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileDurable(path, 'new');
    expect(await mode(path)).toBe(0o600);
  });

  it('writeJsonDurable: indented JSON with a final newline', async () => {
    await writeJsonDurable(join(dir, 'a.json'), { b: [1] });
    expect(await readFile(join(dir, 'a.json'), 'utf8')).toBe('{\n  "b": [\n    1\n  ]\n}\n');
  });

  it('concurrent writes of one path: the file holds one of them whole, no temporary file is left', async () => {
    const path = join(dir, 'state.json');
    const bodies = Array.from({ length: 8 }, (_, i) => String(i).repeat(100_000));
    await Promise.all(bodies.map((b) => writeFileDurable(path, b)));
    expect(bodies).toContain(await readFile(path, 'utf8'));
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('a failed write rejects and leaves neither the file nor a temporary one', async () => {
    const missing = join(dir, 'no-such-folder', 'x.json');
    await expect(writeFileDurable(missing, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    const target = join(dir, 'is-a-folder');
    await mkdirPrivate(target);
    await expect(writeFileDurable(target, 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
    expect(await readdir(dir)).toEqual(['is-a-folder']);
  });

  it('isTempFile and removeTempFiles: what interrupted writes leave, old and new names, is recognised and cleared; the rest stays', async () => {
    for (const n of ['.run.json.1a2b3c4d.tmp', 'run.json.tmp', '0000000000000001.json.tmp', 'run.json', 'samples.jsonl']) await writeFile(join(dir, n), 'x');
    expect(['.run.json.1a2b3c4d.tmp', 'run.json.tmp', 'run.json', 'tmp', 'a.tmpl'].map(isTempFile)).toEqual([true, true, false, false, false]);
    expect((await removeTempFiles(dir)).sort()).toEqual(['.run.json.1a2b3c4d.tmp', '0000000000000001.json.tmp', 'run.json.tmp']);
    expect((await readdir(dir)).sort()).toEqual(['run.json', 'samples.jsonl']);
    expect(await removeTempFiles(join(dir, 'missing'))).toEqual([]);
  });

  it('appendDurable appends and counts bytes (not characters); truncateDurable cuts back', async () => {
    const path = join(dir, 'samples.jsonl');
    const fh = await open(path, 'a', 0o600);
    try {
      expect(await appendDurable(fh, 'é\n')).toBe(3);
      expect(await appendDurable(fh, '')).toBe(0);
      expect(await appendDurable(fh, 'b\n')).toBe(2);
    } finally {
      await fh.close();
    }
    expect(await readFile(path, 'utf8')).toBe('é\nb\n');
    await truncateDurable(path, 3);
    expect(await readFile(path, 'utf8')).toBe('é\n');
  });

  it('moveDurable moves a file into another folder; a missing source is an error', async () => {
    await mkdirPrivate(join(dir, 'rejected'));
    expect(await mode(join(dir, 'rejected'))).toBe(0o700);
    await writeFileDurable(join(dir, '1.json'), '{}');
    await moveDurable(join(dir, '1.json'), join(dir, 'rejected', 'r.1.json'));
    expect(await readdir(join(dir, 'rejected'))).toEqual(['r.1.json']);
    await expect(moveDurable(join(dir, '1.json'), join(dir, 'rejected', 'again.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('kill -9 in the middle of writes: the file is always one complete version, never torn; leftovers are temporary files only', async () => {
    // The built module (the test command builds first), in a process of its own that we can kill.
    const module = fileURLToPath(new URL('../dist/durable-write.js', import.meta.url));
    const path = join(dir, 'big.txt');
    const size = 16 * 1024 * 1024;
    const script = `
      import { writeFileDurable } from ${JSON.stringify(module)};
      for (let i = 0; ; i++) {
        await writeFileDurable(${JSON.stringify(path)}, String.fromCharCode(65 + (i % 26)).repeat(${size}));
        process.stdout.write(i + '\\n');
      }`;
    let leftovers = 0;
    for (let round = 0; round < 4; round += 1) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Once a complete version is there, kill the writer the moment its next temporary file appears: mid-write.
      let complete = false;
      child.stdout.once('data', () => {
        complete = true;
      });
      const watcher = watch(dir, (_event, name) => {
        if (complete && name !== null && isTempFile(name)) child.kill('SIGKILL');
      });
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      watcher.close();
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
      const text = await readFile(path, 'utf8');
      expect(text.length).toBe(size);
      expect(text).toBe(text[0]!.repeat(size));
      expect((await readdir(dir)).filter((n) => !isTempFile(n))).toEqual(['big.txt']);
      leftovers += (await removeTempFiles(dir)).length;
      expect(await readdir(dir)).toEqual(['big.txt']);
    }
    expect(leftovers).toBeGreaterThan(0); // the kills did land mid-write
    process.stdout.write(`kill -9 during durable writes: 4 rounds, ${leftovers} temporary file(s) left behind and cleared, no torn file\n`);
  }, 60_000);
});
