import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parse } from 'yaml';
import { createConnection, type Connection, type FieldPacket, type RowDataPacket } from 'mysql2/promise';
import { coreMetrics } from '@userprobe/shared';
import { migrate } from '../src/db/migrate.js';
import { createMysqlSink } from '../src/db/mysql-sink.js';
import { runRetention } from '../src/db/retention.js';
import { DEFAULT_MIGRATIONS_DIR, splitStatements } from '../src/db/sql-files.js';
import { ADMIN, createTestDb, type TestDb } from './db/test-db.js';
import { testAgent, testBatch, testRun } from './db/batches.js';
import { ALERT_P95_THRESHOLDS_MS, allDashboards, delayRules, GRAFANA_DIR, grafanaInterpolate, interpolateMacros, type QueryExpectation, type VariableValue } from '@userprobe/dashboards';

/*
 * Every SQL query of every committed dashboard panel, template variable and
 * alert rule, expanded the way Grafana expands it, executed on MariaDB as the
 * read-only Grafana user in a '+00:00' session (the data source setting) with
 * ONLY_FULL_GROUP_BY on (MySQL 8's default), on data a run stored through the sink.
 */

const log = pino({ level: 'silent' });
const NOW = Date.now();
// `to` a little ahead: rows stamped with the ingestion time are written after NOW was taken.
const RANGE = { from: NOW - 6 * 3_600_000, to: NOW + 10 * 60_000 };
const INTERVALS_MS = [60_000, 300_000];

interface Target { refId: string; rawSql: string; format: 'time_series' | 'table' }
interface PanelJson { title: string; repeat?: string; targets?: Target[] }
interface VariableJson { name: string; type: string; query: unknown; multi?: boolean; includeAll?: boolean }
interface DashboardJson { uid: string; title: string; panels: PanelJson[]; templating: { list?: VariableJson[] } }

