import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ERROR_CODES, IdSchema, MetricBatchSchema, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ProbeError, describeError, type MetricBatch } from '@userprobe/shared';
import { TMP_SUFFIX, syncDir, writeFileAtomic } from './atomic-write.js';
import { SPOOL_RUN_RETENTION_MS } from '../config/limits.js';
import { isAlive } from '../host/pid.js';

/**
 * The on-disk spool of one agent: every metric batch is written here
 * (atomically) before it is sent, and removed only once the controller has
 * acknowledged it. Layout:
 *
 *   <dir>/<runId>/<seq>.json     a batch waiting for its ack
 *   <dir>/<runId>/next-seq       the next seq to hand out for the run (written after each batch: never reused)
 *   <dir>/rejected/<runId>.<seq>.json (+ .reason.txt)   batches the controller refused for good
 *   <dir>/lock                   pid of the agent process using this spool
 *
 * Folders are 0700 and files 0600 (PRIVATE_DIR_MODE, PRIVATE_FILE_MODE).
 */

export interface BatchKey {
  readonly runId: string;
  readonly seq: number;
}

const REJECTED = 'rejected';
const NEXT_SEQ = 'next-seq';
const LOCK = 'lock';
const BATCH_FILE = /^([1-9][0-9]{0,15})\.json$/;

export function compareKeys(a: BatchKey, b: BatchKey): number {
  return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.seq - b.seq;
}

function spoolError(message: string, cause: unknown): ProbeError {
  return new ProbeError(ERROR_CODES.SPOOL_IO, `${message}: ${describeError(cause).message}`, { cause });
}

export class Spool {
  readonly dir: string;
  readonly #log: Logger;
  /** Pending batches, kept sorted by (runId, seq). Contents stay on disk. */
  #pending: BatchKey[] = [];
  /** Next seq per run (max of the persisted counter and highest spooled seq + 1). */
  readonly #nextSeq = new Map<string, number>();
  #listeners = new Set<() => void>();

  constructor(dir: string, log: Logger) {
    this.dir = dir;
    this.#log = log.child({ component: 'spool' });
  }

  /** Create the folders, take the lock, load what a previous process left. */
  async open(): Promise<void> {
    try {
      await mkdir(join(this.dir, REJECTED), { recursive: true, mode: PRIVATE_DIR_MODE });
      await this.#lock();
      const entries = await readdir(this.dir, { withFileTypes: true });
      for (const e of entries) {
        if (!e.isDirectory() || e.name === REJECTED) continue;
        if (!IdSchema.safeParse(e.name).success) continue;
        await this.#loadRun(e.name);
      }
      this.#pending.sort(compareKeys);
    } catch (e) {
      if (e instanceof ProbeError) throw e;
      throw spoolError(`cannot open the spool ${this.dir}`, e);
    }
    if (this.#pending.length) this.#log.info({ pending: this.#pending.length }, 'spool holds unacknowledged batches from before; re-sending them');
  }

  async #lock(): Promise<void> {
    const file = join(this.dir, LOCK);
    const held = await readFile(file, 'utf8').then((s) => Number(s.trim()), () => NaN);
    if (Number.isInteger(held) && held > 0 && held !== process.pid && isAlive(held)) {
      throw new ProbeError(ERROR_CODES.SPOOL_IO,
        `the spool ${this.dir} is in use by process ${held}; give each agent on this machine its own --id (or --spool)`);
    }
    await writeFile(file, `${process.pid}\n`, { mode: PRIVATE_FILE_MODE });
  }

