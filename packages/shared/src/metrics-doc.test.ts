import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRICS, METRIC_NAMES, type MetricDef } from './metrics.js';

/*
 * docs/metrics.md carries the catalog as a table between two markers. This
 * test renders the table from METRICS and fails when the file differs; run it
 * with UPDATE_DOCS=1 to rewrite the table (the prose around it is kept).
 */

const DOC = fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url));
const START = '<!-- catalog:start (generated from packages/shared/src/metrics.ts; UPDATE_DOCS=1 npx vitest run packages/shared/src/metrics-doc.test.ts) -->';
const END = '<!-- catalog:end -->';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function renderCatalog(): string {
  const rows = METRIC_NAMES.map((n) => {
    const d: MetricDef = METRICS[n];
    return `| \`${d.name}\` | ${d.unit} | ${d.kind} | ${d.scenarios.join(', ')} | ${cell(d.description)} | ${cell(d.definition)} |`;
  });
  return [START, '', '| metric | unit | kind | scenarios | what | definition (start → end) |', '|---|---|---|---|---|---|', ...rows, '', END].join('\n');
}

describe('docs/metrics.md', () => {
  it('holds the catalog table, every metric with its unit and definition', () => {
    const text = readFileSync(DOC, 'utf8');
    const from = text.indexOf('<!-- catalog:start');
    const to = text.indexOf(END);
    expect(from, 'docs/metrics.md has the catalog:start marker').toBeGreaterThanOrEqual(0);
    expect(to, 'docs/metrics.md has the catalog:end marker').toBeGreaterThan(from);
    const current = text.slice(from, to + END.length);
    const expected = renderCatalog();
    if (current !== expected && process.env.UPDATE_DOCS === '1') {
      writeFileSync(DOC, text.slice(0, from) + expected + text.slice(to + END.length));
      return;
    }
    expect(current, 'docs/metrics.md is out of date: run UPDATE_DOCS=1 npx vitest run packages/shared/src/metrics-doc.test.ts').toBe(expected);
    for (const n of METRIC_NAMES) expect(current).toContain(`| \`${n}\` | ${METRICS[n].unit} |`);
  });
});
