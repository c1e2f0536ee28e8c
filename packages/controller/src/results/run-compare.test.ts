import { describe, expect, it } from 'vitest';
import { METRIC_UNITS } from '@userprobe/shared';
import { bootstrapMedianChange, compareRuns, compareValues, mannWhitneyP, minChange, normalCdf, type CompareSample } from './run-compare.js';
import { comparisonHtml, renderComparison } from './compare-render.js';

const range = (from: number, n: number, step = 1) => Array.from({ length: n }, (_, i) => from + i * step);
/** A deterministic spread around `center` (no Math.random in tests). */
const around = (center: number, n: number, spread: number) => range(0, n).map((i) => center + spread * Math.sin(i * 2.399));

describe('statistics', () => {
  it('normalCdf matches the table', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3.090232)).toBeCloseTo(0.001, 6);
  });

  it.each([
    // Fully separated 8 vs 8: U = 0, z = (32 − 0.5) / √(64·17/12) = 3.308, p = 2·(1 − Φ(3.308)) = 0.000939 (the formula, computed by hand).
    ['separated 8/8', range(1, 8), range(9, 8), 0.000939],
    ['identical sets', range(1, 8), range(1, 8), 1],
    ['interleaved', range(1, 8, 2), range(2, 8, 2), 0.7132],
  ])('Mann-Whitney p: %s', (_name, a, b, p) => {
    expect(mannWhitneyP(a, b)).toBeCloseTo(p, 4);
    expect(mannWhitneyP(b, a)).toBeCloseTo(p, 4); // two-sided: symmetric
  });

  it('ties are averaged and corrected: all values equal is no evidence', () => {
    expect(mannWhitneyP([5, 5, 5, 5], [5, 5, 5, 5])).toBe(1);
  });

  it('the bootstrap interval is seeded (same runs, same interval) and holds the true change', () => {
    const a = around(100, 20, 10);
    const b = around(300, 20, 10);
    const i1 = bootstrapMedianChange(a, b);
    expect(bootstrapMedianChange(a, b)).toEqual(i1);
    expect(i1[0]).toBeLessThanOrEqual(200);
    expect(i1[1]).toBeGreaterThanOrEqual(190);
    expect(i1[0]).toBeGreaterThan(170);
  });
});

describe('compareValues: a verdict only when the test, the interval and the size agree', () => {
  it.each([
    ['+200 ms on 10 values each', around(50, 10, 5), around(250, 10, 5), 'slower'],
    ['−200 ms', around(250, 10, 5), around(50, 10, 5), 'faster'],
    ['the same distribution', around(50, 10, 5), around(50.5, 10, 5), 'no change beyond noise'],
    // Separated but tiny: p is small, the change is 2 ms (< 5 ms): not a change anyone acts on.
    ['separated by 2 ms', around(50, 10, 0.5), around(52, 10, 0.5), 'no change beyond noise'],
    // 6 % on a 1000 ms metric but overlapping noise of ±200 ms: not significant.
    ['+60 ms inside ±200 ms of noise', around(1000, 10, 200), around(1060, 10, 200), 'no change beyond noise'],
    ['7 values on one side', around(50, 7, 5), around(250, 10, 5), 'too few values'],
  ])('%s → %s', (_name, a, b, verdict) => {
    expect(compareValues('api_create', 'ms', a, b).verdict).toBe(verdict);
  });
});

describe('compareValues: the smallest change that matters, by unit', () => {
  const zeros = range(0, 10).map(() => 0);
  it.each([
    // A layout-shift score 0 in every session of A and ~0.002 in B (seen in a compare test: the agent console's CLS moved by 0.0017 when api_create was made 200 ms slower) — fully separated, p small, 5 % of 0 is 0: only the unit's minimum keeps it from being a change.
    ['CLS 0 → 0.002', 'ratio', zeros, around(0.002, 10, 0.0005), 'no change beyond noise'],
    ['CLS 0 → 0.05', 'ratio', zeros, around(0.05, 10, 0.005), 'slower'],
    ['0 → 0.4 reconnects', 'count', zeros, around(0.4, 10, 0.05), 'no change beyond noise'],
    ['0 → 3 reconnects', 'count', zeros, around(3, 10, 0.2), 'slower'],
    ['30 → 29.5 fps', 'fps', around(30, 10, 0.1), around(29.5, 10, 0.1), 'no change beyond noise'],
    ['+512 bytes', 'bytes', around(10_000, 10, 10), around(10_512, 10, 10), 'no change beyond noise'],
    ['a unit it does not know: the 5 % share alone', 'widgets', zeros, around(0.002, 10, 0.0005), 'slower'],
  ])('%s (%s) → %s', (_name, unit, a, b, verdict) => {
    expect(compareValues('m', unit, a, b).verdict).toBe(verdict);
  });

  it('every unit of the catalog has its minimum', () => {
    for (const unit of METRIC_UNITS) expect(minChange(unit), unit).toBeGreaterThan(0);
  });
});

describe('compareRuns', () => {
  const run = (create: number, saturatedCreate = false): CompareSample[] =>
    range(1, 10).flatMap((i) => [
      { sessionId: `s${i}`, metric: 'page_load', value: 40 + (i % 3) },
      { sessionId: `s${i}`, metric: 'api_create', value: create + (i % 4), saturated: saturatedCreate },
      { sessionId: `s${i}`, metric: 'api_request', value: 7 + (i % 2), detail: 'init' },
    ]);

  it('every metric, in catalog order, with one row per detail; saturated samples left out unless asked', () => {
    const rows = compareRuns(run(10), run(210));
    expect(rows.map((r) => [r.metric, r.verdict])).toEqual([
      ['page_load', 'no change beyond noise'],
      ['api_create', 'slower'],
      ['api_request', 'no change beyond noise'],
      ['api_request[init]', 'no change beyond noise'],
    ]);
    expect(rows[1]).toMatchObject({ a: { count: 10, p50: 11 }, b: { count: 10, p50: 211 }, changeP50: 200 });
    const saturated = compareRuns(run(10), run(210, true));
    expect(saturated.find((r) => r.metric === 'api_create')).toMatchObject({ b: { count: 0 }, verdict: 'too few values' });
    expect(compareRuns(run(10), run(210, true), { includeSaturated: true }).find((r) => r.metric === 'api_create')!.verdict).toBe('slower');
  });

  it('renders a table that says the method, and the same as escaped HTML', () => {
    const rows = compareRuns(run(10), run(210));
    const header = { a: { runId: 'before', sessions: 10 }, b: { runId: 'after<x>', sessions: 10 }, includeSaturated: false };
    const text = renderComparison(header, rows);
    expect(text).toMatch(/^A: run before \(10 session\(s\)\) {3}B: run after<x> \(10 session\(s\)\)/);
    expect(text).toMatch(/api_create +ms +10\/10 +11\.0 +211\.0 +\+200\.0 +\+1818 % .* slower/);
    expect(text).toContain('changed beyond noise: api_create slower by +200 ms (p50)');
    expect(text).toContain('method: values of sessions that ended, saturated samples left out unless --include-saturated');
    const html = comparisonHtml(header, rows);
    expect(html).toContain('<tr class="slower"><td>api_create</td>');
    expect(html).toContain('after&lt;x&gt;');
    expect(html).not.toMatch(/<script|https?:\/\//);
  });
});
