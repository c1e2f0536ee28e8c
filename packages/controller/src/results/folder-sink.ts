import { chmod, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  ProbeError,
  ERROR_CODES,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  appendDurable,
  batchKey,
  describeError,
  mkdirPrivate,
  removeTempFiles,
  syncDir,
  truncateDurable,
  writeJsonDurable,
  mergeCustomMetrics,
  ownDeclarations,
  type CustomMetricDef,
  type MetricBatch,
  type BrowserKind,
  type RoundReport,
  type ScenarioName,
} from '@userprobe/shared';
import type { AgentInfo, RunInfo, RunStatus, Sink } from './sink.js';
import { MONITOR_ROUNDS_FILE, RESULT_FILES, runDir, type BatchKeyLine, type SampleLine, type SessionLine } from './run-folder.js';
import { RunQueue } from './run-queue.js';
import { readCustomMetrics } from './run-folder-reader.js';

interface RunState {
  readonly dir: string;
  readonly samples: FileHandle;
  readonly sessions: FileHandle;
  readonly batches: FileHandle;
  samplesEnd: number;
  sessionsEnd: number;
  readonly keys: Set<string>;
  meta: { scenario: ScenarioName; browser: BrowserKind } | null;
  /** metrics.json as last read or written (null: not read yet). */
  metrics: CustomMetricDef[] | null;
}

export interface ResultsSinkOptions {
  readonly outDir: string;
  readonly log: Logger;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The write queue of monitor-rounds.jsonl (no run id can be this: ids never hold a NUL). */
const ROUNDS_QUEUE = '\u0000rounds';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The always-on file sink: `<out>/<runId>/samples.jsonl`, `sessions.jsonl`,
 * `batches.jsonl` (ingested (agent, seq) keys) and `run.json`.
 *
 * Durability: a batch's sample and session lines are appended and fsynced, then
 * its key line (which records the byte length of both files after the batch) is
 * appended and fsynced; only then does writeBatch resolve. On opening a run
 * folder, both files are truncated back to the lengths the last key recorded,
 * so a crash between the two steps cannot leave a half-counted batch: the
 * agent still holds it (unacked) and the replay is stored exactly once.
 * run.json and summary.json are replaced whole (writeJsonDurable). Writes to
 * one run are serialized (RunQueue); different runs proceed independently.
 *
 * Group commit: the batches of a run that arrive while a write of that run is
 * under way wait for it, then go to disk together (up to GROUP_MAX_BATCHES):
 * their sample and session lines appended and both files fsynced side by side,
 * then their key lines appended and fsynced once. Each still resolves only once
 * its key is on disk; a group that fails rejects every batch in it (none is
 * acked; the agents resend, and the reopened folder cuts what was not keyed).
 * With many agents sending at once this costs two fsyncs per group instead of
 * three per batch, so no batch waits out the agents' ack timeout in the queue.
 *
 * Privacy: everything under the results folder is the operator's alone —
 * folders 0700, files 0600 (PRIVATE_DIR_MODE, PRIVATE_FILE_MODE); a run folder
 * and its append-only files left wider by an older version are narrowed when
 * opened.
 */
/** Most batches written by one group commit (a bound on the memory and the time one commit takes). */
export const GROUP_MAX_BATCHES = 256;

interface PendingBatch {
  readonly batch: MetricBatch;
  readonly agent: AgentInfo;
  readonly resolve: (r: 'stored' | 'duplicate') => void;
  readonly reject: (e: unknown) => void;
}

export class ResultsSink implements Sink {
  readonly name = 'results';
  readonly #runs = new Map<string, Promise<RunState>>();
  readonly #queue = new RunQueue();
  /** Per run, the batches waiting for the next group commit. */
  readonly #pending = new Map<string, PendingBatch[]>();
  readonly #log: Logger;
  readonly #opts: ResultsSinkOptions;

