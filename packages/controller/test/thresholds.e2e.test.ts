import { afterEach, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './fixtures.js';
import { startCli } from './processes.js';
import { junitSchemaErrors } from './junit/validate-junit.js';

/*
 * Thresholds on real parts: `controller run` with a local agent, Chromium and
 * the demo target, a delay injected on `create`. The limit (1500 ms) is far
 * from both sides of the truth so the verdict does not depend on the
 * machine's load: with no delay api_create takes milliseconds, with 2000 ms
 * injected it cannot take less than 2000. include-saturated: a busy machine
 * flags every sample saturated, and the thresholds here are about the verdict
 * and the exit code, not about saturation (thresholds.test.ts covers that).
 */

interface Outcome {
  exitCode: number;
  status: string;
  summary: {
    sessions: { ok: number; aborted: number; recorded: number };
    thresholds: { threshold: string; ok: boolean; observed: number | null; count: number }[];
    stoppedBy: { threshold: string } | null;
  };
}

describe('thresholds (controller run, a local agent, Chromium, the demo target)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const run = async (out: string, runId: string, extra: readonly string[]) => {
    const p = startCli([
      'run',
      '--scenario',
      'chat-load',
      '--local-agents',
      '1',
      '--port',
      '0',
      '--out',
      out,
      '--run-id',
      runId,
      '--input',
      'insert',
      ...extra,
    ]);
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    return { code: await p.exited, p };
  };

  it('a threshold on an injected delay passes below its limit (exit 0) and fails above it (exit 99); the table, --json and --junit say so', async () => {
    const tmp = await tempDir('userprobe-thresholds-');
    cleanups.push(tmp.cleanup);
    const limit = ['--threshold', 'api_create:p95<1500ms,include-saturated', '--threshold', 'sessions:error-rate<=0%'];

    const below = await run(tmp.dir, 'below', ['--total', '2', ...limit, '--json', '--junit', join(tmp.dir, 'below.xml')]);
    expect(below.code, below.p.stderr().slice(-3000)).toBe(0);
    const ok = JSON.parse(below.p.stdout()) as Outcome;
    expect(ok).toMatchObject({ exitCode: 0, status: 'passed' });
    expect(ok.summary.thresholds.map((r) => [r.threshold, r.ok, r.count])).toEqual([
      ['api_create:p95<1500ms', true, 2],
      ['sessions:error-rate<=0%', true, 2],
    ]);
    expect(ok.summary.thresholds[0]!.observed).toBeLessThan(1500);
    const okXml = await readFile(join(tmp.dir, 'below.xml'), 'utf8');
    expect(await junitSchemaErrors(okXml)).toEqual([]);
    expect(okXml).toContain('tests="3" failures="0"');
    // Every completed run leaves its HTML report (html-report.e2e.test.ts renders one in Chromium).
    const report = await readFile(join(tmp.dir, 'below', 'report.html'), 'utf8');
    expect(report).toContain('<li class="pass">pass  api_create:p95&lt;1500ms');
    expect(below.p.stderr()).toContain(`report: ${join(tmp.dir, 'below', 'report.html')}`);

    // The same thresholds from a run config file (docs/run-config.md): judged as the flags are.
    const config = join(tmp.dir, 'above.yaml');
    await writeFile(
      config,
      `total: 2\ndemo-latency: create=2000\nthreshold:\n  - api_create:p95<1500ms,include-saturated\n  - sessions:error-rate<=0%\njunit: ${join(tmp.dir, 'above.xml')}\n`,
    );
    const above = await run(tmp.dir, 'above', ['--config', config]);
    expect(above.code, above.p.stderr().slice(-3000)).toBe(99);
    expect(above.p.stdout()).toMatch(
      /thresholds: 1 of 2 FAILED \(on the merged samples of every agent\)\n {2}FAIL {2}api_create:p95<1500ms {2}p95 2\d{3} ms over 2 value\(s\) \(saturated samples included\)\n {2}pass {2}sessions:error-rate<=0%/,
    );
    const summary = JSON.parse(await readFile(join(tmp.dir, 'above', 'summary.json'), 'utf8')) as Outcome['summary'];
    expect(summary.thresholds.map((r) => r.ok)).toEqual([false, true]);
    const failXml = await readFile(join(tmp.dir, 'above.xml'), 'utf8');
    expect(await junitSchemaErrors(failXml)).toEqual([]);
    expect(failXml).toContain('tests="3" failures="1"');
    expect(failXml).toMatch(/name="api_create:p95&lt;1500ms" time="0.000">\s*<failure message="FAIL/);
  });

  it('abort-on-fail stops the run once the threshold fails while it goes: exit 99, the summary says why', async () => {
    const tmp = await tempDir('userprobe-thresholds-abort-');
    cleanups.push(tmp.cleanup);
    // Six sessions 6 s apart; the first one's api_create (2000 ms injected) fails the threshold, so the run stops long before the last starts.
    const r = await run(tmp.dir, 'abort', [
      '--total',
      '6',
      '--ramp-up',
      '36s',
      '--demo-latency',
      'create=2000',
      '--threshold',
      'api_create:max<1500ms,abort-on-fail,min-samples=1,delay=0s,include-saturated',
      '--json',
    ]);
    expect(r.code, r.p.stderr().slice(-3000)).toBe(99);
    const o = JSON.parse(r.p.stdout()) as Outcome;
    expect(o).toMatchObject({ exitCode: 99, status: 'failed' });
    expect(o.summary.stoppedBy).toMatchObject({ threshold: 'api_create:max<1500ms' });
    expect(o.summary.sessions.ok).toBeLessThan(6);
    expect(r.p.stderr()).toMatch(
      /threshold api_create:max<1500ms failed while the run was going: max 2\d{3} ms over \d+ value\(s\) \(saturated samples included\); abort-on-fail stops the run/,
    );
  });

  it('a threshold that cannot be judged is refused before anything starts, naming every problem', async () => {
    const tmp = await tempDir('userprobe-thresholds-bad-');
    cleanups.push(tmp.cleanup);
    const r = await run(tmp.dir, 'bad', ['--total', '1', '--threshold', 'api_create:p95 < soon', '--threshold', 'api_create:p42<1s']);
    expect(r.code).toBe(2);
    expect(r.p.stderr()).toContain('--threshold: "api_create:p95 < soon" is not a threshold; accepted: METRIC[{DETAIL}]:STAT OP VALUE');
    expect(r.p.stderr()).toContain('"api_create:p42<1s": unknown statistic "p42"');
    expect(r.p.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    const wrong = await run(tmp.dir, 'bad2', ['--total', '1', '--threshold', 'call_setup:p95<1s']);
    expect(wrong.code).toBe(2);
    expect(wrong.p.stderr()).toContain('threshold call_setup:p95<1s: chat-load does not record call_setup');
  });
});