describe('Grafana queries run on MariaDB', () => {
  let db: TestDb;
  let ro: Connection;
  let dashboards: DashboardJson[];
  const roUser = `up_gq_${randomBytes(3).toString('hex')}`;
  const roPassword = randomBytes(9).toString('hex');

  beforeAll(async () => {
    db = await createTestDb();
    await migrate(db.url, { log });
    // A chat-load run from two locations (with failures) and a cobrowse run, stored by the sink.
    const sink = createMysqlSink({ url: db.url, spoolDir: await mkdtemp(join(tmpdir(), 'up-gq-')), log });
    await sink.open();
    const fra = testAgent('agent-fra', 'fra1');
    const nyc = testAgent('agent-nyc', 'nyc3');
    const t0 = NOW - 80 * 60_000;
    await sink.runStarted(testRun('run-chat', 'chat-load', t0), [fra, nyc]);
    for (let seq = 1; seq <= 4; seq++) {
      for (const a of [fra, nyc]) {
        await sink.writeBatch(testBatch({ runId: 'run-chat', agentId: a.agentId, seq, sessions: 3, failed: seq === 4 ? 1 : 0, t0: t0 + seq * 9 * 60_000, value: (s, m) => 100 + 10 * s + m }), a);
      }
    }
    await sink.runEnded('run-chat', 'failed', NOW - 5 * 60_000);
    // recent, slow samples (2.5 s) over the alert window, for the alert check below
    for (const [i, ago] of [12, 7, 2].entries()) {
      await sink.writeBatch(testBatch({ runId: 'run-chat', agentId: 'agent-fra', seq: 5 + i, sessions: 3, t0: NOW - ago * 60_000, value: () => 2_500 }), fra);
    }
    await sink.runStarted(testRun('run-cob', 'cobrowse', t0), [nyc]);
    await sink.writeBatch(testBatch({ runId: 'run-cob', agentId: 'agent-nyc', seq: 1, sessions: 2, scenario: 'cobrowse', failed: 1, t0: NOW - 20 * 60_000 }), nyc);
    await sink.runEnded('run-cob', 'failed', NOW - 1_000);
    await sink.close();
    await runRetention(db.url, { log, rollupOnly: true });

    // The read-only user, created by the documented SQL file.
    await db.admin.query('SET @grafana_user = ?, @grafana_host = ?, @grafana_password = ?', [roUser, '127.0.0.1', roPassword]);
    for (const stmt of splitStatements(await readFile(join(DEFAULT_MIGRATIONS_DIR, 'grafana-readonly-user.sql'), 'utf8'))) await db.admin.query(stmt);
    ro = await createConnection({ host: ADMIN.host, port: ADMIN.port, user: roUser, password: roPassword, database: db.name, supportBigNumbers: true, bigNumberStrings: false, decimalNumbers: true });
    await ro.query("SET time_zone = '+00:00'");
    await ro.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ONLY_FULL_GROUP_BY')");

    const dir = join(GRAFANA_DIR, 'dashboards');
    dashboards = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as DashboardJson));
  });

  afterAll(async () => {
    await ro?.end();
    await db.admin.query(`DROP USER IF EXISTS '${roUser}'@'127.0.0.1'`);
    await db.drop();
  });

  async function run(sqlText: string): Promise<{ rows: RowDataPacket[]; fields: FieldPacket[] }> {
    try {
      const [rows, fields] = await ro.query<RowDataPacket[]>(sqlText);
      return { rows, fields };
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- expanded SQL ---\n${sqlText}`);
    }
  }

  /** Every option of each variable (query variables run their query as Grafana would), selected as "All". */
  async function resolveVariables(d: DashboardJson): Promise<Record<string, VariableValue & { options: string[] }>> {
    const out: Record<string, VariableValue & { options: string[] }> = {};
    for (const v of d.templating.list ?? []) {
      let options: string[];
      if (typeof v.query !== 'string') throw new Error(`variable ${v.name}: expected its query as a string (custom values or SQL), got ${JSON.stringify(v.query)}`);
      if (v.type === 'custom') {
        options = v.query.split(',').map((s) => s.trim());
      } else if (v.type === 'query') {
        const { rows } = await run(grafanaInterpolate(v.query, { range: RANGE, intervalMs: 60_000, vars: out }));
        options = rows.map((r) => String(r['__value'] ?? Object.values(r)[0]));
      } else {
        throw new Error(`variable ${v.name}: type ${v.type} is not covered by this test`);
      }
      expect(options.length, `variable ${d.uid}.$${v.name} has options`).toBeGreaterThan(0);
      const multi = v.multi === true;
      const includeAll = v.includeAll === true;
      // All for multi-value variables; the first (newest) option otherwise.
      out[v.name] = { multi, includeAll, value: multi || includeAll ? options : options[0]!, options };
    }
    return out;
  }

  function checkColumns(e: QueryExpectation, result: { rows: RowDataPacket[]; fields: FieldPacket[] }, where: string): void {
    const names = result.fields.map((f) => f.name);
    if (e.format === 'table') {
      expect(names, where).toEqual(e.columns);
      return;
    }
    expect(names, `${where}: a time series needs a "time" column`).toContain('time');
    for (const c of e.columns) expect(names, where).toContain(c);
    let prev = -Infinity;
    for (const r of result.rows) {
      const t = r['time'] instanceof Date ? r['time'].getTime() / 1000 : Number(r['time']);
      expect(Number.isFinite(t), `${where}: time is numeric`).toBe(true);
      expect(t, `${where}: sorted by time`).toBeGreaterThanOrEqual(prev);
      prev = t;
      for (const c of e.columns) expect(r[c] === null || typeof r[c] === 'number', `${where}: ${c} is numeric (${typeof r[c]})`).toBe(true);
    }
  }

  it('every panel target has an expectation, and every expectation a target', () => {
    const fromJson = dashboards.flatMap((d) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => `${d.uid} / ${p.title} / ${t.refId}`))).sort();
    const fromCode = allDashboards().flatMap((d) => d.expectations.map((e) => `${e.dashboardUid} / ${e.panelTitle} / ${e.refId}`)).sort();
    expect(fromJson).toEqual(fromCode);
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['userprobe-agents', 'userprobe-overview', 'userprobe-run']);
  });

  it('every dashboard panel query returns the columns its panel needs, with data', async () => {
    const expectations = new Map(allDashboards().flatMap((d) => d.expectations.map((e) => [`${e.dashboardUid} / ${e.panelTitle} / ${e.refId}`, e] as const)));
    let executed = 0;
    for (const d of dashboards) {
      const vars = await resolveVariables(d);
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          const e = expectations.get(`${d.uid} / ${p.title} / ${t.refId}`)!;
          expect(t.format).toBe(e.format);
          // A repeated panel runs once per option, with that one value scoped.
          const scopes = p.repeat === undefined ? [vars] : vars[p.repeat]!.options.map((o) => ({ ...vars, [p.repeat!]: { ...vars[p.repeat!]!, value: o } }));
          let rows = 0;
          for (const scope of scopes) {
            for (const intervalMs of INTERVALS_MS) {
              const where = `${d.uid} / ${p.title} (${intervalMs / 1000}s)`;
              const result = await run(grafanaInterpolate(t.rawSql, { range: RANGE, intervalMs, vars: scope }));
              checkColumns(e, result, where);
              rows += result.rows.length;
              executed += 1;
            }
          }
          expect(rows, `${d.uid} / ${p.title} returns rows on the test data`).toBeGreaterThan(0);
        }
      }
    }
    expect(executed).toBeGreaterThan(30);
  });

  it('the run view shows the failed sessions of the picked run with error and evidence path', async () => {
    const d = dashboards.find((x) => x.uid === 'userprobe-run')!;
    const target = d.panels.find((p) => p.title === 'Failed sessions')!.targets![0]!;
    const { rows } = await run(grafanaInterpolate(target.rawSql, { range: RANGE, intervalMs: 60_000, vars: { run: { multi: false, includeAll: false, value: 'run-chat' } } }));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ status: 'failed', failed_step: 'open-widget', error_code: 'E_STEP_TIMEOUT' });
    expect(String(rows[0]!['evidence'])).toMatch(/^sessions\/agent-(fra|nyc)-s4-2\/visitor\.png$/);
    const stats = d.panels.find((p) => p.title === 'Metrics (whole run)')!.targets![0]!;
    const s = await run(grafanaInterpolate(stats.rawSql, { range: RANGE, intervalMs: 60_000, vars: { run: { multi: false, includeAll: false, value: 'run-chat' } } }));
    expect(s.rows.map((r): unknown => r['metric']).sort()).toEqual([...coreMetrics('chat-load')].sort());
  });

  it('every alert rule query runs as a time series with scenario/location labels; a slow api_create breaches its threshold', async () => {
    const file = parse(await readFile(join(GRAFANA_DIR, 'provisioning/alerting/rules.yaml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ title: string; data: Array<{ refId: string; datasourceUid: string; relativeTimeRange: { from: number; to: number }; model: Target }> }> }>;
    };
    const expectations = new Map(delayRules().expectations.map((e) => [e.panelTitle, e]));
    const rules = file.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.title).sort()).toEqual([...expectations.keys()].sort());
    for (const rule of rules) {
      for (const q of rule.data.filter((x) => x.datasourceUid === 'userprobe-mysql')) {
        const e = expectations.get(rule.title)!;
        const range = { from: NOW - q.relativeTimeRange.from * 1000, to: NOW - q.relativeTimeRange.to * 1000 };
        // Alert queries get no dashboard variables; an unexpanded `$` would be a bug.
        const expanded = interpolateMacros(q.model.rawSql, range);
        expect(expanded).not.toMatch(/\$\w/);
        const result = await run(expanded);
        checkColumns(e, result, rule.title);
        if (rule.title.startsWith('p95 ')) expect(result.fields.map((f) => f.name)).toEqual(['time', 'scenario', 'location', 'p95']);
        if (rule.title.includes('api_create')) {
          const fra = result.rows.filter((r) => r['location'] === 'fra1').map((r) => Number(r['p95']));
          expect(fra.length).toBeGreaterThan(0);
          const mean = fra.reduce((a, b) => a + b, 0) / fra.length;
          expect(mean).toBeGreaterThan(ALERT_P95_THRESHOLDS_MS.api_create!);
        }
      }
    }
  });
});
