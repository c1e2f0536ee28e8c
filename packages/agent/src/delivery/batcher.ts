import type { Logger } from 'pino';
import {
  BATCH_MAX_AGE_MS,
  BATCH_MAX_SAMPLES,
  describeError,
  isMetricName,
  type CustomMetricDef,
  type MetricBatch,
  type Sample,
  type SessionRecord,
} from '@userprobe/shared';
import type { Spool } from './spool.js';

export interface RunBatcherOptions {
  readonly runId: string;
  readonly agentId: string;
  readonly spool: Spool;
  readonly log: Logger;
  readonly maxSamples?: number;
  readonly maxAgeMs?: number;
  /** Stored-time clock for `createdAt` (controller clock). */
  readonly now?: () => number;
  /** The run's custom metrics (its scenario module's declarations): a batch carries those its samples name. */
  readonly metrics?: readonly CustomMetricDef[];
}

/**
 * Pure: the declarations a batch carries: those of the custom metrics its samples name, and — in a
 * batch that ends sessions — all of them, so a declared core metric that no session recorded still
 * reaches the controller (its summary counts the failed sessions without it).
 */
export function declarationsFor(samples: readonly Sample[], declared: readonly CustomMetricDef[], endsSessions: boolean): CustomMetricDef[] {
  if (endsSessions) return [...declared];
  const used = new Set(samples.map((s) => s.metric).filter((m) => !isMetricName(m)));
  return declared.filter((d) => used.has(d.name));
}

/**
 * Collects the samples and session records of one run into numbered
 * MetricBatches: a batch is cut at `maxSamples`, when its oldest sample is
 * `maxAgeMs` old, at each session end and at run end. Every batch is written
 * to the spool (which wakes the sender) before anything sends it. Flushes are
 * serialized, so seqs are handed out in order and never skipped.
 */
export class RunBatcher {
  readonly #o: RunBatcherOptions;
  readonly #log: Logger;
  readonly #maxSamples: number;
  readonly #maxAgeMs: number;
  #samples: Sample[] = [];
  #sessions: SessionRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();
  /** A batch whose seq is taken but whose spool write failed: written first on the next flush. */
  #unwritten: MetricBatch | null = null;
  readonly stats = { batches: 0, samples: 0, sessions: 0 };

  constructor(o: RunBatcherOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'batcher', runId: o.runId });
    this.#maxSamples = o.maxSamples ?? BATCH_MAX_SAMPLES;
    this.#maxAgeMs = o.maxAgeMs ?? BATCH_MAX_AGE_MS;
  }

  addSample(s: Sample): void {
    this.#samples.push(s);
    if (this.#samples.length >= this.#maxSamples) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#maxAgeMs);
  }

  /** A session ended: its record goes out now, with whatever samples are buffered. */
  addSession(r: SessionRecord): Promise<void> {
    this.#sessions.push(r);
    return this.flush();
  }

  /** Cut a batch of everything buffered (nothing buffered: nothing written). Never rejects. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const samples = this.#samples;
    const sessions = this.#sessions;
    this.#samples = [];
    this.#sessions = [];
    this.#chain = this.#chain.then(() => this.#write(samples, sessions));
    return this.#chain;
  }

  async #write(samples: Sample[], sessions: SessionRecord[]): Promise<void> {
    const spool = this.#o.spool;
    try {
      if (this.#unwritten) {
        await spool.write(this.#unwritten);
        this.#unwritten = null;
      }
    } catch (e) {
      this.#log.error({ err: describeError(e), seq: this.#unwritten?.seq }, 'cannot spool a batch; holding it in memory and trying again');
      this.#samples.unshift(...samples);
      this.#sessions.unshift(...sessions);
      return;
    }
    if (samples.length === 0 && sessions.length === 0) return;
    let batch: MetricBatch;
    try {
      const seq = await spool.allocateSeq(this.#o.runId);
      const metrics = declarationsFor(samples, this.#o.metrics ?? [], sessions.length > 0);
      batch = {
        runId: this.#o.runId,
        agentId: this.#o.agentId,
        seq,
        createdAt: (this.#o.now ?? Date.now)(),
        samples,
        sessions,
        ...(metrics.length ? { metrics } : {}),
      };
    } catch (e) {
      this.#log.error({ err: describeError(e) }, 'cannot number a batch in the spool; holding its data in memory and trying again');
      this.#samples.unshift(...samples);
      this.#sessions.unshift(...sessions);
      return;
    }
    try {
      await spool.write(batch);
    } catch (e) {
      this.#unwritten = batch;
      this.#log.error({ err: describeError(e), seq: batch.seq }, 'cannot spool a batch; holding it in memory and trying again');
      return;
    }
    this.stats.batches += 1;
    this.stats.samples += samples.length;
    this.stats.sessions += sessions.length;
    this.#log.debug({ seq: batch.seq, samples: samples.length, sessions: sessions.length }, 'batch spooled');
  }

  /** Flush what is left; returns the highest seq of the run (0: none). */
  async close(): Promise<number> {
    await this.flush();
    if (this.#unwritten || this.#samples.length || this.#sessions.length) await this.flush();
    return this.#o.spool.lastSeq(this.#o.runId);
  }

  /** True while data is held in memory because the spool could not take it. */
  get stuck(): boolean {
    return this.#unwritten !== null || this.#samples.length > 0 || this.#sessions.length > 0;
  }
}
