import { METRICS, coreMetrics, isMetricName, percentileSorted, type ScenarioName } from '@userprobe/shared';
import { skippedLine, type RunSummary } from '../run/summary.js';
import { thresholdLine } from '../run/thresholds.js';
import { xmlText } from './markup.js';
import type { SampleLine, SessionLine } from './run-folder.js';

/*
 * A run as one self-contained HTML file (`results/<run>/report.html`,
 * `controller report RUN`): the summary table, thresholds, per core metric a
 * time series (every value as a point, saturated ones marked, p50/p95 per
 * interval) and a histogram, per-agent and per-location breakdowns, the
 * session timeline (failed sessions red, linked to their evidence) and the
 * run's parameters. The charting library (uPlot, MIT) and every value are
 * inlined: the file opens anywhere, with no network. Pure: the caller reads the
 * run folder and the library's files.
 */

export interface ReportInput {
  readonly summary: RunSummary;
  readonly params: Readonly<Record<string, unknown>>;
  readonly samples: readonly Pick<SampleLine, 'agentId' | 'sessionId' | 'metric' | 'value' | 'ts' | 'location' | 'saturated'>[];
  readonly sessions: readonly Pick<
    SessionLine,
    'agentId' | 'sessionId' | 'location' | 'status' | 'startedAt' | 'endedAt' | 'failedStep' | 'error' | 'artifacts'
  >[];
  /** uPlot's dist/uPlot.iife.min.js and dist/uPlot.min.css. */
  readonly chartJs: string;
  readonly chartCss: string;
  /** When the report was made (ISO), for its footer. */
  readonly generatedAt: string;
}

/** What the page's script draws: per core metric, the points and the per-interval percentiles. */
export interface ChartData {
  readonly metric: string;
  readonly unit: string;
  /** Seconds since the run's first sample; values; 1 when taken on a saturated agent. */
  readonly t: readonly number[];
  readonly v: readonly number[];
  readonly sat: readonly (0 | 1)[];
  /** Interval starts (s), and p50/p95 of each interval's values (null when none). */
  readonly bucketT: readonly number[];
  readonly p50: readonly (number | null)[];
  readonly p95: readonly (number | null)[];
  /** Histogram: bin lower edges and counts. */
  readonly binT: readonly number[];
  readonly binN: readonly number[];
}

/** An interval length giving 10–60 intervals over `spanS` seconds, from a readable ladder. Pure. */
export function bucketSeconds(spanS: number): number {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]) if (spanS / s <= 60) return s;
  return 3600;
}

/** Per core metric of the scenario that has values: the chart data. Pure. */
export function chartData(
  scenario: ScenarioName,
  samples: ReportInput['samples'],
  declared: readonly { readonly metric: string; readonly unit: string }[] = [],
): ChartData[] {
  const times = samples.map((s) => Date.parse(s.ts)).filter(Number.isFinite);
  if (times.length === 0) return [];
  const t0 = Math.min(...times);
  const span = (Math.max(...times) - t0) / 1000;
  const step = bucketSeconds(span);
  const out: ChartData[] = [];
  // The scenario's core metrics, then the core metrics a custom scenario module declared (their units from its declaration).
  for (const metric of [...coreMetrics(scenario), ...declared.map((d) => d.metric)]) {
    const mine = samples.filter((s) => s.metric === metric).sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    if (mine.length === 0) continue;
    const t = mine.map((s) => (Date.parse(s.ts) - t0) / 1000);
    const v = mine.map((s) => s.value);
    const buckets = Math.floor(span / step) + 1;
    const byBucket: number[][] = Array.from({ length: buckets }, () => []);
    for (let i = 0; i < t.length; i++) byBucket[Math.min(buckets - 1, Math.floor(t[i]! / step))]!.push(v[i]!);
    const pct = (xs: number[], p: number) =>
      xs.length
        ? percentileSorted(
            [...xs].sort((a, b) => a - b),
            p,
          )
        : null;
    const sorted = [...v].sort((a, b) => a - b);
    const lo = sorted[0]!;
    const hi = sorted.at(-1)!;
    const bins = Math.min(30, Math.max(5, Math.ceil(Math.sqrt(v.length))));
    const width = hi > lo ? (hi - lo) / bins : 1;
    const binN = new Array<number>(bins).fill(0);
    for (const x of v) binN[Math.min(bins - 1, Math.floor((x - lo) / width))]!++;
    out.push({
      metric,
      unit: isMetricName(metric) ? METRICS[metric].unit : (declared.find((d) => d.metric === metric)?.unit ?? ''),
      t,
      v,
      sat: mine.map((s) => (s.saturated ? 1 : 0)),
      bucketT: byBucket.map((_, i) => i * step),
      p50: byBucket.map((xs) => pct(xs, 50)),
      p95: byBucket.map((xs) => pct(xs, 95)),
      binT: binN.map((_, i) => lo + i * width),
      binN,
    });
  }
  return out;
}

