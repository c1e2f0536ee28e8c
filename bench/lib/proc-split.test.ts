import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CpuSplit, processKind, sumByKind } from './proc-split.mjs';

describe('processKind: what a process of the agent tree is, from its command line', () => {
  const cases: Array<[string, string, boolean, string]> = [
    ['the tree root is the agent', 'node\0packages/agent/dist/cli.js', true, 'agent'],
    ['Chromium with no --type is the browser', '/usr/lib/chromium/chromium\0--headless=new\0--remote-debugging-pipe', false, 'browser'],
    ['the headless shell with no --type is the browser', '/usr/lib/chromium/chromium-headless-shell\0--no-sandbox', false, 'browser'],
    ['gpu-process', '/usr/lib/chromium/chromium\0--type=gpu-process\0--use-gl=angle', false, 'gpu'],
    [
      'a zygote-forked renderer (its title, one space-separated string)',
      '/usr/lib/chromium/chromium-headless-shell --type=renderer --headless=old --no-sandbox\0\0',
      false,
      'renderer',
    ],
    ['renderer', '/usr/lib/chromium/chromium\0--type=renderer\0--renderer-client-id=7', false, 'renderer'],
    ['utility (network service)', '/usr/lib/chromium/chromium\0--type=utility\0--utility-sub-type=network.mojom.NetworkService', false, 'utility'],
    ['zygote counts as other', '/usr/lib/chromium/chromium\0--type=zygote', false, 'other'],
    ['the crash handler (in chromium/, no --type) is other, not the browser', '/usr/lib/chromium/chrome_crashpad_handler\0--monitor-self', false, 'other'],
    ['an unknown child is other', '/bin/sh\0-c\0true', false, 'other'],
  ];
  it.each(cases)('%s', (_why, cmdline, isRoot, kind) => {
    expect(processKind(cmdline, isRoot)).toBe(kind);
  });
});

describe('sumByKind', () => {
  it('adds each process’s ticks since it was first seen, per kind, in seconds', () => {
    const out = sumByKind(
      [
        { kind: 'gpu', first: 100, last: 250 },
        { kind: 'gpu', first: 0, last: 50 },
        { kind: 'renderer', first: 10, last: 10 },
      ],
      100,
    );
    expect(out).toEqual({ agent: 0, browser: 0, gpu: 2, renderer: 0, utility: 0, other: 0 });
  });
});

describe('CpuSplit on a real process tree', () => {
  it('counts a child’s CPU under its kind, all of it when the child was born after the first poll', async () => {
    // root: a shell whose child spins until it has used 300 ms of CPU, then stays alive 3 s so a poll sees its total
    // (1 s was within reach of a stall of this test on a loaded machine)
    const spin = 'const u = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; }; while (u() < 300) {} setTimeout(() => {}, 3000);';
    const root = spawn('sh', ['-c', `sleep 0.2; node -e '${spin}'`], { stdio: 'ignore' });
    const split = new CpuSplit(root.pid!);
    split.poll();
    let done = false;
    root.once('exit', () => (done = true));
    while (!done) {
      await new Promise((r) => setTimeout(r, 100));
      split.poll();
    }
    const r = split.result();
    // the spinning node child is "other" (not a Chromium kind); it used at least 300 ms (ticks are 10 ms)
    expect(r.byKind.other).toBeGreaterThanOrEqual(0.29);
    expect(r.byKind.gpu + r.byKind.renderer + r.byKind.browser + r.byKind.utility).toBe(0);
    expect(r.processes).toBeGreaterThanOrEqual(2);
  });
});
