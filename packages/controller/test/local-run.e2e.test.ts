import { describe, it, expect, afterEach } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_PROFILES, coreMetrics } from '@userprobe/shared';
import { tempDir } from './fixtures.js';
import { startCli, type Proc } from './processes.js';
import { createTestDb } from './db/test-db.js';
import { fileURLToPath } from 'node:url';
import { startDemoTarget } from '@userprobe/demo-target';
import { GRAFANA_DIR, grafanaInterpolate } from '@userprobe/dashboards';

const CUSTOM_SCENARIO = fileURLToPath(new URL('../../../profiles/examples/custom-scenario.mjs', import.meta.url));
/** Injected on the demo's widget init call, which the custom scenario's own metric times. */
const INIT_MS = 150;
/** The note of a session that joined a console another one opened. */
const JOINED = 'joined an agent console another session opened (--chats-per-console)';
/** Injected on every realtime message of the demo: a floor for each delivery the shared console times. */
const REALTIME_MS = 300;

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
      summary: {
        sessions: Record<string, number>;
        agents: { name: string; sessionsOk: number }[];
        metrics: { metric: string; count: number; p50: number }[];
        ramp: { startLateness: { count: number; p99: number } | null } | null;
      };
    };
    expect(o.summary.sessions).toMatchObject({ expected: 6, recorded: 6, ok: 6, failed: 0, missing: 0 });
    // Every session had a planned start (the agreed start plus its ramp offset): the summary says how late each began.
    expect(o.summary.ramp?.startLateness?.count).toBe(6);
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

  /**
   * --chats-per-console: 6 chat-load sessions of 2 exchanges start at once on one local agent, 3 to
   * an agent console. Every session must end ok with every core metric and both exchanges'
   * deliveries, none shorter than the injected realtime delay; each console is opened (and its navigation timing recorded) by one session, the
   * others join it; no console serves more than 3 sessions, so at least 2 are opened.
   */
  it('6 sessions, 3 per console: all ok with every delivery timed; consoles opened once each and shared', async () => {
    const tmp = await tempDir('userprobe-shared-console-');
    cleanups.push(tmp.cleanup);
    const p: Proc = startCli([
      'run',
      '--scenario',
      'chat-load',
      '--total',
      '6',
      '--local-agents',
      '1',
      '--capacity',
      '6',
      '--ramp-up',
      '0s',
      '--no-adaptive-start',
      '--messages',
      '2',
      '--input',
      'insert',
      '--chats-per-console',
      '3',
      '--port',
      '0',
      '--out',
      tmp.dir,
      '--run-id',
      'shared-console',
      '--json',
      '--demo-latency',
      `realtime=${REALTIME_MS}`,
    ]);
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    expect(await p.exited, p.stderr().slice(-3000)).toBe(0);
    const o = JSON.parse(p.stdout()) as { summary: { sessions: Record<string, number> } };
    expect(o.summary.sessions).toMatchObject({ expected: 6, recorded: 6, ok: 6, failed: 0, missing: 0 });

    const dir = join(tmp.dir, 'shared-console');
    const samples = (await readFile(join(dir, 'samples.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; metric: string; value: number; detail?: string | null });
    const sessions = (await readFile(join(dir, 'sessions.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; status: string; notes?: { message: string }[] });
    expect(sessions).toHaveLength(6);

    const core = coreMetrics('chat-load') as string[];
    for (const s of sessions) {
      const mine = samples.filter((x) => x.sessionId === s.sessionId);
      expect(
        mine
          .filter((x) => core.includes(x.metric) && !(x.detail ?? '').startsWith('msg-'))
          .map((x) => x.metric)
          .sort(),
        s.sessionId,
      ).toEqual([...core].sort());
      // Both exchanges' deliveries, timed in the shared console and back: one each, and never shorter than the
      // delay the demo holds every realtime message (a stamp taken from another chat or an earlier render would be).
      for (const metric of ['msg_visitor_to_agent', 'msg_agent_to_visitor']) {
        for (const detail of [null, 'msg-2']) {
          const got = mine.filter((x) => x.metric === metric && (x.detail ?? null) === detail);
          expect(got, `${s.sessionId} ${metric} ${detail ?? 'msg-1'}`).toHaveLength(1);
          expect(got[0]!.value, `${s.sessionId} ${metric} ${detail ?? 'msg-1'}`).toBeGreaterThanOrEqual(REALTIME_MS);
        }
      }
    }

    // Each session either opened its console (and recorded its navigation timing) or joined one.
    const joined = sessions.filter((s) => (s.notes ?? []).some((n) => n.message === JOINED)).map((s) => s.sessionId);
    const opened = [...new Set(samples.filter((x) => x.metric === 'nav_load_agent').map((x) => x.sessionId))];
    expect(opened.filter((id) => joined.includes(id))).toEqual([]);
    expect(opened.length + joined.length).toBe(6);
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(joined.length).toBeGreaterThanOrEqual(1);
    // The console's web vitals come once per console, from the session that opened it.
    const vitals = [...new Set(samples.filter((x) => x.metric.endsWith('_agent') && x.metric.startsWith('web_')).map((x) => x.sessionId))];
    expect(vitals.sort()).toEqual([...opened].sort());
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

  it('a templated profile (--profile-var), a custom scenario module with metrics of its own and --duration: every round recorded, its metrics in samples.jsonl, the summary, MySQL and Grafana', async () => {
    const demo = await startDemoTarget({ knobs: { latency: { init: INIT_MS } } });
    cleanups.push(() => demo.close());
    const db = await createTestDb('userprobe_custom');
    cleanups.push(() => db.drop());
    const tmp = await tempDir('userprobe-custom-run-');
    cleanups.push(tmp.cleanup);
    const migrate = startCli(['migrate', '--db', db.url]);
    expect(await migrate.exited, migrate.stderr()).toBe(0);
    const p = startCli(
      [
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
        // A threshold on the module's own metric: a plain number in its declared unit (ms). Saturated
        // samples included: on a busy machine every sample may be flagged, and this checks the plumbing, not the machine.
        '--threshold',
        `widget_first_call:p50>=${INIT_MS},include-saturated`,
      ],
      { PROBE_DB_URL: db.url },
    );
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    expect(await p.exited, p.stderr().slice(-3000)).toBe(0);
    const o = JSON.parse(p.stdout()) as {
      summary: {
        sessions: { expected: number | null; recorded: number; ok: number };
        metrics: { metric: string; unit: string; custom?: string; count: number; errors: number; p50: number }[];
        thresholds: { threshold: string; ok: boolean; observed: number | null; unit?: string }[];
      };
    };
    expect(o.summary.sessions.expected).toBeNull(); // repeating: the count is open
    expect(o.summary.sessions.recorded).toBeGreaterThanOrEqual(2);
    expect(o.summary.sessions.ok).toBe(o.summary.sessions.recorded);
    const rounds = o.summary.sessions.recorded;
    const samples = (await readFile(join(tmp.dir, 'custom-e2e', 'samples.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { sessionId: string; metric: string; value: number; detail?: string });
    // The custom module's metrics, once per round: s0001, s0001.r1, …
    const ids = [...new Set(samples.map((s) => s.sessionId))].sort();
    expect(ids).toEqual(['s0001', ...Array.from({ length: ids.length - 1 }, (_, i) => `s0001.r${i + 1}`)].sort());
    expect(samples.map((s) => s.metric).sort()).toEqual(
      ids.flatMap(() => ['crm_connect_attempts', 'nav_dcl_visitor', 'nav_ttfb_visitor', 'page_load', 'widget_first_call']).sort(),
    );
    // Its own metric holds the injected delay of the call it times (accuracy is the collectors' experiment; here: it is that call).
    const firstCalls = samples.filter((s) => s.metric === 'widget_first_call');
    for (const s of firstCalls) {
      expect(s.value).toBeGreaterThanOrEqual(INIT_MS);
      expect(s.detail).toBe('init');
    }
    // The summary: its rows with the declared unit and kind.
    const row = (m: string) => o.summary.metrics.find((x) => x.metric === m);
    expect(row('widget_first_call')).toMatchObject({ unit: 'ms', custom: 'core', count: rounds, errors: 0 });
    expect(row('crm_connect_attempts')).toMatchObject({ unit: 'count', custom: 'extra', count: rounds });
    expect(o.summary.thresholds.map((x) => [x.threshold, x.ok])).toEqual([[`widget_first_call:p50>=${INIT_MS}`, true]]);
    expect(o.summary.thresholds[0]).toMatchObject({ unit: 'ms' });
    // The run folder keeps the declarations beside the samples.
    const declared = JSON.parse(await readFile(join(tmp.dir, 'custom-e2e', 'metrics.json'), 'utf8')) as { name: string; unit: string }[];
    expect(declared.map((d) => [d.name, d.unit])).toEqual([
      ['crm_connect_attempts', 'count'],
      ['widget_first_call', 'ms'],
    ]);
    // MySQL: the samples and the declarations.
    const [stored] = (await db.admin.query(
      "SELECT COUNT(*) AS n, MIN(value) AS low FROM samples WHERE run_id = 'custom-e2e' AND metric = 'widget_first_call'",
    )) as unknown as [[{ n: number; low: number }]];
    expect(Number(stored[0].n)).toBe(rounds);
    expect(Number(stored[0].low)).toBeGreaterThanOrEqual(INIT_MS);
    const [defs] = (await db.admin.query("SELECT name, unit, kind FROM custom_metrics WHERE run_id = 'custom-e2e' ORDER BY name")) as unknown as [
      { name: string; unit: string; kind: string }[],
    ];
    expect(defs.map((d) => [d.name, d.unit, d.kind])).toEqual([
      ['crm_connect_attempts', 'count', 'extra'],
      ['widget_first_call', 'ms', 'core'],
    ]);
    // Grafana: the run dashboard's "Custom metrics" panel, its SQL expanded as Grafana does, for this run.
    const run = JSON.parse(await readFile(join(GRAFANA_DIR, 'dashboards', 'run.json'), 'utf8')) as {
      panels: { title: string; targets?: { rawSql: string }[] }[];
    };
    const rawSql = run.panels.find((x) => x.title === 'Custom metrics')!.targets![0]!.rawSql;
    const range = { from: Date.now() - 3_600_000, to: Date.now() + 60_000 };
    const [rows] = (await db.admin.query(
      grafanaInterpolate(rawSql, { range, intervalMs: 60_000, vars: { run: { multi: false, includeAll: false, value: 'custom-e2e' } } }),
    )) as unknown as [{ metric: string; unit: string; count: number; p50: number }[]];
    expect(rows.map((r) => [r.metric, r.unit, Number(r.count)])).toEqual([
      ['crm_connect_attempts', 'count', rounds],
      ['widget_first_call', 'ms', rounds],
    ]);
    expect(Number(rows[1]!.p50)).toBeGreaterThanOrEqual(INIT_MS);
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
