import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PRIVATE_FILE_MODE } from '@userprobe/shared';

/** Suffix of in-progress files; readers ignore them (a crash can leave one behind). */
export const TMP_SUFFIX = '.tmp';

/**
 * Write a file so that a reader (or a restart after a crash) sees either the
 * old content or the complete new content: tmp file, fsync, rename, fsync dir.
 * The file is readable by its owner only (PRIVATE_FILE_MODE).
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  const fh = await open(tmp, 'w', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDir(dir);
}

/** fsync a directory so a rename/create/unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
