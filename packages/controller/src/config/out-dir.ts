import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@userprobe/shared';

/*
 * The results folder (`--out`), made ready before anything starts: created
 * if missing, then proven a writable folder by writing and removing a probe
 * file. Missing folders are made one level at a time: Node's recursive mkdir
 * spins forever (100 % CPU, deaf to SIGTERM) where the kernel answers ENOENT
 * under an existing parent, as it does for /proc/x. Every problem is a
 * ConfigError (exit 2) naming the flag, the path and what is accepted.
 */

export const OUT_DIR_ACCEPTED = 'accepted: a writable folder (created if missing)';

/** Resolves to the folder's absolute path. */
export async function prepareOutDir(outDir: string, flag = '--out'): Promise<string> {
  const abs = resolve(outDir);
  const refuse = (what: string, e?: unknown): ConfigError =>
    new ConfigError(`${flag}: ${what}${e === undefined ? '' : ` (${codeOf(e)})`}; ${OUT_DIR_ACCEPTED}`, e === undefined ? undefined : { cause: e });

  // The nearest existing ancestor must be a folder; everything below it is made.
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      const st = await stat(p);
      if (!st.isDirectory()) throw refuse(p === abs ? `${abs} exists and is not a folder` : `${p} (in ${abs}) is not a folder`);
      break;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      if ((codeOf(e) !== 'ENOENT' && codeOf(e) !== 'ENOTDIR') || dirname(p) === p) throw refuse(`cannot use ${abs}`, e);
      missing.unshift(p);
    }
  }
  for (const dir of missing) {
    try {
      await mkdir(dir);
    } catch (e) {
      if (
        codeOf(e) !== 'EEXIST' ||
        !(await stat(dir).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      )
        throw refuse(`cannot create the folder ${dir}`, e);
    }
  }
  const probe = join(abs, `.write-check-${process.pid}`);
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw refuse(`the folder ${abs} is not writable`, e);
  }
  return abs;
}

function codeOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : String((e as Error | undefined)?.message ?? e);
}
