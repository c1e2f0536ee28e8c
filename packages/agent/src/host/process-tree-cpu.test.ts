import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseProcStat, ProcessTreeCpu, treeTicks } from './process-tree-cpu.js';

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

describe('ProcessTreeCpu (real /proc)', () => {
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
