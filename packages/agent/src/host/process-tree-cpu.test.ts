import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLOCK_TICKS_PER_SECOND,
  FOREIGN_MAX_AGE_MS,
  foreignPids,
  listPids,
  parseProcStat,
  pidsToRead,
  ProcessTreeCpu,
  readProcStats,
  treeTicks,
} from './process-tree-cpu.js';

describe('parseProcStat', () => {
  it.each([
    ['plain', '4242 (node) S 100 4242 4242 0 -1 4194560 1 0 0 0 35 12 0 0 20 0 11 0 1 1 1', { pid: 4242, ppid: 100, ticks: 47 }],
    [
      'a command name with spaces and parentheses',
      '77 (chrome (renderer) x) R 4242 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 1 1',
      { pid: 77, ppid: 4242, ticks: 10 },
    ],
    [
      'with the times of reaped children (a zygote whose renderers ended)',
      '90 (chrome) S 4242 1 1 0 -1 0 0 0 0 0 7 3 120 40 20 0 1 0 1 1 1',
      { pid: 90, ppid: 4242, ticks: 170 },
    ],
    ['malformed', 'garbage', null],
    ['truncated', '12 (x) S', null],
  ])('%s', (_n, line, want) => {
    expect(parseProcStat(line)).toEqual(want);
  });
});

describe('treeTicks', () => {
  const stats = [
    { pid: 1, ppid: 0, ticks: 1000 },
    { pid: 10, ppid: 1, ticks: 5 }, // the agent
    { pid: 11, ppid: 10, ticks: 20 }, // its browser
    { pid: 12, ppid: 11, ticks: 30 }, // a renderer
    { pid: 13, ppid: 1, ticks: 400 }, // someone else
  ];
  it.each([
    ['the agent, its browser and renderer, nothing else', 10, 55],
    ['a leaf', 12, 30],
    ['a pid that is gone', 99, 0],
  ])('%s', (_n, root, want) => {
    expect(treeTicks(stats, root)).toBe(want);
  });
});

describe('pidsToRead', () => {
  const foreign = new Set([13, 14, 200]);
  it.each([
    ['all but the foreign, when no pid was handed out since', [1, 10, 11, 13, 14, 200], 300, 300, [1, 10, 11], [13, 14, 200]],
    ['a new pid is read', [1, 10, 11, 13, 14, 200, 301], 300, 301, [1, 10, 11, 301], [13, 14, 200]],
    ['a forgotten foreign pid (gone from the listing) is not kept', [1, 10, 11, 13], 300, 300, [1, 10, 11], [13]],
    ['foreign pids handed out again since (the count wrapped past pid_max to 14) are read', [1, 10, 11, 13, 14, 200], 300, 14, [1, 10, 11, 13, 14], [200]],
    ['a foreign pid in the range handed out since is read', [1, 10, 11, 13, 14, 200], 150, 250, [1, 10, 11, 200], [13, 14]],
    ['every pid when the last pid then is unknown', [1, 10, 13, 14], undefined, 300, [1, 10, 13, 14], []],
    ['every pid when the last pid now is unknown', [1, 10, 13, 14], 300, undefined, [1, 10, 13, 14], []],
  ])('%s', (_n, listed, then, now, read, kept) => {
    const got = pidsToRead(listed, foreign, then, now);
    expect(got.read).toEqual(read);
    expect([...got.kept].sort((a, b) => a - b)).toEqual(kept);
  });
});

describe('foreignPids', () => {
  const s = (pid: number, ppid: number) => ({ pid, ppid, ticks: 1 });
  it.each([
    ['pids outside the tree whose ancestors were all seen', [s(1, 0), s(2, 0), s(10, 1), s(11, 10), s(13, 1), s(14, 13), s(50, 2)], [], [1, 2, 13, 14, 50]],
    ['an ancestor known foreign counts as seen', [s(10, 1), s(11, 10), s(15, 13)], [1, 13], [1, 13, 15]],
    ['not a pid whose parent was not seen (it may have been ours), nor its children', [s(1, 0), s(10, 1), s(20, 99), s(21, 20)], [], [1]],
    ['not the root nor its descendants', [s(1, 0), s(10, 1), s(11, 10), s(12, 11)], [], [1]],
  ])('%s', (_n, stats, kept, want) => {
    expect([...foreignPids(stats, 10, new Set(kept))].sort((a, b) => a - b)).toEqual(want);
  });
});