  async #loadRun(runId: string): Promise<void> {
    const runDir = join(this.dir, runId);
    const files = await readdir(runDir);
    let next = 1;
    const counter = await readFile(join(runDir, NEXT_SEQ), 'utf8').then((s) => Number(s.trim()), () => NaN);
    if (Number.isInteger(counter) && counter > 0) next = counter;
    let batches = 0;
    for (const f of files) {
      if (f.endsWith(TMP_SUFFIX)) continue; // an interrupted write: never renamed, never acknowledged
      const m = BATCH_FILE.exec(f);
      if (!m) continue;
      const seq = Number(m[1]);
      this.#pending.push({ runId, seq });
      next = Math.max(next, seq + 1);
      batches += 1;
    }
    this.#nextSeq.set(runId, next);
    if (batches === 0) await this.#pruneIfOld(runDir);
  }

  async #pruneIfOld(runDir: string): Promise<void> {
    const s = await stat(join(runDir, NEXT_SEQ)).catch(() => null);
    if (s && Date.now() - s.mtimeMs > SPOOL_RUN_RETENTION_MS) await rm(runDir, { recursive: true, force: true });
  }

  /**
   * Hand out the next seq of a run. The counter is persisted by `write`, after
   * the batch file: a process that dies before writing the batch leaves no
   * gap (the seq is handed out again), one that dies after leaves the file,
   * and opening the spool takes the highest spooled seq into account.
   */
  async allocateSeq(runId: string): Promise<number> {
    const runDir = join(this.dir, runId);
    let next = this.#nextSeq.get(runId);
    if (next === undefined) {
      const counter = await readFile(join(runDir, NEXT_SEQ), 'utf8').then((s) => Number(s.trim()), () => NaN);
      next = Number.isInteger(counter) && counter > 0 ? counter : 1;
    }
    this.#nextSeq.set(runId, next + 1);
    return next;
  }

  /** The highest seq handed out for a run so far (0: none). */
  lastSeq(runId: string): number {
    return (this.#nextSeq.get(runId) ?? 1) - 1;
  }

  /** Durably store a batch. Only after this resolves may it be sent. */
  async write(batch: MetricBatch): Promise<void> {
    const runDir = join(this.dir, batch.runId);
    try {
      await mkdir(runDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      await writeFileAtomic(join(runDir, `${batch.seq}.json`), JSON.stringify(batch));
      // The counter after the batch: once it moves past a seq, that batch exists (a restart never hands it out again).
      const persisted = await readFile(join(runDir, NEXT_SEQ), 'utf8').then((t) => Number(t.trim()), () => 0);
      if (!(persisted > batch.seq)) await writeFileAtomic(join(runDir, NEXT_SEQ), `${batch.seq + 1}\n`);
    } catch (e) {
      throw spoolError(`cannot write batch ${batch.runId}#${batch.seq} to the spool ${runDir}`, e);
    }
    const key = { runId: batch.runId, seq: batch.seq };
    const at = this.#pending.findIndex((k) => compareKeys(k, key) > 0);
    if (at < 0) this.#pending.push(key);
    else this.#pending.splice(at, 0, key);
    for (const l of this.#listeners) l();
  }

  /** Runs with batches waiting for their ack, and the highest seq handed out for each. */
  pendingRuns(): { runId: string; lastSeq: number }[] {
    const runs = [...new Set(this.#pending.map((k) => k.runId))];
    return runs.map((runId) => ({ runId, lastSeq: this.lastSeq(runId) }));
  }

  /** Pending batches in (run, seq) order. */
  pending(): readonly BatchKey[] {
    return [...this.#pending];
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Called whenever a batch is added. */
  onWrite(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Where a pending batch's file is. */
  fileOf(key: BatchKey): string {
    return join(this.dir, key.runId, `${key.seq}.json`);
  }

  /** Read one pending batch back (validated: the file may have been edited or damaged). */
  async read(key: BatchKey): Promise<MetricBatch> {
    const file = join(this.dir, key.runId, `${key.seq}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw spoolError(`cannot read spooled batch ${file}`, e);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw spoolError(`spooled batch ${file} is not valid JSON`, e);
    }
    const r = MetricBatchSchema.safeParse(raw);
    if (!r.success || r.data.runId !== key.runId || r.data.seq !== key.seq) {
      throw new ProbeError(ERROR_CODES.SPOOL_IO, `spooled batch ${file} does not hold batch ${key.runId}#${key.seq}`);
    }
    return r.data;
  }

  /** The controller has the batch durably: forget it. */
  async remove(key: BatchKey): Promise<void> {
    await unlink(join(this.dir, key.runId, `${key.seq}.json`)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw spoolError(`cannot remove acknowledged batch ${key.runId}#${key.seq}`, e);
    });
    this.#drop(key);
  }

  /** The controller refused the batch for good (or it is unreadable): keep it aside, never delete it. */
  async reject(key: BatchKey, reason: string): Promise<string> {
    const from = join(this.dir, key.runId, `${key.seq}.json`);
    const to = join(this.dir, REJECTED, `${key.runId}.${key.seq}.json`);
    try {
      await writeFileAtomic(`${to.slice(0, -'.json'.length)}.reason.txt`, `${new Date().toISOString()} ${reason}\n`);
      await rename(from, to).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await syncDir(join(this.dir, REJECTED));
    } catch (e) {
      throw spoolError(`cannot move batch ${key.runId}#${key.seq} to ${join(this.dir, REJECTED)}`, e);
    }
    this.#drop(key);
    return to;
  }

  #drop(key: BatchKey): void {
    const i = this.#pending.findIndex((k) => k.runId === key.runId && k.seq === key.seq);
    if (i >= 0) this.#pending.splice(i, 1);
  }

  /** Release the lock (the batches stay). */
  async close(): Promise<void> {
    const file = join(this.dir, LOCK);
    const held = await readFile(file, 'utf8').then((s) => Number(s.trim()), () => NaN);
    if (held === process.pid) await unlink(file).catch(() => undefined);
    this.#listeners.clear();
  }
}

