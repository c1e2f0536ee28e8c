import { describe, it, expect, afterEach } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_PROFILES, coreMetrics } from '@userprobe/shared';
import { tempDir } from './fixtures.js';
import { startCli, type Proc } from './processes.js';
import { createTestDb } from './db/test-db.js';
import { fileURLToPath } from 'node:url';
import { startDemoTarget } from '@userprobe/demo-target';

const CUSTOM_SCENARIO = fileURLToPath(new URL('../../../profiles/examples/custom-scenario.mjs', import.meta.url));

/**
 * The headline command, on real parts: `controller run --scenario chat-load
 * --total 6 --local-agents 2` starts the bundled demo target and two real agent
 * processes (one Chromium each) and must finish with every core metric for all 6
 * sessions, split 3/3, and exit 0.
 */
describe('controller run --local-agents (real agents, Chromium, demo target)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('chat-load --total 6 --local-agents 2: 3/3 split, every core metric for every session, exit 0', async () => {
    const tmp = await tempDir('userprobe-local-run-');
    cleanups.push(tmp.cleanup);
    const p: Proc = startCli([
      'run',
      '--scenario',
      'chat-load',
      '--total',
      '6',
      '--local-agents',
      '2',
      '--port',
      '0',
      '--out',
      tmp.dir,
      '--run-id',
      'local-e2e',
      '--json',
      '--demo-latency',
      'create=300',
    ]);
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    const code = await p.exited;
    expect(code, p.stderr().slice(-3000)).toBe(0);

    const o = JSON.parse(p.stdout()) as {
      summary: { sessions: Record<string, number>; agents: { name: string; sessionsOk: number }[]; metrics: { metric: string; count: number; p50: number }[] };
    };
    expect(o.summary.sessions).toMatchObject({ expected: 6, recorded: 6, ok: 6, failed: 0, missing: 0 });
    expect(o.summary.agents.map((a) => [a.name, a.sessionsOk])).toEqual([
      ['local-1', 3],
      ['local-2', 3],
    ]);

    const samples = (await readFile(join(tmp.dir, 'local-e2e', 'samples.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; metric: string; value: number; browser: string });
    const core = coreMetrics('chat-load') as string[];
    const coreSamples = samples.filter((s) => core.includes(s.metric));
    expect(coreSamples).toHaveLength(6 * core.length);
    const sessionIds = [...new Set(coreSamples.map((s) => s.sessionId))].sort();
    expect(sessionIds).toHaveLength(6);
    for (const id of sessionIds) {
      expect(
        coreSamples
          .filter((s) => s.sessionId === id)
          .map((s) => s.metric)
          .sort(),
      ).toEqual([...core].sort());
    }
    // The injected 300 ms on `create` shows through (accuracy is asserted in the scenario's tests).
    const create = o.summary.metrics.find((m) => m.metric === 'api_create');
    expect(create?.p50).toBeGreaterThanOrEqual(300);
    expect(samples.every((s) => s.browser === 'shell')).toBe(true);
  }, 120_000);

  it('with --db: `controller migrate`, then a run stores exactly what the results folder holds in MySQL', async () => {
    const db = await createTestDb('userprobe_e2e');
    cleanups.push(() => db.drop());
    const tmp = await tempDir('userprobe-db-run-');
    cleanups.push(tmp.cleanup);
    const migrate = startCli(['migrate', '--db', db.url]);
    expect(await migrate.exited, migrate.stderr()).toBe(0);
    expect(migrate.stdout()).toMatch(/applied 001_init\.sql/);

    const p = startCli(
      ['run', '--scenario', 'chat-load', '--total', '2', '--local-agents', '1', '--port', '0', '--out', tmp.dir, '--run-id', 'db-e2e', '--json'],
      { PROBE_DB_URL: db.url },
    );
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    expect(await p.exited, p.stderr().slice(-3000)).toBe(0);

    const fileSamples = (await readFile(join(tmp.dir, 'db-e2e', 'samples.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const [[counts]] = (await db.admin.query(
      "SELECT (SELECT COUNT(*) FROM samples WHERE run_id = 'db-e2e') AS samples, (SELECT COUNT(*) FROM sessions WHERE run_id = 'db-e2e' AND status = 'ok') AS sessions, (SELECT status FROM runs WHERE run_id = 'db-e2e') AS status",
    )) as unknown as [[{ samples: number; sessions: number; status: string }]];
    expect(Number(counts.samples)).toBe(fileSamples.length);
    expect(Number(counts.samples)).toBeGreaterThanOrEqual(2 * coreMetrics('chat-load').length);
    expect(Number(counts.sessions)).toBe(2);
    expect(counts.status).toBe('passed');
  }, 120_000);

  it('a templated profile (--profile-var), a custom scenario module and --duration: every round recorded, exit 0', async () => {
    const demo = await startDemoTarget();
    cleanups.push(() => demo.close());
    const tmp = await tempDir('userprobe-custom-run-');
    cleanups.push(tmp.cleanup);
    const p = startCli([
      'run',
      '--scenario',
      'chat-load',
      '--total',
      '1',
      '--local-agents',
      '1',
      '--port',
      '0',
      '--out',
      tmp.dir,
      '--run-id',
      'custom-e2e',
      '--json',
      '--no-adaptive-start',
      '--duration',
      '6s',
      '--target',
      BUNDLED_PROFILES.demo!,
      '--profile-var',
      `DEMO_SITE_URL=${demo.siteUrl}`,
      '--profile-var',
      `DEMO_APP_URL=${demo.appUrl}`,
      '--scenario-module',
      CUSTOM_SCENARIO,
    ]);
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    expect(await p.exited, p.stderr().slice(-3000)).toBe(0);
    const o = JSON.parse(p.stdout()) as { summary: { sessions: { expected: number | null; recorded: number; ok: number } } };
    expect(o.summary.sessions.expected).toBeNull(); // repeating: the count is open
    expect(o.summary.sessions.recorded).toBeGreaterThanOrEqual(2);
    expect(o.summary.sessions.ok).toBe(o.summary.sessions.recorded);
    const samples = (await readFile(join(tmp.dir, 'custom-e2e', 'samples.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; metric: string });
    // The custom module's metrics, once per round: s0001, s0001.r1, …
    const ids = [...new Set(samples.map((s) => s.sessionId))].sort();
    expect(ids).toEqual(['s0001', ...Array.from({ length: ids.length - 1 }, (_, i) => `s0001.r${i + 1}`)].sort());
    expect(samples.map((s) => s.metric).sort()).toEqual(ids.flatMap(() => ['nav_dcl_visitor', 'nav_ttfb_visitor', 'page_load']).sort());
    // The module's recorder.note lands in its session's record, with its data and a UTC time.
    const sessions = (await readFile(join(tmp.dir, 'custom-e2e', 'sessions.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; notes?: { at: string; message: string; data?: Record<string, unknown> }[] });
    expect(sessions.map((x) => x.sessionId).sort()).toEqual(ids);
    for (const x of sessions) {
      expect(x.notes?.map((n) => [n.message, n.data])).toEqual([['chat opened', { session: x.sessionId }]]);
      expect(x.notes![0]!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  }, 120_000);
});
