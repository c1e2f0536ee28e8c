import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GRAFANA_DIR, renderAll } from './generate.js';

describe('grafana/ is what the generator produces', () => {
  const files = renderAll();

  it.each([...files.keys()])('%s is committed and up to date (regenerate: see grafana/README.md)', async (rel) => {
    const onDisk = await readFile(join(GRAFANA_DIR, rel), 'utf8');
    expect(onDisk).toBe(files.get(rel));
  });

  it('every file parses, and the env variables Grafana interpolates survive', () => {
    for (const [rel, content] of files) {
      if (rel.endsWith('.json')) expect(() => { JSON.parse(content); }).not.toThrow();
      else expect(parse(content)).toMatchObject({ apiVersion: 1 });
    }
    expect(files.get('provisioning/alerting/contact-points.yaml')).toContain('url: ${USERPROBE_SLACK_WEBHOOK_URL}');
    expect(files.get('provisioning/datasources/userprobe-mysql.yaml')).toContain('password: ${USERPROBE_GRAFANA_MYSQL_PASSWORD}');
    const ds = parse(files.get('provisioning/datasources/userprobe-mysql.yaml')!) as { datasources: Array<{ jsonData: { timezone: string } }> };
    expect(ds.datasources[0]!.jsonData.timezone).toBe('+00:00');
  });

  it('alert rules: labels carry no $ (Grafana interpolates env variables in labels), every rule has for, no-data handling and a message naming metric, value, threshold and dashboard', () => {
    const rules = (parse(files.get('provisioning/alerting/rules.yaml')!) as { groups: Array<{ rules: Array<Record<string, unknown>> }> }).groups[0]!.rules;
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) {
      expect(JSON.stringify(r['labels'])).not.toContain('$');
      expect(r['for']).toMatch(/^\d+m$/);
      expect(['OK', 'Alerting', 'NoData']).toContain(r['noDataState']);
      const a = r['annotations'] as Record<string, string>;
      expect(a['description']).toMatch(/\/d\/userprobe-/);
      expect(a['description']).toMatch(/\$values\.B/);
      expect(a['description']).toMatch(/threshold/);
      if (String(r['uid']).startsWith('up-p95-')) {
        expect(a['description']).toContain(`Metric ${(r['labels'] as Record<string, string>)['metric']}`);
        expect(a['description']).toMatch(/threshold of \d+ ms/);
      }
    }
  });
});