/** A fake /proc: <pid>/stat files and loadavg, whose last pid follows the pids handed out. */
class FakeProc {
  readonly dir = mkdtempSync(join(tmpdir(), 'up-proc-'));
  reads: number[] = [];
  lastPid = 0;
  readonly read = (path: string): string => {
    const m = /\/(\d+)\/stat$/.exec(path);
    if (m) this.reads.push(Number(m[1]));
    return readFileSync(path, 'latin1');
  };

  /** A process starts (or, with `handedOut` false, its stat changes without a new pid being handed out). */
  set(pid: number, ppid: number, ticks: number, handedOut = true): void {
    mkdirSync(join(this.dir, String(pid)), { recursive: true });
    writeFileSync(join(this.dir, String(pid), 'stat'), `${pid} (p ${pid}) S ${ppid} 1 1 0 -1 0 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 1 1 1`);
    if (handedOut) this.lastPid = pid;
    this.#loadavg();
  }

  end(pid: number): void {
    rmSync(join(this.dir, String(pid)), { recursive: true });
  }

  /** The agent's ticks now, by a full read of every listed pid. */
  fullScanMs(root: number): number {
    return (treeTicks(readProcStats(this.dir, listPids(this.dir)), root) * 1000) / CLOCK_TICKS_PER_SECOND;
  }

  #loadavg(): void {
    writeFileSync(join(this.dir, 'loadavg'), `0.10 0.20 0.30 1/100 ${this.lastPid}\n`);
  }
}

describe('ProcessTreeCpu (a fake /proc: reads only the tree and new pids)', () => {
  let proc: FakeProc;
  let cpu: ProcessTreeCpu;
  const AGENT = 400;
  const EVERY_PID = [1, 2, 3, 300, 301, 302, 400, 401];
  beforeEach(() => {
    proc = new FakeProc();
    proc.set(1, 0, 1000); // init
    proc.set(2, 0, 50); // kthreadd
    proc.set(3, 2, 9); // a kernel thread
    proc.set(300, 1, 400); // someone else
    proc.set(301, 300, 70); // their child
    proc.set(302, 1, 60); // someone else
    proc.set(400, 1, 5); // the agent
    proc.set(401, 400, 20); // its browser
    cpu = new ProcessTreeCpu(AGENT, proc.dir, proc.read);
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(proc.dir, { recursive: true });
  });

  /** A reading: the cached answer equals a full scan's; returns the pids whose stat it read. */
  function reading(): number[] {
    proc.reads = [];
    expect(cpu.cpuMs()).toBe(proc.fullScanMs(AGENT));
    return proc.reads.sort((a, b) => a - b);
  }

  it('reads every pid the first time, then only the tree and the new pids', () => {
    expect(reading()).toEqual(EVERY_PID);
    expect(cpu.cpuMs()).toBe(250); // 25 ticks
    proc.set(500, 401, 30); // a renderer starts
    proc.set(502, 1, 3); // and someone else's process
    expect(reading()).toEqual([400, 401, 500, 502]);
    expect(reading()).toEqual([400, 401, 500]);
  });

  it('equals a full scan as a child starts, a child ends, a foreign pid is reused by a child, and a tree process is reparented out', () => {
    reading();
    // (1) a child is born, and a grandchild
    proc.set(500, 401, 30);
    proc.set(501, 500, 4);
    expect(reading()).toEqual([400, 401, 500, 501]);
    expect(cpu.cpuMs()).toBe(590);
    // (2) a child exits; its parent reaped it, so its ticks move to the parent's cutime
    proc.end(501);
    proc.set(500, 401, 34, false);
    expect(reading()).toEqual([400, 401, 500]);
    // (3) a foreign pid ends (a reading sees it gone), then the pid count wraps round and hands its
    // number to a new child of ours: every pid it may have handed out since is read
    proc.end(301);
    expect(reading()).toEqual([400, 401, 500]);
    proc.set(301, 401, 8);
    expect(reading()).toEqual([1, 2, 3, 300, 301, 400, 401, 500]);
    expect(cpu.cpuMs()).toBe(670);
    expect(reading()).toEqual([301, 400, 401, 500]);
    // (3') a foreign pid's number comes back with no reading between (it ended and was handed out again)
    proc.end(302);
    proc.set(302, 400, 6);
    expect(reading()).toEqual([301, 302, 400, 401, 500]);
    expect(cpu.cpuMs()).toBe(730);
    // (4) the browser ends: its renderer and other child are reparented to init, out of the tree
    proc.end(401);
    proc.set(500, 1, 34, false);
    proc.set(301, 1, 8, false);
    expect(reading()).toEqual([301, 302, 400, 500]);
    expect(cpu.cpuMs()).toBe(110);
    expect(reading()).toEqual([302, 400]); // they are foreign now
  });

  it('relies on the pid count: a foreign stat that changes with no pid handed out is not read', () => {
    reading();
    proc.end(300);
    proc.set(300, AGENT, 100, false); // not possible on Linux: a new process takes a pid handed out
    proc.reads = [];
    expect(cpu.cpuMs()).toBe(250); // a full scan would count 300 and its child 301
    expect(proc.fullScanMs(AGENT)).toBe(1950);
    expect(proc.reads).not.toContain(300);
  });

  it('reads every pid when the previous reading is older than FOREIGN_MAX_AGE_MS, or the last pid is unknown', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    reading();
    vi.advanceTimersByTime(FOREIGN_MAX_AGE_MS);
    expect(reading()).toEqual([400, 401]);
    vi.advanceTimersByTime(FOREIGN_MAX_AGE_MS + 1);
    expect(reading()).toEqual(EVERY_PID);
    expect(reading()).toEqual([400, 401]);
    rmSync(join(proc.dir, 'loadavg'));
    expect(reading()).toEqual(EVERY_PID);
    expect(reading()).toEqual(EVERY_PID);
  });

  it('reads again a pid whose parent ended unseen (it may have been ours)', () => {
    proc.set(600, 99, 7); // parent 99 not listed
    expect(reading()).toContain(600);
    expect(reading()).toEqual([400, 401, 600]);
  });
});

