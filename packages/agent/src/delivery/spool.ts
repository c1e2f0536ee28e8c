import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MetricBatchSchema, writeFileDurable, type BatchId, type MetricBatch } from '@userprobe/shared';
import { SPOOL_RUN_RETENTION_MS } from '../config/limits.js';
import { OutboxSpool } from './outbox/outbox-spool.js';
import type { FileFormat } from './outbox/entry-format.js';

/*
 * The on-disk spool of one agent's metric batches (an OutboxSpool, so the
 * guarantees written there hold): every batch is written here before it is
 * sent, and removed only once the controller has acknowledged it. Layout:
 *
 *   <dir>/<runId>/<seq>.json     a batch waiting for its ack
 *   <dir>/<runId>/next-seq       the next seq to hand out for the run (written after each batch: never reused)
 *   <dir>/rejected/<runId>.<seq>.json (+ .reason.txt)   batches the controller refused for good
 *   <dir>/lock                   pid of the agent process using this spool
 *
 * Folders are 0700 and files 0600 (PRIVATE_DIR_MODE, PRIVATE_FILE_MODE).
 */

/** A spooled batch: the agent is implicit (a spool belongs to one agent). */
export type BatchKey = Pick<BatchId, 'runId' | 'seq'>;

const NEXT_SEQ = 'next-seq';
const SEQ_NAME = /^[1-9][0-9]{0,15}$/;

function compareKeys(a: BatchKey, b: BatchKey): number {
  return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.seq - b.seq;
}

/** A batch as one JSON file named by its seq. */
export const BATCH_FORMAT: FileFormat<BatchKey, MetricBatch> = {
  shape: 'file',
  noun: 'batch',
  plural: 'batches',
  keyOf: (b) => ({ runId: b.runId, seq: b.seq }),
  entryName: (k) => String(k.seq),
  parseName: (runId, name) => (SEQ_NAME.test(name) ? { runId, seq: Number(name) } : null),
  compare: compareKeys,
  label: (k) => `${k.runId}#${k.seq}`,
  encode: (b) => JSON.stringify(b),
  decode(text, key) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new Error(`the file is not valid JSON (${(e as Error).message})`, { cause: e });
    }
    const r = MetricBatchSchema.safeParse(raw);
    if (!r.success || r.data.runId !== key.runId || r.data.seq !== key.seq) throw new Error(`the file does not hold batch ${key.runId}#${key.seq}`);
    return r.data;
  },
};

async function readCounter(runDir: string): Promise<number> {
  const n = await readFile(join(runDir, NEXT_SEQ), 'utf8').then(
    (s) => Number(s.trim()),
    () => NaN,
  );
  return Number.isInteger(n) && n > 0 ? n : 1;
}

export class Spool extends OutboxSpool<BatchKey, MetricBatch> {
  /** Next seq per run (max of the persisted counter and highest spooled seq + 1). */
  readonly #nextSeq = new Map<string, number>();

  constructor(dir: string, log: Logger) {
    super(dir, BATCH_FORMAT, log, { component: 'spool', lock: true });
  }

  protected override async loadedRun(runId: string, keys: readonly BatchKey[]): Promise<void> {
    const runDir = join(this.dir, runId);
    const next = Math.max(await readCounter(runDir), ...keys.map((k) => k.seq + 1));
    this.#nextSeq.set(runId, next);
    if (keys.length > 0) return;
    // Everything acknowledged: the folder holds only the counter, kept (so seqs are never reused) until it is old.
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
    const next = this.#nextSeq.get(runId) ?? (await readCounter(join(this.dir, runId)));
    this.#nextSeq.set(runId, next + 1);
    return next;
  }

  /** The highest seq handed out for a run so far (0: none). */
  lastSeq(runId: string): number {
    return (this.#nextSeq.get(runId) ?? 1) - 1;
  }

  /** The counter after the batch: once it moves past a seq, that batch exists (a restart never hands it out again). */
  protected override async written(key: BatchKey): Promise<void> {
    const runDir = join(this.dir, key.runId);
    const persisted = await readFile(join(runDir, NEXT_SEQ), 'utf8').then(
      (t) => Number(t.trim()),
      () => 0,
    );
    if (!(persisted > key.seq)) await writeFileDurable(join(runDir, NEXT_SEQ), `${key.seq + 1}\n`);
  }

  /** Runs with batches waiting for their ack, and the highest seq handed out for each. */
  pendingRuns(): { runId: string; lastSeq: number }[] {
    const runs = [...new Set(this.pending().map((k) => k.runId))];
    return runs.map((runId) => ({ runId, lastSeq: this.lastSeq(runId) }));
  }
}
