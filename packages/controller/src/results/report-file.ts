import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, PRIVATE_FILE_MODE, describeError } from '@userprobe/shared';
import type { RunRows } from '../run/run-closer.js';
import type { RunSummary } from '../run/summary.js';
import { reportHtml } from './html-report.js';
import { RESULT_FILES, runDir } from './run-folder.js';
import { readRunResults } from './run-folder-reader.js';

const UPLOT_DIST = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/**
 * Write `<out>/<run>/report.html` from what the run folder holds (summary.json,
 * run.json's parameters, samples and sessions), readable by the owner only
 * like the rest of it; a run that has just closed hands over its summary and
 * rows instead of having them read again. Returns its path. A run without
 * summary.json (still open, or never closed: `controller reconcile` first) is a ConfigError.
 */
export async function writeRunReport(outDir: string, runId: string, closed?: { readonly summary: RunSummary; readonly rows: RunRows }): Promise<string> {
  const dir = runDir(outDir, runId);
  const summary = closed?.summary ?? (await readSummary(dir, runId));
  let params: Record<string, unknown> = {};
  try {
    params = (JSON.parse(await readFile(join(dir, RESULT_FILES.run), 'utf8')) as { params?: Record<string, unknown> }).params ?? {};
  } catch {
    /* no run.json: the report says no parameters */
  }
  const { samples, sessions } = closed?.rows ?? (await readRunResults(outDir, runId));
  const html = reportHtml({
    // An older summary.json may lack the fields added since.
    summary: { ...summary, thresholds: summary.thresholds ?? [], stoppedBy: summary.stoppedBy ?? null, skipped: summary.skipped ?? [] },
    params,
    samples,
    sessions,
    chartJs: await readFile(join(UPLOT_DIST, 'uPlot.iife.min.js'), 'utf8'),
    chartCss: await readFile(join(UPLOT_DIST, 'uPlot.min.css'), 'utf8'),
    generatedAt: new Date().toISOString(),
  });
  const path = join(dir, RESULT_FILES.report);
  await writeFile(path, html, { mode: PRIVATE_FILE_MODE });
  return path;
}

async function readSummary(dir: string, runId: string): Promise<RunSummary> {
  try {
    return JSON.parse(await readFile(join(dir, RESULT_FILES.summary), 'utf8')) as RunSummary;
  } catch (e) {
    throw new ConfigError(
      `${dir} has no readable ${RESULT_FILES.summary} (${(e as NodeJS.ErrnoException).code ?? String(e)}): a report needs a closed run; \`controller reconcile ${runId}\` closes one`,
    );
  }
}

/**
 * After a run closed (`controller run`, a submitted load test, `controller reconcile`): write its
 * report.html from the rows it closed with and say where on the progress lines; a report that
 * cannot be written is said there too, and changes nothing about the run's outcome.
 */
export async function reportClosedRun(
  outDir: string,
  runId: string,
  closed: { readonly summary: RunSummary; readonly rows: RunRows },
  progress: { note(line: string): void },
): Promise<void> {
  try {
    progress.note(`report: ${await writeRunReport(outDir, runId, closed)}`);
  } catch (e) {
    progress.note(`report: could not write it: ${describeError(e).message}`);
  }
}
