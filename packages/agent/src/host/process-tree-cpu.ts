import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { cpus } from 'node:os';

/*
 * How much of the machine this agent's own processes use: the agent's Node
 * process and every descendant (its browsers, their renderers, GPU and utility
 * processes), from the kernel's per-process CPU times in /proc. The start gate
 * asks only while the machine is saturated, to tell a machine this agent
 * saturates (hold starts) from one other processes saturate (holding cannot
 * help). Linux only; elsewhere, and when /proc cannot be read, the share is
 * unknown and the gate judges as before.
 *
 * What a reading reads: the /proc listing (to see new pids), /proc/loadavg
 * (its last field, the last pid the kernel handed out), and /proc/<pid>/stat of
 * every listed pid except the foreign ones: pids read before and found outside
 * the tree. The CPU monitor reads once a second while one session is live
 * (every 5 s while none is), and reading every process's stat each time cost
 * about a third of this process's busy time; the tree and the new pids are a
 * few stat files. A foreign process cannot become a descendant (an orphan moves
 * only to init or a subreaper among its own ancestors), so it is not read again
 * while its pid stays listed and unused since: a pid missing from a listing is
 * forgotten, and one the kernel handed out since the previous reading (between
 * that reading's last pid and this one's; the count wraps from pid_max to the
 * low numbers) is read afresh — the number may name a new process, perhaps a
 * child of ours. A tree process can leave the tree (reparented when its parent
 * dies), so membership is worked out again from each reading's stats, root
 * down; a pid outside it whose ancestor went unseen (it ended mid-reading) is
 * read again. When the previous reading is older than FOREIGN_MAX_AGE_MS (no
 * reading while several sessions are live), or the last pid is unknown, every
 * pid is read: the count may have gone all the way round (32,768 pids on many
 * machines) and come back to a foreign pid.
 */

/** Re-read the process tree at most this often; a cached share is answered in between. */
export const OWN_CPU_MIN_INTERVAL_MS = 1_000;
/** Kernel clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux this runs on). */
export const CLOCK_TICKS_PER_SECOND = 100;
/** Trust the foreign pids of a reading at most this old (the monitor reads every 1–5 s); a lap of the pid count in this time would take thousands of new tasks a second. */
export const FOREIGN_MAX_AGE_MS = 10_000;

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime + cutime + cstime, clock ticks: its own time and that of the children it reaped (a session's renderers that ended still count). */
  readonly ticks: number;
}

/** Pure: one /proc/<pid>/stat line → pid, parent and CPU ticks; null when malformed. The command name may hold spaces and parentheses. */
export function parseProcStat(line: string): ProcStat | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open).trim());
  const rest = line.slice(close + 2).split(' ');
  // rest[0] = state (field 3), rest[1] = ppid (4), rest[11..14] = utime, stime, cutime, cstime (14–17)
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid) || !Number.isFinite(ticks)) return null;
  return { pid, ppid, ticks };
}

/** Pure: `root` and all its descendants, by the parent each stat names (`root` itself even when it has no stat). */
export function treePids(stats: readonly ProcStat[], root: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const c = children.get(s.ppid);
    if (c) c.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const tree = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (tree.has(pid)) continue;
    tree.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Pure: CPU ticks of `root` and all its descendants. */
export function treeTicks(stats: readonly ProcStat[], root: number): number {
  const tree = treePids(stats, root);
  let sum = 0;
  for (const s of stats) if (tree.has(s.pid)) sum += s.ticks;
  return sum;
}

/**
 * Pure: which listed pids to read. All but the known foreign ones whose number
 * the kernel has not handed out again since they were read: new pids counted
 * from `lastPidThen` (exclusive) up to `lastPidNow`, wrapping past pid_max to
 * the low numbers; when either is unknown, any may be new. `kept` are the
 * foreign pids not read, still foreign.
 */
export function pidsToRead(
  listed: readonly number[],
  foreign: ReadonlySet<number>,
  lastPidThen: number | undefined,
  lastPidNow: number | undefined,
): { read: number[]; kept: Set<number> } {
  const read: number[] = [];
  const kept = new Set<number>();
  const handedOut = (pid: number): boolean =>
    lastPidThen === undefined || lastPidNow === undefined
      ? true
      : lastPidThen <= lastPidNow
        ? pid > lastPidThen && pid <= lastPidNow
        : pid > lastPidThen || pid <= lastPidNow;
  for (const pid of listed) {
    if (foreign.has(pid) && !handedOut(pid)) kept.add(pid);
    else read.push(pid);
  }
  return { read, kept };
}

/**
 * Pure: the foreign pids after a reading: `kept`, and each pid read outside
 * `root`'s tree whose every ancestor was seen (read, or known foreign) up to
 * one without a parent (ppid 0). An ancestor not seen — it ended between the
 * listing and its read — may have been in the tree, and its orphans then move
 * to a subreaper that may be too; such a pid is read again next time.
 */
export function foreignPids(stats: readonly ProcStat[], root: number, kept: ReadonlySet<number>): Set<number> {
  const tree = treePids(stats, root);
  const parent = new Map(stats.map((s) => [s.pid, s.ppid]));
  const foreign = new Set(kept);
  for (const s of stats) {
    if (tree.has(s.pid)) continue;
    const chain: number[] = [];
    let pid = s.pid;
    for (;;) {
      if (foreign.has(pid)) break;
      const ppid = parent.get(pid);
      if (ppid === undefined || chain.length > parent.size) {
        chain.length = 0; // an ancestor not seen (or a loop, which cannot happen)
        break;
      }
      chain.push(pid);
      if (ppid === 0) break;
      pid = ppid;
    }
    for (const p of chain) foreign.add(p);
  }
  return foreign;
}

/** The process ids in procDir's listing (its numeric names). */
export function listPids(procDir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync(procDir)) if (/^\d+$/.test(name)) out.push(Number(name));
  return out;
}

