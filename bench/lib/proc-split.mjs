// CPU time of a process tree split by what each process is (the agent's Node process, Chromium's browser, GPU,
// renderer and utility processes, anything else), from /proc, polled. Each process counts its own time only
// (utime + stime, never its children's), from when the split started watching it — or from its birth, when it was
// born after — to the last poll that saw it; so a process that exits between polls loses at most one poll interval
// of time, which `coverage` (split total ÷ the tree's time including reaped children) shows.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The kinds a process is counted under, in the order a table shows them. */
export const PROCESS_KINDS = ['agent', 'browser', 'gpu', 'renderer', 'utility', 'other'];

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** ppid, own ticks, start time (ticks since boot: with the pid, a process's identity) of one process. */
function stat(pid) {
  const s = read(`/proc/${pid}/stat`);
  if (!s) return null;
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), withChildren: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), start: f[19] };
}

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
    const stats = new Map();
    const children = new Map();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const s = stat(d);
      if (!s) continue;
      stats.set(Number(d), s);
      if (!children.has(s.ppid)) children.set(s.ppid, []);
      children.get(s.ppid).push(Number(d));
    }
    if (!stats.has(this.#root)) return;
    let tree = 0;
    const stack = [this.#root];
    while (stack.length) {
      const pid = stack.pop();
      const s = stats.get(pid);
      if (!s) continue;
      tree += s.withChildren;
      const key = `${pid}:${s.start}`;
      let p = this.#seen.get(key);
      if (!p) {
        const kind = processKind(read(`/proc/${pid}/cmdline`) ?? '', pid === this.#root);
        // born after the first poll: all of its time is in the window
        p = { kind, first: this.#started ? 0 : s.own, last: s.own };
        this.#seen.set(key, p);
      }
      p.last = Math.max(p.last, s.own);
      for (const c of children.get(pid) ?? []) stack.push(c);
    }
    if (this.#treeFirst === null) this.#treeFirst = tree;
    this.#treeLast = Math.max(this.#treeLast, tree);
    this.#started = true;
  }

  /** CPU seconds per kind, the tree's own total (reaped children included) and the share of it the kinds cover. */
  result() {
    const byKind = sumByKind(this.#seen.values());
    const split = Object.values(byKind).reduce((a, b) => a + b, 0);
    const tree = this.#treeFirst === null ? 0 : (this.#treeLast - this.#treeFirst) / CLK_TCK;
    return { byKind, tree, coverage: tree > 0 ? split / tree : null, processes: this.#seen.size };
  }
}

/** CPU seconds (user + system) of one process alone, or null once it is gone. */
export function ownSeconds(pid) {
  const s = stat(pid);
  return s ? s.own / CLK_TCK : null;
}
