import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { ConfigError, type CustomMetricDef } from '@userprobe/shared';
import { createInterface } from 'node:readline';
import { RESULT_FILES, runDir, type SampleLine, type SessionLine } from './run-folder.js';

/*
 * Reads a run's durable results back (for the summary). Streams line by line;
 * a missing file reads as empty.
 */

async function* lines(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  try {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of rl) if (line.trim()) yield line;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  } finally {
    stream.destroy();
  }
}

export async function readJsonl<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  for await (const line of lines(path)) out.push(JSON.parse(line) as T);
  return out;
}

export async function readRunResults(outDir: string, runId: string): Promise<{ samples: SampleLine[]; sessions: SessionLine[]; metrics: CustomMetricDef[] }> {
  const dir = runDir(outDir, runId);
  const [samples, sessions, metrics] = await Promise.all([
    readJsonl<SampleLine>(join(dir, RESULT_FILES.samples)),
    readJsonl<SessionLine>(join(dir, RESULT_FILES.sessions)),
    readCustomMetrics(dir),
  ]);
  return { samples, sessions, metrics };
}

/** The run folder's metrics.json: the custom metrics its batches declared ([] when none did). */
export async function readCustomMetrics(dir: string): Promise<CustomMetricDef[]> {
  try {
    return JSON.parse(await readFile(join(dir, RESULT_FILES.metrics), 'utf8')) as CustomMetricDef[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A run argument → its results folder: a folder holding samples.jsonl, or a run id under --out. */
export async function findRunFolder(arg: string, out: string): Promise<{ outDir: string; runId: string }> {
  for (const dir of [resolvePath(arg), resolvePath(out, arg)]) {
    try {
      if ((await stat(join(dir, RESULT_FILES.samples))).isFile()) return { outDir: dirname(dir), runId: basename(dir) };
    } catch {
      /* not this one */
    }
  }
  throw new ConfigError(
    `"${arg}" is not a run's results folder (no ${RESULT_FILES.samples} in ${resolvePath(arg)} nor in ${resolvePath(out, arg)}); pass a run folder or a run id under --out`,
  );
}
