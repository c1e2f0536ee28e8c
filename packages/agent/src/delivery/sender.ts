import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { BATCH_ACK_TIMEOUT_MS, BatchAckSchema, ERROR_CODES, describeError, formatIssues, type MetricBatch } from '@userprobe/shared';
import { nextDisconnect, whenConnected, type AgentSocket } from './agent-socket.js';
import { SEND_RETRY_MAX_MS, SEND_RETRY_MIN_MS } from '../config/limits.js';
import type { BatchKey, Spool } from './spool.js';

export interface SenderOptions {
  /** Wait this long for each ack (default BATCH_ACK_TIMEOUT_MS). */
  readonly ackTimeoutMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

/**
 * What one attempt at sending a batch came to. `corrupt`: the spool file
 * could not be read back as the batch it should hold, so nothing was sent
 * (the controller had no say in it).
 */
export type SendOutcome =
  | { readonly kind: 'acked'; readonly duplicate: boolean }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly backoff: boolean }
  /** The controller has no record of the batch's run (yet): try that run again later, send the others meanwhile. */
  | { readonly kind: 'park'; readonly reason: string };

/** Pure: the controller's reply (or its absence) → what to do with the batch. */
export function classifyAck(reply: unknown, seq: number): SendOutcome {
  const r = BatchAckSchema.safeParse(reply);
  if (!r.success) return { kind: 'retry', reason: `malformed ack: ${formatIssues(r.error)}`, backoff: true };
  const ack = r.data;
  if (ack.ok) {
    if (ack.seq !== seq) return { kind: 'retry', reason: `ack for seq ${ack.seq}, expected ${seq}`, backoff: true };
    return { kind: 'acked', duplicate: ack.duplicate };
  }
  const reason = `${ack.code}: ${ack.reason}`;
  if (ack.retryable && ack.code === ERROR_CODES.RUN_UNKNOWN) return { kind: 'park', reason };
  return ack.retryable ? { kind: 'retry', reason, backoff: true } : { kind: 'rejected', reason };
}

export interface SenderStats {
  sent: number;
  acked: number;
  duplicates: number;
  /** Refused for good by the controller. */
  rejected: number;
  /** Unreadable in the spool: moved aside without being sent. */
  corrupt: number;
  retries: number;
  /** Times a run was set aside because the controller had no record of it. */
  parked: number;
}

/** A run whose batches the controller has no record of is tried again after this long (or the next reconnect). */
export const UNKNOWN_RUN_RETRY_MS = 60_000;

/**
 * Sends spooled batches to the controller one at a time, in (run, seq) order,
 * each with an ack and a timeout. Acked (or duplicate) → removed from the
 * spool; timeout, disconnect or retryable nack → sent again, with backoff,
 * forever; non-retryable nack → moved to the spool's rejected/ folder, as is
 * a spool file that does not read back as its batch (logged as corrupt). A run
 * the controller has no record of (an older run, another results folder) is
 * set aside for UNKNOWN_RUN_RETRY_MS or until the next reconnect, so it never
 * holds up the batches of the runs the controller follows. While disconnected
 * it waits; on reconnect it resumes from the spool.
 */
export class Sender {
  readonly #socket: AgentSocket;
  readonly #spool: Spool;
  readonly #log: Logger;
  readonly #ackTimeoutMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #stop = new AbortController();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #drainWaiters = new Set<() => void>();
  /** Runs set aside (the controller has no record of them), until this time (Date.now()). */
  readonly #parked = new Map<string, number>();
  #unpark: NodeJS.Timeout | null = null;
  readonly stats: SenderStats = { sent: 0, acked: 0, duplicates: 0, rejected: 0, corrupt: 0, retries: 0, parked: 0 };

