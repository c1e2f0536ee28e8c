import { writeFile } from 'node:fs/promises';
import { ConfigError, describeError, mergeCustomMetrics } from '@userprobe/shared';
import { findRunFolder, readRunResults } from '../results/run-folder-reader.js';
import { compareRuns, type MetricComparison } from '../results/run-compare.js';
import { comparisonHtml, renderComparison, type CompareHeader } from '../results/compare-render.js';

export interface CompareOptions {
  readonly runA: string;
  readonly runB: string;
  /** Where run ids are looked up when RUN is not a folder path. */
  readonly out: string;
  readonly includeSaturated: boolean;
  readonly json: boolean;
  readonly html: string | null;
  readonly failOnSlower: boolean;
}

/**
 * `controller compare RUN_A RUN_B`: per metric, both runs' p50/p95, the
 * change, and whether it is beyond noise (results/run-compare.ts). Exit 0; 1
 * with --fail-on-slower when a metric got slower; 2 for a run that is not one.
 */
export async function compareCommand(o: CompareOptions, io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown } }): Promise<number> {
  const [fa, fb] = [await findRunFolder(o.runA, o.out), await findRunFolder(o.runB, o.out)];
  const load = async (f: { outDir: string; runId: string }) => {
    const { samples, sessions, metrics } = await readRunResults(f.outDir, f.runId);
    const ended = new Set(sessions.map((s) => `${s.agentId}\u0000${s.sessionId}`));
    return { samples: samples.filter((s) => ended.has(`${s.agentId}\u0000${s.sessionId}`)), sessions: ended.size, metrics };
  };
  const [a, b] = [await load(fa), await load(fb)];
  // A custom metric's unit from the runs' declarations (metrics.json); the newer run's wins.
  const declared = mergeCustomMetrics(a.metrics, b.metrics);
  const rows: MetricComparison[] = compareRuns(a.samples, b.samples, { includeSaturated: o.includeSaturated, declared });
  const header: CompareHeader = {
    a: { runId: fa.runId, sessions: a.sessions },
    b: { runId: fb.runId, sessions: b.sessions },
    includeSaturated: o.includeSaturated,
  };
  if (o.json) io.stdout.write(JSON.stringify({ a: header.a, b: header.b, includeSaturated: o.includeSaturated, metrics: rows }) + '\n');
  else io.stdout.write(renderComparison(header, rows) + '\n');
  if (o.html !== null) {
    try {
      await writeFile(o.html, comparisonHtml(header, rows));
      io.stderr.write(`compare: ${o.html}\n`);
    } catch (e) {
      throw new ConfigError(`--html ${o.html}: cannot write it (${describeError(e).message})`);
    }
  }
  return o.failOnSlower && rows.some((r) => r.verdict === 'slower') ? 1 : 0;
}
