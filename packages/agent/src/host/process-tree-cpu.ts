import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/*
 * How much of the machine this agent's own processes use: the agent's Node
 * process and every descendant (its browsers, their renderers, GPU and utility
 * processes), from the kernel's per-process CPU times in /proc. The start gate
 * asks only while the machine is saturated, to tell a machine this agent
 * saturates (hold starts) from one other processes saturate (holding cannot
 * help). Linux only; elsewhere, and when /proc cannot be read, the share is
 * unknown and the gate judges as before.
 */

/** Re-read the process tree at most this often; a cached share is answered in between. */
export const OWN_CPU_MIN_INTERVAL_MS = 1_000;
/** Kernel clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux this runs on). */
export const CLOCK_TICKS_PER_SECOND = 100;

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

/** Pure: CPU ticks of `root` and all its descendants. */
export function treeTicks(stats: readonly ProcStat[], root: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const s of stats) {
    ticks.set(s.pid, s.ticks);
    const c = children.get(s.ppid);
    if (c) c.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  let sum = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    sum += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

function readAll(procDir: string): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parseProcStat(readFileSync(`${procDir}/${name}/stat`, 'latin1'));
      if (s) out.push(s);
    } catch {
      // the process ended while we listed it
    }
  }
  return out;
}

export class ProcessTreeCpu {
  readonly #root: number;
  readonly #procDir: string;
  readonly #cores = Math.max(1, cpus().length);
  #last: { at: number; ms: number } | null = null;
  #share: number | undefined;

  constructor(root = process.pid, procDir = '/proc') {
    this.#root = root;
    this.#procDir = procDir;
  }

  /** CPU time used so far by the tree's living processes, ms; undefined without /proc. */
  cpuMs(): number | undefined {
    try {
      return (treeTicks(readAll(this.#procDir), this.#root) * 1000) / CLOCK_TICKS_PER_SECOND;
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
