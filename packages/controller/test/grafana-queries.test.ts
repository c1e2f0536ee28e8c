import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { parse } from 'yaml';
import { createConnection, type Connection, type FieldPacket, type RowDataPacket } from 'mysql2/promise';
import { coreMetrics } from '@userprobe/shared';
import { migrate } from '../src/db/migrate.js';
import { ALERT_STATES } from '../src/monitor/alerts/alert-engine.js';
import { ALERT_KINDS, SEVERITIES } from '../src/monitor/alerts/alert-policy.js';
import { DEFAULT_MIGRATIONS_DIR, splitStatements } from '../src/db/sql-files.js';
import { ADMIN, createTestDb, type TestDb } from './db/test-db.js';
import { CHECKS, CUSTOM_VALUES, seedGrafanaData, SLOW_MS } from './db/grafana-fixture.js';
import { CHECKOUT_METRIC } from './db/custom-metric-batch.js';
import {
  ALERT_P95_THRESHOLDS_MS,
  allDashboards,
  FAILED_SHARE_THRESHOLD,
  GRAFANA_DIR,
  grafanaInterpolate,
  interpolateMacros,
  LOAD_TESTS,
  monitorRules,
  RAW_RANGE_MAX_S,
  type QueryExpectation,
  type VariableValue,
} from '@userprobe/dashboards';

/*
 * Every SQL query of every committed dashboard panel, template variable and
 * alert rule, expanded the way Grafana expands it, executed on MariaDB as the
 * read-only Grafana user in a '+00:00' session (the data source setting) with
 * ONLY_FULL_GROUP_BY on (MySQL 8's default), on data stored through the sink:
 * load tests, monitor checks with their rounds, alert states and history
 * (db/grafana-fixture.ts).
 */

const log = pino({ level: 'silent' });
const NOW = Date.now();
// `to` a little ahead: rows stamped with the ingestion time are written after NOW was taken.
const RANGE = { from: NOW - 6 * 3_600_000, to: NOW + 10 * 60_000 };
/** Longer than the overview reads raw samples for: its percentile panels read rollups. */
const LONG_RANGE = { from: NOW - (RAW_RANGE_MAX_S + 3_600) * 1000, to: NOW + 10 * 60_000 };
const INTERVALS_MS = [60_000, 300_000];

interface Target {
  refId: string;
  rawSql: string;
  format: 'time_series' | 'table';
}
interface PanelJson {
  title: string;
  repeat?: string;
  targets?: Target[];
}
interface VariableJson {
  name: string;
  type: string;
  query: unknown;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list?: VariableJson[] };
}
type Vars = Record<string, VariableValue & { options: string[] }>;
interface RuleJson {
  uid: string;
  title: string;
  noDataState: string;
  data: Array<{
    refId: string;
    datasourceUid: string;
    relativeTimeRange: { from: number; to: number };
    model: Target & { reducer?: string; conditions?: Array<{ evaluator: { type: string; params: number[] } }> };
  }>;
}