const small = Buffer.alloc(4096);
/** A small /proc file's text in one read (a stat line is well under 4 KiB): a third of readFileSync's cost, which first asks the size /proc does not know. */
function readLatin1(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, small, 0, small.length, 0);
    return n < small.length ? small.toString('latin1', 0, n) : readFileSync(path, 'latin1');
  } finally {
    closeSync(fd);
  }
}

/** /proc/<pid>/stat of each pid, those that can still be read. */
export function readProcStats(procDir: string, pids: Iterable<number>, read: (path: string) => string = readLatin1): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of pids) {
    try {
      const s = parseProcStat(read(`${procDir}/${pid}/stat`));
      if (s) out.push(s);
    } catch {
      // the process ended while we listed it
    }
  }
  return out;
}

/** The last pid the kernel handed out in this pid namespace: the 5th field of /proc/loadavg; undefined when unreadable. */
function lastPid(procDir: string, read: (path: string) => string): number | undefined {
  try {
    const n = Number(read(`${procDir}/loadavg`).trim().split(/\s+/)[4]);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export class ProcessTreeCpu {
  readonly #root: number;
  readonly #procDir: string;
  readonly #read: (path: string) => string;
  readonly #cores = Math.max(1, cpus().length);
  #last: { at: number; ms: number } | null = null;
  #share: number | undefined;
  /** Pids read and found outside the tree, and the last pid handed out when they were read. */
  #foreign = new Set<number>();
  #foreignSince: { at: number; lastPid: number } | null = null;

  /** `read` reads a file's text (tests count the reads). */
  constructor(root = process.pid, procDir = '/proc', read: (path: string) => string = readLatin1) {
    this.#root = root;
    this.#procDir = procDir;
    this.#read = read;
  }

  /** CPU time used so far by the tree's living processes, ms; undefined without /proc. */
  cpuMs(): number | undefined {
    try {
      // The last pid after the listing (every pid listed was handed out by then) and before the stats
      // (a pid handed out again after its stat was read is counted in the next reading's range).
      const listed = listPids(this.#procDir);
      const at = performance.now();
      const now = lastPid(this.#procDir, this.#read);
      const since = this.#foreignSince && at - this.#foreignSince.at <= FOREIGN_MAX_AGE_MS ? this.#foreignSince.lastPid : undefined;
      const { read, kept } = pidsToRead(listed, this.#foreign, since, now);
      const stats = readProcStats(this.#procDir, read, this.#read);
      this.#foreign = foreignPids(stats, this.#root, kept);
      this.#foreignSince = now === undefined ? null : { at, lastPid: now };
      return (treeTicks(stats, this.#root) * 1000) / CLOCK_TICKS_PER_SECOND;
    } catch {
      return undefined;
    }
  }

  /** The tree's share of the whole machine since the previous reading (0..1), or undefined before two readings or without /proc. */
  share(now = performance.now()): number | undefined {
    if (this.#last && now - this.#last.at < OWN_CPU_MIN_INTERVAL_MS && this.#share !== undefined) return this.#share;
    const ms = this.cpuMs();
    if (ms === undefined) return undefined;
    if (this.#last && now > this.#last.at) {
      this.#share = Math.min(1, Math.max(0, (ms - this.#last.ms) / ((now - this.#last.at) * this.#cores)));
    }
    this.#last = { at: now, ms };
    return this.#share;
  }
}