const num = (v: number | null) => (v === null ? '-' : v.toFixed(1));
const esc = (s: unknown) => xmlText(String(s));

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[], numericFrom = 1): string {
  return (
    `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

/** The session timeline as inline SVG: one bar per session from start to end, failed red, aborted grey, linked to evidence. Pure. */
export function timelineSvg(sessions: ReportInput['sessions']): string {
  const rows = sessions
    .map((s) => ({ s, from: Date.parse(s.startedAt), to: Date.parse(s.endedAt) }))
    .filter((r) => Number.isFinite(r.from) && Number.isFinite(r.to))
    .sort((a, b) => a.from - b.from);
  if (rows.length === 0) return '<p>No session ended.</p>';
  const t0 = rows[0]!.from;
  const t1 = Math.max(...rows.map((r) => r.to));
  const W = 960;
  const label = 150;
  const rowH = 14;
  const scale = (W - label - 10) / Math.max(1, t1 - t0);
  const color = { ok: '#3b82f6', failed: '#dc2626', aborted: '#9ca3af' } as const;
  const bars = rows.map((r, i) => {
    const y = i * rowH + 4;
    const x = label + (r.from - t0) * scale;
    const w = Math.max(2, (r.to - r.from) * scale);
    const title = `${r.s.sessionId} on ${r.s.agentId} (${r.s.location}): ${r.s.status}, ${((r.to - r.from) / 1000).toFixed(1)} s${r.s.failedStep ? `, step ${r.s.failedStep}` : ''}${r.s.error ? `: ${r.s.error.message}` : ''}`;
    const bar = `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${color[r.s.status]}"><title>${esc(title)}</title></rect>`;
    const evidence = r.s.artifacts[0];
    const text = `<text x="4" y="${y + rowH - 5}" font-size="10">${esc(r.s.sessionId)}</text>`;
    return evidence === undefined ? text + bar : `<a href="${esc(evidence)}" class="${esc(r.s.status)}">${text}${bar}</a>`;
  });
  const height = rows.length * rowH + 24;
  const axis = `<text x="${label}" y="${height - 6}" font-size="10">0 s</text><text x="${W - 10}" y="${height - 6}" font-size="10" text-anchor="end">${((t1 - t0) / 1000).toFixed(1)} s</text>`;
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}">${bars.join('')}${axis}</svg>`;
}

/** Per location: p50/p95 of each core metric. Pure. */
function byLocation(scenario: ScenarioName, samples: ReportInput['samples']): string {
  const locations = [...new Set(samples.map((s) => s.location))].sort();
  const metrics = coreMetrics(scenario);
  const rows = locations.map((loc) => [
    loc,
    ...metrics.map((m) => {
      const xs = samples
        .filter((s) => s.location === loc && s.metric === m)
        .map((s) => s.value)
        .sort((a, b) => a - b);
      return xs.length ? `${percentileSorted(xs, 50).toFixed(0)} / ${percentileSorted(xs, 95).toFixed(0)}` : '-';
    }),
  ]);
  return table(['location', ...metrics.map((m) => `${m} p50 / p95`)], rows);
}

