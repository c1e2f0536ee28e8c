import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './file-modes.js';

/*
 * The one way userprobe makes a file durable — agent spools, the results
 * folder, evidence, the controller's MySQL spool, the agent id.
 *
 * What is guaranteed: after `writeFileDurable` resolves, a reader (or the next
 * process, after a crash or a power cut) sees the complete new content under
 * `path`; before it, the old content or nothing. Never a torn file: the data
 * goes to a temporary file in the same folder, which is fsynced, renamed over
 * `path`, and the folder is fsynced so the rename survives too. A crash leaves
 * at most a temporary file behind, named `.<name>.<random>.tmp`: readers skip
 * it (`isTempFile`) and owners clear it when they open (`removeTempFiles`).
 * Appends (`appendDurable`) are fsynced before they resolve; a torn tail is
 * the caller's to cut (the results folder records the lengths it trusts).
 *
 * Everything is created readable by its owner only (PRIVATE_FILE_MODE,
 * PRIVATE_DIR_MODE): these files hold what agents saw of a tenant's product.
 */

/** Suffix of in-progress files: never a complete file, whatever their name says. */
export const TMP_SUFFIX = '.tmp';

/** Is this file name an interrupted (or in-progress) durable write? */
export function isTempFile(name: string): boolean {
  return name.endsWith(TMP_SUFFIX);
}

export interface DurableWriteOptions {
  /**
   * fsync the folder after the rename (default true). Pass false when writing
   * several files into one folder, then call `syncDir` once.
   */
  readonly syncDir?: boolean;
}

/** Write `data` to `path` atomically and durably (temp file, fsync, rename, fsync folder), mode 0600. */
export async function writeFileDurable(path: string, data: string | Uint8Array, opts: DurableWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  try {
    const fh = await open(tmp, 'wx', PRIVATE_FILE_MODE);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  if (opts.syncDir ?? true) await syncDir(dir);
}

/** `writeFileDurable` of a JSON document, indented for people to read, with a final newline. */
export async function writeJsonDurable(path: string, value: unknown, opts: DurableWriteOptions = {}): Promise<void> {
  await writeFileDurable(path, `${JSON.stringify(value, null, 2)}\n`, opts);
}

/** fsync a folder, so a create, rename or unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Create a folder (and its parents) readable by its owner only. */
export async function mkdirPrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Move a file or folder within one filesystem and fsync both folders. A missing source is an error (ENOENT). */
export async function moveDurable(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDir(dirname(to));
  if (dirname(from) !== dirname(to)) await syncDir(dirname(from));
}

/** Remove what interrupted writes left in a folder (not recursive); returns the names removed. A missing folder holds none. */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  const temps = names.filter(isTempFile);
  for (const name of temps) await rm(join(dir, name), { force: true });
  return temps;
}

/** Append `text` to an open file and fsync its data before resolving; returns the bytes appended. */
export async function appendDurable(fh: FileHandle, text: string): Promise<number> {
  if (text === '') return 0;
  const data = Buffer.from(text, 'utf8');
  await fh.appendFile(data);
  await fh.datasync();
  return data.byteLength;
}

/** Cut a file back to `length` bytes and fsync it (a torn or unacknowledged tail). */
export async function truncateDurable(path: string, length: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
