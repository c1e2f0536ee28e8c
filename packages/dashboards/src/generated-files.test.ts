import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MONITOR_LINK } from './alerting/alert-rules.js';
import { GRAFANA_DIR, OPT_IN_POLICIES, renderAll } from './generate.js';

interface PanelJson {
  type: string;
  title: string;
  fieldConfig?: { defaults?: { unit?: string }; overrides?: unknown[] };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map(async (e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)])));
  return nested.flat();
}

describe('grafana/ is what the generator produces', () => {
  const files = renderAll();
  const json = (rel: string): { panels: PanelJson[] } => JSON.parse(files.get(rel)!) as { panels: PanelJson[] };

  it.each([...files.keys()])('%s is committed and up to date (regenerate: see grafana/README.md)', async (rel) => {
    const onDisk = await readFile(join(GRAFANA_DIR, rel), 'utf8');
    expect(onDisk).toBe(files.get(rel));
  });

  it('grafana/ holds nothing else but its README (a file the generator stopped writing would still be provisioned)', async () => {
    const onDisk = (await filesUnder(GRAFANA_DIR)).map((f) => relative(GRAFANA_DIR, f)).sort();
    expect(onDisk).toEqual([...files.keys(), 'README.md'].sort());
  });

  it('every file parses, and the env variables Grafana interpolates survive', () => {
    for (const [rel, content] of files) {
      if (rel.endsWith('.json'))
        expect(() => {
          JSON.parse(content);
        }).not.toThrow();
      else expect(parse(content)).toMatchObject({ apiVersion: 1 });
    }
    expect(files.get('provisioning/alerting/contact-points.yaml')).toContain('url: ${USERPROBE_SLACK_WEBHOOK_URL}');
    expect(files.get('provisioning/datasources/userprobe-mysql.yaml')).toContain('password: ${USERPROBE_GRAFANA_MYSQL_PASSWORD}');
    const ds = parse(files.get('provisioning/datasources/userprobe-mysql.yaml')!) as { datasources: Array<{ jsonData: { timezone: string } }> };
    expect(ds.datasources[0]!.jsonData.timezone).toBe('+00:00');
  });

  it('no notification policy tree is provisioned: it is an opt-in file outside provisioning/', () => {
    for (const [rel, content] of files) if (rel.startsWith('provisioning/')) expect(parse(content), rel).not.toHaveProperty('policies');
    expect(OPT_IN_POLICIES.startsWith('provisioning/')).toBe(false);
    expect(parse(files.get(OPT_IN_POLICIES)!)).toMatchObject({ policies: [{ orgId: 1, receiver: 'userprobe-slack' }] });
  });

  it('alert rules: labels carry no $ (Grafana interpolates env variables in labels), every rule has for, no-data handling and a message naming value, threshold and an absolute dashboard link', () => {
    const file = parse(files.get('provisioning/alerting/rules.yaml')!) as {
      groups: Array<{ rules: Array<Record<string, unknown>> }>;
      deleteRules: Array<{ uid: string }>;
    };
    const rules = file.groups[0]!.rules;
    expect(rules.length).toBeGreaterThan(10);
    expect(file.deleteRules.map((r) => r.uid)).toEqual(['userprobe-silent']);
    expect(MONITOR_LINK).toMatch(/^\{\{ externalURL \}\}d\/userprobe-monitor/);
    for (const r of rules) {
      expect(JSON.stringify(r['labels'])).not.toContain('$');
      expect(r['labels']).toMatchObject({ source: 'userprobe', kind: expect.stringMatching(/^(latency|failure|no-data)$/) as unknown });
      expect(r['for']).toMatch(/^\d+m$/);
      expect(r['noDataState']).toBe(r['uid'] === 'up-measures-nothing' ? 'Alerting' : 'OK');
      const a = r['annotations'] as Record<string, string>;
      expect(a['description']).toContain(`Dashboard: ${MONITOR_LINK}`);
      expect(a['dashboard_url']).toBe(MONITOR_LINK);
      expect(a['description']).toMatch(/\$values\.B/);
      expect(a['description']).toMatch(/threshold/);
      // A Go template's braces balance, and no template reads a label the rule's query does not return.
      for (const text of Object.values(a)) {
        expect(text.split('{{').length, text).toBe(text.split('}}').length);
        for (const m of text.matchAll(/\$labels\.(\w+)/g)) expect(['check_name', 'scenario', 'location'], text).toContain(m[1]);
      }
      if (String(r['uid']).startsWith('up-p95-')) {
        expect(a['description']).toContain(`Metric ${(r['labels'] as Record<string, string>)['metric']}`);
        expect(a['description']).toMatch(/threshold of \d+ ms/);
      }
    }
  });

  it('every panel has a unit: shares are percentunit, counts short, delays ms; no ms panel shows a metric of another unit', () => {
    const units = new Map<string, string | undefined>();
    for (const rel of [...files.keys()].filter((f) => f.startsWith('dashboards/'))) {
      for (const p of json(rel).panels) units.set(`${rel} / ${p.title}`, p.fieldConfig?.defaults?.unit);
    }
    for (const [where, unit] of units) expect(unit, where).toBeDefined();
    expect(units.get('dashboards/overview.json / Failed sessions per scenario')).toBe('percentunit');
    expect(units.get('dashboards/agents.json / Samples taken while saturated, per agent')).toBe('percentunit');
    expect(units.get('dashboards/monitor.json / Failed sessions per check × location')).toBe('percentunit');
    expect(units.get('dashboards/overview.json / Sessions per location / agent')).toBe('short');
    expect(units.get('dashboards/overview.json / Counts — p50 / p95 per scenario and metric')).toBe('short');
    expect(units.get('dashboards/overview.json / Frames per second — p50 / p95 per scenario and metric')).toBe('fps');
    expect(units.get('dashboards/overview.json / Layout shift (score) — p50 / p95 per scenario and metric')).toBe('none');
    expect(units.get('dashboards/overview.json / $metric — p50 / p95 per scenario')).toBe('ms');
    const overview = JSON.parse(files.get('dashboards/overview.json')!) as { templating: { list: Array<{ name: string; query: string }> } };
    const delayMetrics = overview.templating.list.find((v) => v.name === 'metric')!.query.split(',');
    for (const m of ['rtc_fps', 'web_cls_visitor', 'crm_ws_closes', 'rtc_packets_lost']) expect(delayMetrics).not.toContain(m);
    expect(delayMetrics).toContain('api_create');
    const overTime = json('dashboards/run.json').panels.find((p) => p.title === 'Metrics over the run (mean per interval)')!;
    expect(JSON.stringify(overTime.fieldConfig!.overrides)).toContain('rtc_fps');
  });
});