  constructor(opts: ResultsSinkOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'results-sink' });
  }

  get outDir(): string {
    return this.#opts.outDir;
  }

  async open(): Promise<void> {
    await mkdirPrivate(this.#opts.outDir);
  }

  async runStarted(run: RunInfo, agents: readonly AgentInfo[]): Promise<void> {
    await this.#serial(run.runId, async () => {
      const st = await this.#state(run.runId);
      st.meta = { scenario: run.scenario, browser: run.browser };
      await writeJsonDurable(join(st.dir, RESULT_FILES.run), {
        ...run,
        startedAt: iso(run.startedAt),
        status: 'running' satisfies RunStatus,
        endedAt: null,
        agents,
      });
    });
  }

  writeBatch(batch: MetricBatch, agent: AgentInfo): Promise<'stored' | 'duplicate'> {
    return new Promise((resolve, reject) => {
      const waiting = this.#pending.get(batch.runId);
      if (waiting) {
        waiting.push({ batch, agent, resolve, reject });
        return;
      }
      this.#pending.set(batch.runId, [{ batch, agent, resolve, reject }]);
      this.#scheduleCommit(batch.runId);
    });
  }

  /** Queue a group commit of the run's waiting batches behind whatever the run's queue holds. */
  #scheduleCommit(runId: string): void {
    void this.#serial(runId, async () => {
      const waiting = this.#pending.get(runId) ?? [];
      const group = waiting.splice(0, GROUP_MAX_BATCHES);
      // Batches that arrive from now on wait for the next commit (queued now when some are left over).
      this.#pending.delete(runId);
      if (waiting.length > 0) {
        this.#pending.set(runId, waiting);
        this.#scheduleCommit(runId);
      }
      await this.#commit(runId, group);
    });
  }

  /** Write a group of one run's batches: lines of all, fsynced; keys of all, fsynced; then each resolves. Never rejects. */
  async #commit(runId: string, group: readonly PendingBatch[]): Promise<void> {
    let st: RunState;
    try {
      st = await this.#state(runId);
    } catch (e) {
      const err =
        e instanceof ProbeError
          ? e
          : new ProbeError(ERROR_CODES.SINK_UNAVAILABLE, `results folder for run ${runId} could not be opened: ${describeError(e).message}`, { cause: e });
      for (const p of group) p.reject(err);
      return;
    }
    const fresh: PendingBatch[] = [];
    const inGroup = new Set<string>();
    for (const p of group) {
      const key = batchKey(p.batch);
      if (st.keys.has(key) || inGroup.has(key)) p.resolve('duplicate');
      else {
        inGroup.add(key);
        fresh.push(p);
      }
    }
    if (fresh.length === 0) return;
    try {
      const declared = fresh.flatMap((p) => p.batch.metrics ?? []);
      if (declared.length) await this.#declare(st, declared);
      await this.#append(st, fresh);
    } catch (e) {
      // Our idea of the file lengths may be wrong now: reopen (and truncate to the last key) next time.
      this.#forget(runId, st);
      const keys = fresh.map((p) => batchKey(p.batch));
      const err = new ProbeError(
        ERROR_CODES.SINK_UNAVAILABLE,
        `could not write batch${keys.length > 1 ? `es ${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ` (and ${keys.length - 3} more)` : ''}` : ` ${keys[0]!}`} to ${st.dir}: ${describeError(e).message}`,
        { cause: e },
      );
      for (const p of fresh) p.reject(err);
      return;
    }
    for (const p of fresh) {
      st.keys.add(batchKey(p.batch));
      p.resolve('stored');
    }
  }

  async runEnded(runId: string, status: RunStatus, endedAt: number): Promise<void> {
    await this.#serial(runId, async () => {
      const st = await this.#state(runId);
      const path = join(st.dir, RESULT_FILES.run);
      const prev = await readText(path);
      const base = prev ? (JSON.parse(prev) as Record<string, unknown>) : { runId };
      await writeJsonDurable(path, { ...base, status, endedAt: iso(endedAt) });
    });
  }

  /** A monitor round: one line in `<out>/monitor-rounds.jsonl`, on disk (fsynced) on return. */
  async roundRecorded(round: RoundReport): Promise<void> {
    await this.#queue.run(ROUNDS_QUEUE, async () => {
      const fh = await open(join(this.#opts.outDir, MONITOR_ROUNDS_FILE), 'a', PRIVATE_FILE_MODE);
      try {
        await appendDurable(fh, JSON.stringify(round) + '\n');
      } finally {
        await fh.close();
      }
    });
  }

  /** Write `summary.json` (or another JSON document) into the run's folder, durably. */
  async writeRunJson(runId: string, file: string, value: unknown): Promise<string> {
    const dir = runDir(this.#opts.outDir, runId);
    const path = join(dir, file);
    return this.#serial(runId, async () => {
      await mkdirPrivate(dir);
      await writeJsonDurable(path, value);
      return path;
    });
  }

  /** Has (runId, agentId, seq) been stored? Loads the run's keys if needed. */
  async has(runId: string, agentId: string, seq: number): Promise<boolean> {
    return this.#serial(runId, async () => (await this.#state(runId)).keys.has(batchKey({ runId, agentId, seq })));
  }

  async close(): Promise<void> {
    await this.#queue.idle();
    const states = await Promise.allSettled([...this.#runs.values()]);
    this.#runs.clear();
    for (const s of states) if (s.status === 'fulfilled') await closeState(s.value);
  }

  #serial<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.#queue.run(runId, fn);
  }

  #forget(runId: string, st: RunState): void {
    this.#runs.delete(runId);
    void closeState(st).catch(() => undefined);
  }

  #state(runId: string): Promise<RunState> {
    let p = this.#runs.get(runId);
    if (!p) {
      p = this.#load(runId);
      this.#runs.set(runId, p);
      p.catch(() => {
        if (this.#runs.get(runId) === p) this.#runs.delete(runId);
      });
    }
    return p;
  }

  /** Open a run folder, recover its keys, and cut off any lines written after the last key. */
  async #load(runId: string): Promise<RunState> {
    const dir = runDir(this.#opts.outDir, runId);
    await mkdirPrivate(dir);
    await chmod(dir, PRIVATE_DIR_MODE);
    const leftovers = await removeTempFiles(dir);
    if (leftovers.length) this.#log.warn({ runId, removed: leftovers }, 'removed temporary files an interrupted write left in the run folder');
    const batchesPath = join(dir, RESULT_FILES.batches);
    const samplesPath = join(dir, RESULT_FILES.samples);
    const sessionsPath = join(dir, RESULT_FILES.sessions);

    const keys = new Set<string>();
    let last: BatchKeyLine | null = null;
    let goodBytes = 0;
    const text = await readText(batchesPath);
    if (text) {
      let pos = 0;
      for (;;) {
        const nl = text.indexOf('\n', pos);
        if (nl < 0) break; // a partial last line: the key was never completed
        const line = text.slice(pos, nl);
        try {
          const k = JSON.parse(line) as BatchKeyLine;
          keys.add(batchKey({ runId, agentId: k.agentId, seq: k.seq }));
          last = k;
        } catch {
          break;
        }
        pos = nl + 1;
        goodBytes = Buffer.byteLength(text.slice(0, pos));
      }
    }
    const samplesEnd = last?.samplesEnd ?? 0;
    const sessionsEnd = last?.sessionsEnd ?? 0;
    const cuts: [string, number][] = [
      [batchesPath, goodBytes],
      [samplesPath, samplesEnd],
      [sessionsPath, sessionsEnd],
    ];
    for (const [path, len] of cuts) {
      const size = await sizeOf(path);
      if (size > len) {
        this.#log.warn(
          { runId, file: path, size, keep: len },
          'cutting lines written after the last stored batch key (unacknowledged; the agent will resend them)',
        );
        await truncateDurable(path, len);
      }
    }
    let meta: RunState['meta'] = null;
    const runJson = await readText(join(dir, RESULT_FILES.run));
    if (runJson) {
      try {
        const r = JSON.parse(runJson) as { scenario?: ScenarioName; browser?: BrowserKind };
        if (r.scenario && r.browser) meta = { scenario: r.scenario, browser: r.browser };
      } catch {
        /* an unreadable run.json only loses scenario/browser on replayed samples */
      }
    }
    const samples = await open(samplesPath, 'a', PRIVATE_FILE_MODE);
    const sessions = await open(sessionsPath, 'a', PRIVATE_FILE_MODE);
    const batches = await open(batchesPath, 'a', PRIVATE_FILE_MODE);
    await Promise.all([samples.chmod(PRIVATE_FILE_MODE), sessions.chmod(PRIVATE_FILE_MODE), batches.chmod(PRIVATE_FILE_MODE)]);
    await syncDir(dir);
    if (keys.size) this.#log.info({ runId, batches: keys.size }, 'recovered stored batch keys');
    return { dir, samples, sessions, batches, samplesEnd, sessionsEnd, keys, meta, metrics: null };
  }

  /**
   * The custom metrics a batch declares, merged into the run's metrics.json before its samples are
   * appended (a crash between the two leaves a declaration without samples; the replay merges it again).
   */
  async #declare(st: RunState, defs: readonly CustomMetricDef[]): Promise<void> {
    st.metrics ??= await readCustomMetrics(st.dir);
    const merged = mergeCustomMetrics(st.metrics, ownDeclarations(defs));
    if (JSON.stringify(merged) === JSON.stringify(st.metrics)) return;
    await writeJsonDurable(join(st.dir, RESULT_FILES.metrics), merged);
    st.metrics = merged;
  }

  /** Append a group's lines (both files fsynced side by side), then its key lines, each recording both files' lengths after its batch. */
  async #append(st: RunState, group: readonly PendingBatch[]): Promise<void> {
    const samples: string[] = [];
    const sessions: string[] = [];
    const keys: string[] = [];
    let samplesEnd = st.samplesEnd;
    let sessionsEnd = st.sessionsEnd;
    for (const { batch, agent } of group) {
      const sampleText = sampleLines(st.meta, batch, agent);
      const sessionText = sessionLines(batch, agent);
      samples.push(sampleText);
      sessions.push(sessionText);
      samplesEnd += Buffer.byteLength(sampleText);
      sessionsEnd += Buffer.byteLength(sessionText);
      const key: BatchKeyLine = {
        agentId: batch.agentId,
        seq: batch.seq,
        samples: batch.samples.length,
        sessions: batch.sessions.length,
        samplesEnd,
        sessionsEnd,
        storedAt: new Date().toISOString(),
      };
      keys.push(JSON.stringify(key) + '\n');
    }
    await Promise.all([appendDurable(st.samples, samples.join('')), appendDurable(st.sessions, sessions.join(''))]);
    st.samplesEnd = samplesEnd;
    st.sessionsEnd = sessionsEnd;
    await appendDurable(st.batches, keys.join(''));
  }
}

