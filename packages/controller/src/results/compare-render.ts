import { textTable } from '../run/summary.js';
import { COMPARE_ALPHA, COMPARE_BOOTSTRAP_RESAMPLES, COMPARE_MIN_CHANGE, COMPARE_MIN_VALUES, type MetricComparison } from './run-compare.js';
import { xmlText } from './markup.js';

/*
 * `controller compare` output: a text table for the terminal and the same as
 * one self-contained HTML file (--html). Pure.
 */

export interface CompareHeader {
  readonly a: { readonly runId: string; readonly sessions: number };
  readonly b: { readonly runId: string; readonly sessions: number };
  readonly includeSaturated: boolean;
}

export const COMPARE_METHOD =
  `values of sessions that ended, saturated samples left out unless --include-saturated; "slower"/"faster" when a Mann-Whitney U test gives p < ${COMPARE_ALPHA}, ` +
  `the bootstrap 95 % interval of the p50 change (${COMPARE_BOOTSTRAP_RESAMPLES} resamples) excludes 0, and the p50 moved at least ${COMPARE_MIN_CHANGE.share * 100} % and ${Object.entries(
    COMPARE_MIN_CHANGE.byUnit,
  )
    .map(([u, v]) => `${v} ${u === 'ratio' ? '(ratio)' : u}`)
    .join(' / ')}; ` +
  `fewer than ${COMPARE_MIN_VALUES} values on a side: too few to judge`;

const num = (v: number | null, digits = 1) => (v === null ? '-' : v.toFixed(digits));
const signed = (v: number | null, digits = 1) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);
const share = (v: number | null) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(0)} %`);
const pValue = (p: number | null) => (p === null ? '-' : p < 0.0001 ? '<0.0001' : p.toFixed(4));
const interval = (i: readonly [number, number] | null) => (i === null ? '-' : `${signed(i[0])} … ${signed(i[1])}`);

const COLUMNS = ['metric', 'unit', 'n A/B', 'p50 A', 'p50 B', 'Δp50', 'Δp50 %', 'p95 A', 'p95 B', 'Δp95', 'p', '95 % interval of Δp50', 'verdict'];

function cells(c: MetricComparison): string[] {
  return [
    c.metric,
    c.unit,
    `${c.a.count}/${c.b.count}`,
    num(c.a.p50),
    num(c.b.p50),
    signed(c.changeP50),
    share(c.changeShare),
    num(c.a.p95),
    num(c.b.p95),
    signed(c.changeP95),
    pValue(c.p),
    interval(c.interval),
    c.verdict,
  ];
}

/** The terminal table with its header and method line. */
export function renderComparison(h: CompareHeader, rows: readonly MetricComparison[]): string {
  const changed = rows.filter((r) => r.verdict === 'slower' || r.verdict === 'faster');
  return [
    `A: run ${h.a.runId} (${h.a.sessions} session(s))   B: run ${h.b.runId} (${h.b.sessions} session(s))`,
    '',
    textTable(COLUMNS, rows.map(cells), 2),
    '',
    changed.length === 0
      ? 'no metric changed beyond noise'
      : `changed beyond noise: ${changed.map((r) => `${r.metric} ${r.verdict} by ${signed(r.changeP50, 0)} ${r.unit === 'ms' ? 'ms' : ''} (p50)`.replace(/ {2}/g, ' ')).join(', ')}`,
    `method: ${COMPARE_METHOD}`,
  ].join('\n');
}

/** The same as one self-contained HTML page (no script, no network). */
export function comparisonHtml(h: CompareHeader, rows: readonly MetricComparison[]): string {
  const tr = (c: MetricComparison) =>
    `<tr class="${c.verdict === 'slower' ? 'slower' : c.verdict === 'faster' ? 'faster' : ''}">${cells(c)
      .map((x, i) => `<td${i < 2 ? '' : ' class="n"'}>${xmlText(x)}</td>`)
      .join('')}</tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>userprobe: ${xmlText(h.a.runId)} vs ${xmlText(h.b.runId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.slower{background:#fde2e1}tr.faster{background:#e3f6e5}
p.method{color:#555;max-width:60em}
</style></head><body>
<h1>userprobe run comparison</h1>
<p>A: run <b>${xmlText(h.a.runId)}</b> (${h.a.sessions} session(s)) — B: run <b>${xmlText(h.b.runId)}</b> (${h.b.sessions} session(s))</p>
<table><thead><tr>${COLUMNS.map((c) => `<th>${xmlText(c)}</th>`).join('')}</tr></thead>
<tbody>
${rows.map(tr).join('\n')}
</tbody></table>
<p class="method">Method: ${xmlText(COMPARE_METHOD)}</p>
</body></html>
`;
}
