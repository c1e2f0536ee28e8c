import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './fixtures.js';
import { startCli } from './processes.js';

// vitest-group: timing — "nothing between two runs of the same configuration" holds only when
// the machine's load does not change between them, so this runs with the machine to itself.

/*
 * `controller compare` on real runs: three chat-load runs of 8 sessions (a
 * local agent, Chromium, the demo target), interleaved A, B, A' so the
 * machine's drift falls on both sides: A and A' are the same configuration,
 * B has 200 ms injected on `create`. The comparison must flag api_create in
 * A → B and nothing at all in A → A'. --include-saturated: on a busy machine
 * every sample may be flagged saturated, and this is about the comparison.
 */

interface Comparison {
  metrics: { metric: string; verdict: string; changeP50: number | null; a: { count: number } }[];
}

describe('controller compare (real runs)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('flags a 200 ms injected change on api_create, and nothing between two runs of the same configuration', async () => {
    const tmp = await tempDir('userprobe-compare-');
    cleanups.push(tmp.cleanup);
    const run = async (runId: string, extra: readonly string[] = []) => {
      const p = startCli([
        'run',
        '--scenario',
        'chat-load',
        '--total',
        '8',
        '--ramp-up',
        '4s',
        '--local-agents',
        '1',
        '--input',
        'insert',
        '--port',
        '0',
        '--out',
        tmp.dir,
        '--run-id',
        runId,
        ...extra,
      ]);
      cleanups.push(() => {
        if (p.child.exitCode === null) p.child.kill('SIGKILL');
      });
      expect(await p.exited, p.stderr().slice(-2000)).toBe(0);
    };
    await run('a');
    await run('b', ['--demo-latency', 'create=200']);
    await run('a2');

    const compare = async (x: string, y: string, extra: readonly string[] = []) => {
      const p = startCli(['compare', x, y, '--out', tmp.dir, '--include-saturated', ...extra]);
      return { code: await p.exited, p };
    };
    const slower = await compare('a', 'b', ['--json', '--fail-on-slower', '--html', join(tmp.dir, 'a-b.html')]);
    expect(slower.code, slower.p.stderr()).toBe(1);
    const ab = JSON.parse(slower.p.stdout()) as Comparison;
    // api_create, and the server wait of the `create` request pattern that holds the same delay (api_server_wait[create]).
    const flagged = ab.metrics.filter((m) => m.verdict === 'slower' || m.verdict === 'faster');
    expect(
      flagged.map((m) => m.metric),
      JSON.stringify(flagged),
    ).toContain('api_create');
    for (const m of flagged) {
      expect(m.metric, JSON.stringify(flagged)).toMatch(/^api_create$|^api_(server_wait|request)(\[create\])?$/);
      expect(m.verdict).toBe('slower');
      expect(m.changeP50).toBeGreaterThanOrEqual(190);
    }
    expect(ab.metrics.find((m) => m.metric === 'api_create')!.a.count).toBe(8);
    expect(await readFile(join(tmp.dir, 'a-b.html'), 'utf8')).toContain('<tr class="slower"><td>api_create</td>');

    const same = await compare(join(tmp.dir, 'a'), join(tmp.dir, 'a2'), ['--fail-on-slower']);
    expect(same.code, same.p.stdout()).toBe(0);
    expect(same.p.stdout()).toContain('no metric changed beyond noise');
    expect(same.p.stdout()).toMatch(/^A: run a \(8 session\(s\)\) {3}B: run a2 \(8 session\(s\)\)/);

    const missing = await compare('a', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.p.stderr()).toContain(`"nope" is not a run's results folder`);
  }, 240_000);
});