function sampleLines(meta: RunState['meta'], batch: MetricBatch, agent: AgentInfo): string {
  const bySession = new Map(batch.sessions.map((s) => [s.sessionId, s]));
  return batch.samples
    .map((s) => {
      const rec = bySession.get(s.sessionId);
      const line: SampleLine = {
        runId: batch.runId,
        agentId: batch.agentId,
        sessionId: s.sessionId,
        scenario: meta?.scenario ?? rec?.scenario ?? null,
        metric: s.metric,
        value: s.value,
        ts: iso(s.ts),
        location: agent.location,
        browser: meta?.browser ?? rec?.browser ?? null,
        saturated: s.saturated ?? false,
        ...(s.detail === undefined ? {} : { detail: s.detail }),
      };
      return JSON.stringify(line) + '\n';
    })
    .join('');
}

function sessionLines(batch: MetricBatch, agent: AgentInfo): string {
  return batch.sessions
    .map((s) => {
      const line: SessionLine = {
        runId: batch.runId,
        agentId: batch.agentId,
        location: agent.location,
        sessionId: s.sessionId,
        scenario: s.scenario,
        browser: s.browser,
        status: s.status,
        startedAt: iso(s.startedAt),
        endedAt: iso(s.endedAt),
        failedStep: s.failedStep,
        error: s.error,
        artifacts: s.artifacts,
        ...(s.notes ? { notes: s.notes.map((n) => ({ ...n, at: iso(n.at) })) } : {}),
      };
      return JSON.stringify(line) + '\n';
    })
    .join('');
}

async function closeState(st: RunState): Promise<void> {
  await Promise.allSettled([st.samples.close(), st.sessions.close(), st.batches.close()]);
}