  constructor(socket: AgentSocket, spool: Spool, log: Logger, opts: SenderOptions = {}) {
    this.#socket = socket;
    this.#spool = spool;
    this.#log = log.child({ component: 'sender' });
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? BATCH_ACK_TIMEOUT_MS;
    this.#retryMinMs = opts.retryMinMs ?? SEND_RETRY_MIN_MS;
    this.#retryMaxMs = opts.retryMaxMs ?? SEND_RETRY_MAX_MS;
    spool.onWrite(() => this.#wake?.());
    socket.on('connect', () => {
      this.#parked.clear();
      this.#wake?.();
    });
  }

  start(): void {
    this.#loop ??= this.#run().catch((e: unknown) => {
      this.#log.fatal({ error: describeError(e) }, 'sender stopped on an unexpected error; spooled batches stay on disk');
    });
  }

  /** Stop sending (the spool keeps whatever is unacknowledged). */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#unpark) clearTimeout(this.#unpark);
    this.#wake?.();
    await this.#loop;
  }

  /** Resolves true once the spool is empty, false after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.#spool.size === 0) return true;
    let waiter = (): void => undefined;
    const done = new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.#drainWaiters.add(waiter);
    });
    const timer = sleep(timeoutMs, false, { ref: false });
    try {
      return await Promise.race([done, timer]);
    } finally {
      this.#drainWaiters.delete(waiter);
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let delay = this.#retryMinMs;
    while (!signal.aborted) {
      const now = Date.now();
      for (const [runId, until] of this.#parked) if (until <= now) this.#parked.delete(runId);
      const key = this.#spool.pending().find((k) => !this.#parked.has(k.runId));
      if (key === undefined) {
        if (this.#spool.size === 0) for (const w of this.#drainWaiters) w();
        await this.#idle();
        continue;
      }
      if (!this.#socket.connected) {
        await whenConnected(this.#socket, signal);
        continue;
      }
      const outcome = await this.#attempt(key);
      if (signal.aborted && outcome.kind === 'retry') break;
      switch (outcome.kind) {
        case 'acked':
          await this.#spool.remove(key);
          this.stats.acked += 1;
          if (outcome.duplicate) this.stats.duplicates += 1;
          this.#log.debug({ runId: key.runId, seq: key.seq, duplicate: outcome.duplicate }, 'batch acknowledged');
          delay = this.#retryMinMs;
          break;
        case 'rejected': {
          const path = await this.#spool.reject(key, outcome.reason);
          this.stats.rejected += 1;
          this.#log.error({ runId: key.runId, seq: key.seq, reason: outcome.reason, path }, 'controller refused the batch for good; kept in the spool\'s rejected folder');
          break;
        }
        case 'corrupt': {
          const file = this.#spool.fileOf(key);
          const path = await this.#spool.reject(key, `corrupt spool file: ${outcome.reason}`);
          this.stats.corrupt += 1;
          this.#log.error({ runId: key.runId, seq: key.seq, reason: outcome.reason, file, path }, 'corrupt spool file moved aside; it was never sent');
          break;
        }
        case 'park': {
          this.stats.parked += 1;
          this.#parked.set(key.runId, Date.now() + UNKNOWN_RUN_RETRY_MS);
          this.#log.warn({ runId: key.runId, reason: outcome.reason, retryInMs: UNKNOWN_RUN_RETRY_MS }, 'the controller has no record of this run; its batches wait, the others go on');
          if (this.#unpark === null) {
            this.#unpark = setTimeout(() => { this.#unpark = null; this.#wake?.(); }, UNKNOWN_RUN_RETRY_MS);
            this.#unpark.unref();
          }
          break;
        }
        case 'retry':
          this.stats.retries += 1;
          this.#log.warn({ runId: key.runId, seq: key.seq, reason: outcome.reason, retryInMs: outcome.backoff ? delay : 0 }, 'batch not acknowledged; will send it again');
          if (outcome.backoff) {
            await sleep(delay, undefined, { signal }).catch(() => undefined);
            delay = Math.min(delay * 2, this.#retryMaxMs);
          }
          break;
        default: {
          const never: never = outcome;
          throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
        }
      }
    }
  }

  async #idle(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    await new Promise<void>((resolve) => {
      this.#wake = () => {
        this.#wake = null;
        resolve();
      };
    });
  }

  async #attempt(key: BatchKey): Promise<SendOutcome> {
    let batch: MetricBatch;
    try {
      batch = await this.#spool.read(key);
    } catch (e) {
      return { kind: 'corrupt', reason: describeError(e).message };
    }
    const disconnect = nextDisconnect(this.#socket, this.#stop.signal);
    try {
      this.stats.sent += 1;
      const reply = this.#socket.timeout(this.#ackTimeoutMs).emitWithAck('metrics:batch', batch);
      reply.catch(() => undefined);
      const r = await Promise.race([reply.then((v: unknown) => ({ v })), disconnect.promise]);
      if (r === 'disconnected') return { kind: 'retry', reason: 'disconnected before the ack', backoff: false };
      return classifyAck(r.v, key.seq);
    } catch (e) {
      return { kind: 'retry', reason: `no ack within ${this.#ackTimeoutMs} ms (${describeError(e).message})`, backoff: true };
    } finally {
      disconnect.cancel();
    }
  }
}