/** Inline JSON inside <script>: nothing in it can close the element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));

// The page's own script: one time-series and one histogram chart per core metric (uPlot).
const PAGE_SCRIPT = `
(() => {
  const charts = JSON.parse(document.getElementById('chart-data').textContent);
  const host = document.getElementById('charts');
  const width = Math.min(900, document.body.clientWidth - 40);
  for (const c of charts) {
    const box = document.createElement('section');
    box.className = 'metric';
    box.innerHTML = '<h3></h3><div class="ts"></div><div class="hist"></div>';
    box.querySelector('h3').textContent = c.metric + ' (' + c.unit + ')';
    host.appendChild(box);
    // Time series: every value as a point (saturated ones orange), p50 and p95 per interval as steps.
    const xs = [...new Set([...c.t, ...c.bucketT])].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const ok = xs.map(() => null), sat = xs.map(() => null), p50 = xs.map(() => null), p95 = xs.map(() => null);
    c.t.forEach((x, i) => { (c.sat[i] ? sat : ok)[at.get(x)] = c.v[i]; });
    c.bucketT.forEach((x, i) => { p50[at.get(x)] = c.p50[i]; p95[at.get(x)] = c.p95[i]; });
    const dots = { show: true, size: 5 };
    new uPlot({
      width, height: 220, title: c.metric + ' over the run (s since the first value)',
      scales: { x: { time: false } },
      series: [
        { label: 's' },
        { label: 'value', stroke: '#3b82f6', paths: () => null, points: dots },
        { label: 'value (saturated agent)', stroke: '#f59e0b', paths: () => null, points: dots },
        { label: 'p50 per interval', stroke: '#111827', spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: 'p95 per interval', stroke: '#dc2626', dash: [6, 4], spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }) },
      ],
    }, [xs, ok, sat, p50, p95], box.querySelector('.ts'));
    new uPlot({
      width, height: 160, title: c.metric + ' histogram (' + c.unit + ')',
      scales: { x: { time: false } },
      series: [{ label: c.unit }, { label: 'values', fill: '#93c5fd', stroke: '#3b82f6', paths: uPlot.paths.bars({ size: [0.9] }) }],
    }, [c.binT, c.binN], box.querySelector('.hist'));
  }
  document.body.dataset.charts = String(document.querySelectorAll('#charts canvas').length);
})();
`;

/** The report page. Pure. */
export function reportHtml(i: ReportInput): string {
  const s = i.summary;
  const ss = s.sessions;
  const charts = chartData(
    s.scenario,
    i.samples,
    s.metrics.filter((m) => m.custom === 'core'),
  );
  const metricRows = s.metrics.flatMap((m) => [
    [m.metric, m.unit, m.count, m.errors, num(m.p50), num(m.p95), num(m.p99), num(m.max), m.saturated],
    ...m.byDetail.map((d) => [`  ${m.metric}[${d.detail}]`, m.unit, d.count, '', num(d.p50), num(d.p95), num(d.p99), num(d.max), d.saturated]),
  ]);
  const thresholds = s.thresholds.length
    ? `<ul class="thresholds">${s.thresholds.map((r) => `<li class="${r.ok ? 'pass' : 'fail'}">${esc(thresholdLine(r))}</li>`).join('')}</ul>`
    : '<p>No thresholds were set (<code>--threshold</code>, or the profile&#39;s <code>thresholds:</code>).</p>';
  const stopped = s.stoppedBy ? `<p class="fail">Stopped early: ${esc(thresholdLine(s.stoppedBy))}</p>` : '';
  const saturated = s.metrics.reduce((n, m) => n + m.saturated, 0);
  const params = Object.entries(i.params)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>userprobe run ${esc(s.runId)}</title>
<style>${i.chartCss}
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em 2em;color:#1f2937}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #e5e7eb}
table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .6em;border-bottom:1px solid #e5e7eb;text-align:left;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.thresholds{list-style:none;padding:0}.pass{color:#15803d}.fail{color:#b91c1c;font-weight:600}
section.metric{margin:1em 0 2em}code{background:#f3f4f6;padding:0 .2em}
</style></head><body>
<h1>userprobe run ${esc(s.runId)}</h1>
<p>${esc(s.scenario)}${s.browser ? ` on ${esc(s.browser)}` : ''}: ${ss.recorded}${ss.expected === null ? '' : ` of ${ss.expected}`} sessions recorded —
${ss.ok} ok, ${ss.failed} failed, ${ss.aborted} aborted${ss.lost ? `, ${ss.lost} lost` : ''}${ss.notRun ? `, ${ss.notRun} not run` : ''}${ss.missing ? `, ${ss.missing} missing` : ''}.
${saturated ? `${saturated} sample(s) were taken while an agent's CPU was saturated (orange in the charts; thresholds leave them out).` : ''}
${s.skipped.length ? esc(skippedLine(s.skipped)) + '.' : ''}</p>
${stopped}
<h2>Thresholds</h2>${thresholds}
<h2>Summary</h2>${table(['metric', 'unit', 'count', 'errors', 'p50', 'p95', 'p99', 'max', 'saturated'], metricRows, 2)}
<h2>Metrics over the run</h2><div id="charts"></div>
<h2>Agents</h2>${table(
    ['agent', 'location', 'ok', 'failed', 'aborted', 'samples'],
    s.agents.map((a) => [a.name, a.location, a.sessionsOk, a.sessionsFailed, a.sessionsAborted, a.samples]),
    2,
  )}
<h2>Locations</h2>${byLocation(s.scenario, i.samples)}
<h2>Sessions</h2><p>Each bar is a session from its start to its end (blue ok, red failed, grey aborted); a failed session links to its evidence (screenshots, HAR, console) under this run's folder.</p>
${timelineSvg(i.sessions)}
${
  s.failedSteps.length
    ? `<h3>Failed steps</h3>${table(
        ['failed step', 'sessions'],
        s.failedSteps.map((f) => [f.step, f.count]),
      )}`
    : ''
}
<h2>Parameters</h2>${table(['parameter', 'value'], params, 2)}
<p><small>Made by userprobe ${esc(i.generatedAt)}; charts by uPlot (MIT), inlined.</small></p>
<script type="application/json" id="chart-data">${scriptJson(charts)}</script>
<script>${i.chartJs}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
