// CPU time and PSS of a process and all its descendants (or of the process alone), from /proc. Shared by the benchmarks.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** ppid, own ticks, ticks with reaped children, and start time (with the pid, a process's identity) of one process; null once gone. */
export function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17) … starttime(22) → rest[0] is field 3
    return {
      ppid: Number(rest[1]),
      own: Number(rest[11]) + Number(rest[12]),
      ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]),
      start: rest[19],
    };
  } catch {
    return null;
  }
}

/** pid and every live descendant. */
export function tree(root) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(d);
    if (!s) continue;
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(Number(d));
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/**
 * CPU seconds of the tree: utime + stime + cutime + cstime of every live
 * process (a renderer that exited was reaped by its parent, whose cutime/cstime
 * then hold its time).
 */
export function cpuSeconds(root) {
  let ticks = 0;
  for (const p of tree(root)) ticks += stat(p)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** CPU seconds (user + system) of the process alone, not its children's. */
export function ownCpuSeconds(pid) {
  return (stat(pid)?.own ?? 0) / CLK_TCK;
}

/** PSS of one process, MB (0 once it is gone). */
export function ownPssMb(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0; // exited meanwhile
  }
}

/** Summed PSS of the tree, MB (smaps_rollup; RSS would count shared pages once per process). */
export function pssMb(root) {
  let mb = 0;
  for (const p of tree(root)) mb += ownPssMb(p);
  return mb;
}
