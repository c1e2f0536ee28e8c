// CPU time of a process tree split by what each process is (the agent's Node process, Chromium's browser, GPU,
// renderer and utility processes, anything else), from /proc, polled. Each process counts its own time only
// (utime + stime, never its children's), from when the split started watching it — or from its birth, when it was
// born after — to the last poll that saw it; so a process that exits between polls loses at most one poll interval
// of time, which `coverage` (split total ÷ the tree's time including reaped children) shows.
import { readFileSync } from 'node:fs';
import { CLK_TCK, stat, tree } from './proc-tree.mjs';

/** The kinds a process is counted under, in the order a table shows them. */
export const PROCESS_KINDS = ['agent', 'browser', 'gpu', 'renderer', 'utility', 'other'];

/**
 * Pure: what a process of `root`'s tree is, from its command line as /proc gives it: NUL-separated, or one
 * space-separated string for the processes Chromium's zygote forks (renderers, GPU, utility), which set their title.
 */
export function processKind(cmdline, isRoot) {
  if (isRoot) return 'agent';
  const args = cmdline.split(/[\0 ]/);
  const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length);
  if (type === undefined) return /^(chromium|chrome|chromium-headless-shell|headless_shell)$/.test((args[0] ?? '').split('/').at(-1)) ? 'browser' : 'other';
  if (type === 'gpu-process') return 'gpu';
  if (type === 'renderer') return 'renderer';
  if (type === 'utility') return 'utility';
  return 'other'; // zygote, broker, crashpad …
}

/** Pure: seconds per kind from the processes seen ({ kind, first, last } in ticks). */
export function sumByKind(seen, clkTck = CLK_TCK) {
  const out = Object.fromEntries(PROCESS_KINDS.map((k) => [k, 0]));
  for (const p of seen) out[p.kind] += (p.last - p.first) / clkTck;
  return out;
}

/**
 * Watches the tree under `root` (the agent's pid): call `poll()` now and then (once a second is enough), `result()`
 * at the end. The first poll sets the start: time spent before it is not counted.
 */
export class CpuSplit {
  #root;
  #seen = new Map(); // `${pid}:${start}` → { kind, first, last }
  #treeFirst = null;
  #treeLast = 0;
  #started = false;

  constructor(root) {
    this.#root = root;
  }

  poll() {
    let ticks = 0;
    let seenRoot = false;
    for (const pid of tree(this.#root)) {
      const s = stat(pid);
      if (!s) continue; // ended meanwhile
      seenRoot ||= pid === this.#root;
      ticks += s.ticks;
      const key = `${pid}:${s.start}`;
      let p = this.#seen.get(key);
      if (!p) {
        let cmdline = '';
        try {
          cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          // ended meanwhile: counted as other
        }
        // born after the first poll: all of its time is in the window
        p = { kind: processKind(cmdline, pid === this.#root), first: this.#started ? 0 : s.own, last: s.own };
        this.#seen.set(key, p);
      }
      p.last = Math.max(p.last, s.own);
    }
    if (!seenRoot) return;
    if (this.#treeFirst === null) this.#treeFirst = ticks;
    this.#treeLast = Math.max(this.#treeLast, ticks);
    this.#started = true;
  }

  /** CPU seconds per kind, the tree's own total (reaped children included) and the share of it the kinds cover. */
  result() {
    const byKind = sumByKind(this.#seen.values());
    const split = Object.values(byKind).reduce((a, b) => a + b, 0);
    const treeS = this.#treeFirst === null ? 0 : (this.#treeLast - this.#treeFirst) / CLK_TCK;
    return { byKind, tree: treeS, coverage: treeS > 0 ? split / treeS : null, processes: this.#seen.size };
  }
}