describe('ProcessTreeCpu (real /proc)', () => {
  it('counts a child started after the first reading, as a full scan does', async () => {
    const fullMs = () => (treeTicks(readProcStats('/proc', listPids('/proc')), process.pid) * 1000) / CLOCK_TICKS_PER_SECOND;
    const ticksOf = (pid: number) => parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'))!.ticks;
    const cpu = new ProcessTreeCpu();
    cpu.cpuMs(); // the machine's other processes are foreign from here on
    const busy = spawn(process.execPath, ['-e', 'const t=Date.now();while(Date.now()-t<3000){}']);
    try {
      const pid = busy.pid!;
      while (!(ticksOf(pid) >= 20)) await new Promise((r) => setTimeout(r, 50)); // 200 ms of CPU
      const before = fullMs();
      const atLeast = ticksOf(process.pid) + ticksOf(pid);
      const ms = cpu.cpuMs()!;
      const after = fullMs();
      expect(ms).toBeGreaterThanOrEqual((atLeast * 1000) / CLOCK_TICKS_PER_SECOND);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    } finally {
      busy.kill();
    }
  });

  it('sees a busy child of this process, and not a busy process outside its tree', async () => {
    const cores = cpus().length;
    const idle = spawn('sleep', ['5']); // a tree of its own, idle
    const busy = spawn(process.execPath, ['-e', 'const t=Date.now();while(Date.now()-t<2000){}']);
    try {
      const mine = new ProcessTreeCpu();
      const theirs = new ProcessTreeCpu(idle.pid);
      expect(mine.share()).toBeUndefined(); // one reading: no share yet
      theirs.share();
      await new Promise((r) => setTimeout(r, 1_200));
      // the busy loop is our child: a good part of one core of `cores` (other load may share it)
      expect(mine.share()!).toBeGreaterThan(0.25 / cores);
      expect(theirs.share()!).toBeLessThan(0.05);
    } finally {
      busy.kill();
      idle.kill();
    }
  });
});
