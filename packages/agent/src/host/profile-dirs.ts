import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from './pid.js';

/*
 * Where Chromium profile folders (`userDataDir`) live: every agent process
 * keeps its own under one parent, `<root>/userprobe-agent-<pid>/`, removed
 * when the browser pool closes. An agent killed with SIGKILL cannot clean up
 * (its Chromium exits with it: pipe transport), so its parent stays behind;
 * the next agent that launches a browser under the same root removes every
 * parent whose process is gone. Parents of live agents are never touched.
 */

export const PROFILE_PARENT_PREFIX = 'userprobe-agent-';

const PARENT = /^userprobe-agent-([1-9][0-9]{0,9})$/;

/** This process's parent folder under `root`. */
export function profileParent(root: string, pid = process.pid): string {
  return join(root, `${PROFILE_PARENT_PREFIX}${pid}`);
}

/** Pure: the folder names under the root that belong to agent processes that are gone. */
export function staleProfileParents(names: readonly string[], o: { readonly self: number; readonly isAlive: (pid: number) => boolean }): string[] {
  return names.filter((name) => {
    const m = PARENT.exec(name);
    if (m === null) return false;
    const pid = Number(m[1]);
    return pid !== o.self && !o.isAlive(pid);
  });
}

/** Removes the parents of agents that are gone; returns their paths. A folder that cannot be removed is skipped. */
export async function removeStaleProfiles(root: string): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of staleProfileParents(names, { self: process.pid, isAlive })) {
    const dir = join(root, name);
    try {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // another agent removed it first, or it is not ours to remove
    }
  }
  return removed;
}

/** Creates (if needed) this process's parent folder, private to it. */
export async function ensureProfileParent(root: string): Promise<string> {
  const dir = profileParent(root);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}