describe('Grafana queries run on MariaDB', () => {
  let db: TestDb;
  let ro: Connection;
  let dashboards: DashboardJson[];
  const roUser = `up_gq_${randomBytes(3).toString('hex')}`;
  const roPassword = randomBytes(9).toString('hex');

  beforeAll(async () => {
    db = await createTestDb();
    await migrate(db.url, { log });
    await seedGrafanaData(db, NOW, log);

    // The read-only user, created by the documented SQL file.
    await db.admin.query('SET @grafana_user = ?, @grafana_host = ?, @grafana_password = ?', [roUser, '127.0.0.1', roPassword]);
    for (const stmt of splitStatements(await readFile(join(DEFAULT_MIGRATIONS_DIR, 'grafana-readonly-user.sql'), 'utf8'))) await db.admin.query(stmt);
    ro = await createConnection({
      host: ADMIN.host,
      port: ADMIN.port,
      user: roUser,
      password: roPassword,
      database: db.name,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: true,
    });
    await ro.query("SET time_zone = '+00:00'");
    await ro.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ONLY_FULL_GROUP_BY')");

    const dir = join(GRAFANA_DIR, 'dashboards');
    dashboards = await Promise.all(
      (await readdir(dir)).filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as DashboardJson),
    );
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

  /**
   * Every option of each variable (query variables run their query as Grafana
   * would), selected as "All" (a custom all value inserted as it is), or the
   * first (newest) option of single-value ones; `pick` selects options instead.
   */
  async function resolveVariables(d: DashboardJson, range = RANGE, pick: Record<string, string[]> = {}): Promise<Vars> {
    const out: Vars = {};
    for (const v of d.templating.list ?? []) {
      let options: string[];
      if (typeof v.query !== 'string')
        throw new Error(`variable ${v.name}: expected its query as a string (custom values or SQL), got ${JSON.stringify(v.query)}`);
      if (v.type === 'custom') {
        options = v.query.split(',').map((x) => x.trim());
      } else if (v.type === 'query') {
        const { rows } = await run(grafanaInterpolate(v.query, { range, intervalMs: 60_000, vars: out }));
        options = rows.map((r) => String(r['__value'] ?? Object.values(r)[0]));
      } else {
        throw new Error(`variable ${v.name}: type ${v.type} is not covered by this test`);
      }
      expect(options.length, `variable ${d.uid}.$${v.name} has options`).toBeGreaterThan(0);
      const multi = v.multi === true;
      const includeAll = v.includeAll === true;
      const picked = pick[v.name];
      if (picked !== undefined) out[v.name] = { multi, includeAll, value: picked, options };
      else if (multi || includeAll) out[v.name] = { multi, includeAll, value: options, options, ...(v.allValue === undefined ? {} : { allValue: v.allValue }) };
      else out[v.name] = { multi, includeAll, value: options[0]!, options };
    }
    return out;
  }

  /** A repeated panel runs once per option, with that one value scoped (formatted like a selection). */
  function scopes(p: PanelJson, vars: Vars): Vars[] {
    if (p.repeat === undefined) return [vars];
    const v = vars[p.repeat]!;
    const values = v.allValue !== undefined ? v.options : typeof v.value === 'string' ? [v.value] : v.value;
    return values.map((o) => ({ ...vars, [p.repeat!]: { multi: v.multi, includeAll: v.includeAll, value: o, options: v.options } }));
  }

  const dashboard = (uid: string): DashboardJson => dashboards.find((x) => x.uid === uid)!;
  const target = (uid: string, title: string): Target => dashboard(uid).panels.find((p) => p.title === title)!.targets![0]!;
  const expand = (t: Target, vars: Record<string, VariableValue>, range = RANGE, intervalMs = 60_000): string =>
    grafanaInterpolate(t.rawSql, { range, intervalMs, vars });

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

  const expectations = (): Map<string, QueryExpectation> =>
    new Map(allDashboards().flatMap((d) => d.expectations.map((e) => [`${e.dashboardUid} / ${e.panelTitle} / ${e.refId}`, e] as const)));

  it('every panel target has an expectation, and every expectation a target', () => {
    const fromJson = dashboards.flatMap((d) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => `${d.uid} / ${p.title} / ${t.refId}`))).sort();
    const fromCode = allDashboards()
      .flatMap((d) => d.expectations.map((e) => `${e.dashboardUid} / ${e.panelTitle} / ${e.refId}`))
      .sort();
    expect(fromJson).toEqual(fromCode);
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['userprobe-agents', 'userprobe-monitor', 'userprobe-overview', 'userprobe-run']);
  });

  it('every dashboard panel query returns the columns its panel needs, with data', async () => {
    const byKey = expectations();
    let executed = 0;
    for (const d of dashboards) {
      const vars = await resolveVariables(d);
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          const e = byKey.get(`${d.uid} / ${p.title} / ${t.refId}`)!;
          expect(t.format).toBe(e.format);
          let rows = 0;
          for (const scope of scopes(p, vars)) {
            for (const intervalMs of INTERVALS_MS) {
              const where = `${d.uid} / ${p.title} (${intervalMs / 1000}s)`;
              const result = await run(expand(t, scope, RANGE, intervalMs));
              checkColumns(e, result, where);
              rows += result.rows.length;
              executed += 1;
            }
          }
          expect(rows, `${d.uid} / ${p.title} returns rows on the test data`).toBeGreaterThan(0);
        }
      }
    }
    expect(executed).toBeGreaterThan(60);
  });

  it('every panel query also runs with each check, target and location picked one at a time, and over a long range', async () => {
    const byKey = expectations();
    let executed = 0;
    for (const d of dashboards) {
      const all = await resolveVariables(d);
      const picks: Array<{ range: typeof RANGE; pick: Record<string, string[]> }> = [{ range: LONG_RANGE, pick: {} }];
      for (const name of ['check', 'target', 'location']) {
        for (const o of all[name]?.options ?? []) picks.push({ range: RANGE, pick: { [name]: [o] } }, { range: LONG_RANGE, pick: { [name]: [o] } });
      }
      for (const { range, pick } of picks) {
        const vars = await resolveVariables(d, range, pick);
        for (const p of d.panels) {
          for (const t of p.targets ?? []) {
            const scope = scopes(p, vars)[0]!;
            checkColumns(byKey.get(`${d.uid} / ${p.title} / ${t.refId}`)!, await run(expand(t, scope, range)), `${d.uid} / ${p.title} ${JSON.stringify(pick)}`);
            executed += 1;
          }
        }
      }
    }
    expect(executed).toBeGreaterThan(100);
  });

  it('the check and target variables tell monitors, load tests and tenants apart', async () => {
    const d = dashboard('userprobe-overview');
    const failed = target('userprobe-overview', 'Failed sessions per scenario');
    const scenariosFor = async (pick: Record<string, string[]>): Promise<string[]> => {
      const { rows } = await run(expand(failed, await resolveVariables(d, RANGE, pick)));
      return [...new Set(rows.map((r) => String(r['metric'])))].sort();
    };
    expect((await resolveVariables(d)).check!.options.sort()).toEqual([LOAD_TESTS, 'chat', 'cob'].sort());
    expect(await scenariosFor({ check: ['chat'] })).toEqual(['chat-load']);
    expect(await scenariosFor({ check: ['cob'] })).toEqual(['cobrowse']);
    expect(await scenariosFor({ target: ['tenant-b'] })).toEqual(['cobrowse']);
    expect(await scenariosFor({ check: [LOAD_TESTS] })).toEqual(['chat-load', 'cobrowse']);
    expect(await scenariosFor({ check: [LOAD_TESTS], target: ['tenant-b'] })).toEqual([]);
    // chat's rounds: 1 of 1 ok in fra1 and 2 of 3 failed in nyc3 per slot: 2 failed of 4 per slot.
    const { rows } = await run(expand(failed, await resolveVariables(d, RANGE, { check: ['chat'] }), RANGE, 300_000));
    for (const r of rows) expect(Number(r['failed'])).toBeCloseTo(0.5, 5);
    // The run picker lists load tests first by default; picked explicitly, only a check's rounds.
    const runDash = dashboard('userprobe-run');
    const runVar = runDash.templating.list!.find((v) => v.name === 'run')!;
    const runsOf = async (check: string[]): Promise<string[]> => (await resolveVariables(runDash, RANGE, { check }))['run']!.options;
    expect((await runsOf([LOAD_TESTS])).sort()).toEqual(['run-chat', 'run-cob']);
    expect((await runsOf(['cob'])).every((r) => r.startsWith('cob.fra1.'))).toBe(true);
    expect(runVar.query).toContain('LIMIT');
    expect(JSON.stringify(runDash.templating.list!.find((v) => v.name === 'check'))).toContain(LOAD_TESTS);
  });

  it('overview percentiles: raw samples up to a day (or when a check is picked), rollups beyond, the other half never read', async () => {
    const d = dashboard('userprobe-overview');
    const panel = d.panels.find((p) => p.repeat === 'metric')!;
    const t = panel.targets![0]!;
    // MariaDB's ANALYZE runs the query and reports the rows each table gave (r_rows, null: never read).
    const tablesRead = async (vars: Vars, range: typeof RANGE): Promise<string[]> => {
      const [plan] = await ro.query<RowDataPacket[]>(`ANALYZE ${expand(t, scopes(panel, vars)[0]!, range)}`);
      return plan
        .filter((r) => r['r_rows'] !== null && !String(r['table']).startsWith('<'))
        .map((r) => String(r['table']))
        .sort();
    };
    expect(await tablesRead(await resolveVariables(d), RANGE)).toEqual(['samples']);
    expect(await tablesRead(await resolveVariables(d, LONG_RANGE), LONG_RANGE)).toEqual(['rollups']);
    expect(await tablesRead(await resolveVariables(d, LONG_RANGE, { check: ['chat'] }), LONG_RANGE)).toEqual(['runs', 'samples']);
    expect(await tablesRead(await resolveVariables(d, RANGE, { target: ['demo'] }), RANGE)).toEqual(['runs', 'samples']);
    // Both halves see the slowest 5 minutes of api_create in fra1: the load test's 2.5 s.
    for (const range of [RANGE, LONG_RANGE]) {
      const { rows } = await run(expand(t, await resolveVariables(d, range, { location: ['fra1'], metric: ['api_create'] }), range, 300_000));
      expect(rows.length).toBeGreaterThan(0);
      expect(Math.max(...rows.map((r) => Number(r['p95'])))).toBe(SLOW_MS);
    }
  });

  it('the run view shows the failed sessions of the picked run with error and evidence path', async () => {
    const one = { run: { multi: false, includeAll: false, value: 'run-chat' } };
    const { rows } = await run(expand(target('userprobe-run', 'Failed sessions'), one));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ status: 'failed', failed_step: 'open-widget', error_code: 'E_STEP_TIMEOUT' });
    expect(String(rows[0]!['evidence'])).toMatch(/^sessions\/agent-(fra|nyc)-s4-2\/visitor\.png$/);
    const s = await run(expand(target('userprobe-run', 'Metrics (whole run)'), one));
    const metrics = s.rows.map((r) => String(r['metric']));
    for (const m of coreMetrics('chat-load')) expect(metrics).toContain(m);
    expect(s.rows.find((r) => r['metric'] === 'rtc_fps')).toMatchObject({ unit: 'fps' });
    expect(s.rows.find((r) => r['metric'] === 'api_create')).toMatchObject({ unit: 'ms' });
    expect(s.rows.find((r) => r['metric'] === 'crm_ws_closes')).toMatchObject({ unit: 'count' });
  });

  it("the run view lists the run's custom metrics with the unit and description of their declaration, counted and ranked", async () => {
    const runDash = dashboard('userprobe-run');
    // The default run (the newest: chat's last nyc3 round) is the one whose batch carried the custom metric.
    const vars = await resolveVariables(runDash);
    const { rows } = await run(expand(target('userprobe-run', 'Custom metrics'), vars));
    // Nearest rank of 4 sorted values: p50 the 2nd, p95 the 4th.
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { metric: CHECKOUT_METRIC.name, unit: 'ms', description: CHECKOUT_METRIC.description, count: CUSTOM_VALUES.length, p50: 1_000, p95: 3_000, max: 3_000 },
    ]);
    const whole = await run(expand(target('userprobe-run', 'Metrics (whole run)'), vars));
    expect(whole.rows.find((r) => r['metric'] === CHECKOUT_METRIC.name)).toMatchObject({ unit: 'ms', count: CUSTOM_VALUES.length });
    const builtIn = await run(expand(target('userprobe-run', 'Custom metrics'), { run: { multi: false, includeAll: false, value: 'run-chat' } }));
    expect(builtIn.rows).toEqual([]);
    // Rolled up like every other metric.
    const [rollups] = await db.admin.query<RowDataPacket[]>('SELECT SUM(count) AS n FROM rollups WHERE metric = ?', [CHECKOUT_METRIC.name]);
    expect(Number(rollups[0]!['n'])).toBe(CUSTOM_VALUES.length);
  });

  it('the Monitor dashboard: rounds per check × location with their worst status, latest round, alert states firing first, history', async () => {
    const d = dashboard('userprobe-monitor');
    const vars = await resolveVariables(d);
    expect(vars['check']!.options).toEqual(['chat', 'cob']);
    expect(vars['location']!.options).toEqual([...new Set([...CHECKS.chat.locations, ...CHECKS.cob.locations])].sort());
    const timeline = await run(expand(target('userprobe-monitor', 'Rounds per check × location'), vars, RANGE, 300_000));
    const byRow = new Map<string, number[]>();
    for (const r of timeline.rows) byRow.set(String(r['metric']), [...(byRow.get(String(r['metric'])) ?? []), Number(r['status'])]);
    const codes = (status: string): number => {
      const mapping = (
        d.panels.find((p) => p.title === 'Rounds per check × location') as unknown as {
          fieldConfig: { defaults: { mappings: Array<{ options: Record<string, { text: string }> }> } };
        }
      ).fieldConfig.defaults.mappings[0]!.options;
      return Number(Object.entries(mapping).find(([, o]) => o.text === status)![0]);
    };
    expect(new Set(byRow.get('chat / fra1'))).toEqual(new Set([codes('ok')]));
    expect(new Set(byRow.get('chat / nyc3'))).toEqual(new Set([codes('failed')]));
    expect(new Set(byRow.get('chat / sgp1'))).toEqual(new Set([codes('gap')]));
    expect(new Set(byRow.get('cob / fra1'))).toEqual(new Set(['ok', 'skipped', 'missed', 'not-run'].map(codes)));
    const latest = await run(expand(target('userprobe-monitor', 'Latest round per check × location'), vars));
    expect(latest.rows.map((r) => `${String(r['check_name'])} ${String(r['location'])} ${String(r['status'])}`)).toEqual([
      'chat fra1 ok',
      'chat nyc3 failed',
      'chat sgp1 gap',
      'cob fra1 not-run',
    ]);
    expect(latest.rows.find((r) => r['location'] === 'sgp1')!['last_ok_at']).toBeNull();
    const states = await run(expand(target('userprobe-monitor', 'Alert states (controller)'), vars));
    expect(states.rows.map((r) => String(r['state']))).toEqual(['firing', 'pending', 'resolved', 'ok']);
    const onlyFra = await run(expand(target('userprobe-monitor', 'Alert states (controller)'), await resolveVariables(d, RANGE, { location: ['fra1'] })));
    expect(onlyFra.rows.map((r) => String(r['location'])).sort()).toEqual(['*', 'fra1', 'fra1']);
    const history = await run(expand(target('userprobe-monitor', 'Alerts (history)'), vars));
    expect(history.rows.map((r) => String(r['rule']))).toEqual(['chat-dark', 'chat-failure']);
    const p95Panel = d.panels.find((p) => p.repeat === 'check')!;
    const p95 = await run(expand(p95Panel.targets![0]!, scopes(p95Panel, vars)[0]!));
    const series = new Set(p95.rows.map((r) => String(r['metric'])));
    expect(series).toContain('nyc3 api_create');
    expect([...series].every((x) => !x.startsWith('sgp1'))).toBe(true);
  });

  it("the Monitor dashboard and the rules speak the alert engine's words: its states, severities and kinds", async () => {
    type Override = { matcher: { options: string }; properties: Array<{ id: string; value: unknown }> };
    const panel = dashboard('userprobe-monitor').panels.find((p) => p.title === 'Alert states (controller)') as unknown as {
      fieldConfig: { overrides: Override[] };
    };
    const mapped = (field: string): string[] => {
      const o = panel.fieldConfig.overrides.find((x) => x.matcher.options === field)!;
      const mappings = o.properties.find((p) => p.id === 'mappings')!.value as Array<{ options: Record<string, unknown> }>;
      return Object.keys(mappings[0]!.options).sort();
    };
    expect(mapped('state')).toEqual([...ALERT_STATES].sort());
    expect(mapped('severity')).toEqual([...SEVERITIES].sort());
    const file = parse(await readFile(join(GRAFANA_DIR, 'provisioning/alerting/rules.yaml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ labels: { kind: string } }> }>;
    };
    for (const r of file.groups[0]!.rules) expect(ALERT_KINDS).toContain(r.labels.kind);
  });

  /** Each series' value after the rule's reduce (B), by its labels (the string columns). */
  function reduceSeries(rule: RuleJson, rows: RowDataPacket[], valueColumn: string): Map<string, number> {
    const reducer = rule.data.find((q) => q.refId === 'B')!.model.reducer!;
    const series = new Map<string, number[]>();
    for (const r of rows) {
      const key = Object.entries(r)
        .filter(([k, v]) => k !== 'time' && typeof v === 'string')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      if (r[valueColumn] !== null) series.set(key, [...(series.get(key) ?? []), Number(r[valueColumn])]);
    }
    const out = new Map<string, number>();
    for (const [k, vs] of series) {
      const sum = vs.reduce((a, b) => a + b, 0);
      out.set(k, reducer === 'sum' ? sum : reducer === 'mean' ? sum / vs.length : reducer === 'last' ? vs[vs.length - 1]! : NaN);
    }
    return out;
  }

  /** The series whose reduced value meets the rule's condition (C). */
  function firing(rule: RuleJson, reduced: Map<string, number>): string[] {
    const { type, params } = rule.data.find((q) => q.refId === 'C')!.model.conditions![0]!.evaluator;
    return [...reduced]
      .filter(([, v]) => (type === 'gt' ? v > params[0]! : type === 'lt' ? v < params[0]! : false))
      .map(([k]) => k)
      .sort();
  }

  it('alert rules: every query runs as a time series on monitors only, and the test data fires exactly the expected series', async () => {
    const file = parse(await readFile(join(GRAFANA_DIR, 'provisioning/alerting/rules.yaml'), 'utf8')) as { groups: Array<{ rules: RuleJson[] }> };
    const byTitle = new Map(monitorRules().expectations.map((e) => [e.panelTitle, e]));
    const rules = file.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.title).sort()).toEqual([...byTitle.keys()].sort());
    const results = new Map<string, RowDataPacket[]>();
    for (const rule of rules) {
      const q = rule.data.find((x) => x.datasourceUid === 'userprobe-mysql')!;
      const e = byTitle.get(rule.title)!;
      const range = { from: NOW - q.relativeTimeRange.from * 1000, to: NOW - q.relativeTimeRange.to * 1000 };
      // Alert queries get no dashboard variables; an unexpanded `$` would be a bug.
      const expanded = interpolateMacros(q.model.rawSql, range);
      expect(expanded).not.toMatch(/\$\w/);
      const result = await run(expanded);
      checkColumns(e, result, rule.title);
      // No row of a load test: every series is a check's.
      for (const r of result.rows) expect(typeof r['check_name'], `${rule.title}: rows are per check`).toBe('string');
      results.set(rule.uid, result.rows);
      if (rule.uid.startsWith('up-p95-')) expect(result.fields.map((f) => f.name)).toEqual(['time', 'check_name', 'scenario', 'location', 'p95']);
    }
    const rule = (uid: string): RuleJson => rules.find((r) => r.uid === uid)!;
    // Slow (2.5 s) in chat's nyc3 rounds; the load test's 2.5 s in fra1 does not count.
    expect(firing(rule('up-p95-api-create'), reduceSeries(rule('up-p95-api-create'), results.get('up-p95-api-create')!, 'p95'))).toEqual([
      'check_name=chat,scenario=chat-load,location=nyc3',
    ]);
    expect(ALERT_P95_THRESHOLDS_MS.api_create!).toBeLessThan(SLOW_MS);
    // chat's nyc3: 2 of 3 failed; fra1 all ok; cob has 1 session per round (judged from 3 on), the load tests none.
    const failedRule = rule('up-failed-sessions');
    const failedShares = reduceSeries(failedRule, results.get('up-failed-sessions')!, 'failed');
    expect(failedShares.get('check_name=chat,scenario=chat-load,location=nyc3')).toBeCloseTo(2 / 3, 5);
    expect(failedShares.get('check_name=chat,scenario=chat-load,location=fra1')).toBe(0);
    expect(firing(failedRule, failedShares)).toEqual(['check_name=chat,scenario=chat-load,location=nyc3']);
    expect(FAILED_SHARE_THRESHOLD).toBeLessThan(2 / 3);
    // Only sgp1's gaps measure nothing; failed rounds measured a failure.
    const nothing = rule('up-measures-nothing');
    expect(firing(nothing, reduceSeries(nothing, results.get('up-measures-nothing')!, 'measured_rounds'))).toEqual(['check_name=chat,location=sgp1']);
    // No round at all (the daemon stopped): no data, which this rule — and only this one — turns into an alert.
    const q = nothing.data.find((x) => x.datasourceUid === 'userprobe-mysql')!;
    const quiet = await run(interpolateMacros(q.model.rawSql, { from: NOW + 3_600_000, to: NOW + 3_600_000 + q.relativeTimeRange.from * 1000 }));
    expect(quiet.rows).toHaveLength(0);
    expect(rules.filter((r) => r.noDataState === 'Alerting').map((r) => r.uid)).toEqual(['up-measures-nothing']);
  });
});
