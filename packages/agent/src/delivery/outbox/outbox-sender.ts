import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { describeError } from '@userprobe/shared';
import { nextDisconnect, whenConnected, type AgentSocket } from '../agent-socket.js';
import { SEND_RETRY_MAX_MS, SEND_RETRY_MIN_MS, UNKNOWN_RUN_RETRY_MS } from '../../config/limits.js';
import type { OutboxKey } from './entry-format.js';
import type { OutboxSpool } from './outbox-spool.js';

/**
 * What one attempt at sending an item came to. `acked` carries what the
 * controller said about it (A); `corrupt`: the spooled entry could not be
 * read back as the item it should hold, so nothing was sent (the controller
 * had no say in it); `park`: the controller has no record of the item's run
 * (yet) — try that run again later, send the others meanwhile.
 */
export type SendOutcome<A extends object = object> =
  | ({ readonly kind: 'acked'; readonly duplicate: boolean } & A)
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly backoff: boolean }
  | { readonly kind: 'park'; readonly reason: string };

/** The outcomes that take an item out of the spool. */
export type Settled<A extends object = object> = Extract<SendOutcome<A>, { readonly kind: 'acked' | 'rejected' | 'corrupt' }>;

/** One kind of outbox item (a metric batch, a session's evidence): how it is sent and what the reply means. */
export interface OutboxKind<K extends OutboxKey, T, A extends object> {
  /** Log component ('sender', 'evidence-sender'). */
  readonly component: string;
  /** Wait this long for each ack unless the options say otherwise. */
  readonly ackTimeoutMs: number;
  /** What becomes of an item refused for good or unreadable: kept in the spool's rejected/ folder for an operator, or deleted. */
  readonly refused: 'set-aside' | 'drop';
  /** What of the item goes out (it may be cut to fit the controller's limits), or why none of it can. */
  prepare?(item: T, key: K, log: Logger): { readonly send: T } | { readonly refuse: string };
  /** Emit the item with an ack: resolves with the reply, rejects when none comes within `timeoutMs`. */
  send(socket: AgentSocket, timeoutMs: number, item: T): Promise<unknown>;
  /** Pure: the controller's reply → what to do with the item. */
  classify(reply: unknown, key: K): SendOutcome<A>;
}

export interface SenderOptions {
  /** Wait this long for each ack (default: the kind's). */
  readonly ackTimeoutMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

export interface SenderStats {
  sent: number;
  acked: number;
  duplicates: number;
  /** Refused for good by the controller. */
  rejected: number;
  /** Unreadable in the spool: set aside or dropped without being sent. */
  corrupt: number;
  retries: number;
  /** Times a run was set aside because the controller had no record of it. */
  parked: number;
}

/** A key's fields for a log line (runId, seq / sessionId). */
const fields = (key: OutboxKey): Record<string, unknown> => ({ ...key });

/**
 * Sends an outbox's spooled items to the controller one at a time, in the
 * spool's order, each with an ack and a timeout. Acked → removed from the
 * spool; timeout, disconnect or retryable nack → sent again, with backoff,
 * forever; refused for good, or unreadable in the spool → set aside in the
 * spool's rejected/ folder or dropped, as the kind says, and logged as what
 * it is. A run the controller has no record of (an older run, another
 * results folder) is set aside for UNKNOWN_RUN_RETRY_MS or until the next
 * reconnect, so it never holds up the items of the runs the controller
 * follows. While disconnected it waits; on reconnect it resumes from the
 * spool, which is all the state there is: a new sender over the same spool
 * (a restart) sends whatever was not acknowledged.
 */
export class OutboxSender<K extends OutboxKey, T, A extends object> {
  readonly #socket: AgentSocket;
  readonly #spool: OutboxSpool<K, T>;
  readonly #kind: OutboxKind<K, T, A>;
  readonly #log: Logger;
  readonly #ackTimeoutMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #stop = new AbortController();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  readonly #drainWaiters = new Set<() => void>();
  /** Per key label, whoever waits for that item to settle. */
  readonly #settleWaiters = new Map<string, Set<(s: Settled<A> | null) => void>>();
  /** Runs set aside (the controller has no record of them), until this time (Date.now()). */
  readonly #parked = new Map<string, number>();
  #unpark: NodeJS.Timeout | null = null;
  readonly stats: SenderStats = { sent: 0, acked: 0, duplicates: 0, rejected: 0, corrupt: 0, retries: 0, parked: 0 };

  constructor(socket: AgentSocket, spool: OutboxSpool<K, T>, kind: OutboxKind<K, T, A>, log: Logger, opts: SenderOptions = {}) {
    this.#socket = socket;
    this.#spool = spool;
    this.#kind = kind;
    this.#log = log.child({ component: kind.component });
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? kind.ackTimeoutMs;
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
      this.#log.fatal({ err: describeError(e) }, `sender stopped on an unexpected error; spooled ${this.#spool.format.plural} stay on disk`);
    });
  }

  /** Stop sending (the spool keeps whatever is unacknowledged); whoever waits for an item gets null. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#unpark) clearTimeout(this.#unpark);
    this.#wake?.();
    await this.#loop;
    for (const waiters of this.#settleWaiters.values()) for (const w of waiters) w(null);
    this.#settleWaiters.clear();
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

  /**
   * Watch one item: `settled` resolves with how it left the spool, or null if
   * the sender stops first. Watch before writing the item, and cancel when no
   * longer waiting.
   */
  watch(key: K): { readonly settled: Promise<Settled<A> | null>; cancel(): void } {
    const label = this.#spool.format.label(key);
    let waiter: (s: Settled<A> | null) => void = () => undefined;
    const settled = new Promise<Settled<A> | null>((resolve) => {
      waiter = resolve;
    });
    const set = this.#settleWaiters.get(label) ?? new Set();
    set.add(waiter);
    this.#settleWaiters.set(label, set);
    return {
      settled,
      cancel: () => {
        set.delete(waiter);
        if (set.size === 0 && this.#settleWaiters.get(label) === set) this.#settleWaiters.delete(label);
      },
    };
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let delay = this.#retryMinMs;
    const backOff = async (): Promise<void> => {
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, this.#retryMaxMs);
    };
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
        case 'rejected':
        case 'corrupt':
          try {
            await this.#settle(key, outcome);
            delay = this.#retryMinMs;
          } catch (e) {
            // The spool could not take the item out: it stays pending and is sent again (the controller dedupes).
            this.#log.error(
              { ...fields(key), err: describeError(e), retryInMs: delay },
              `cannot update the spool after the ${this.#spool.format.noun} was settled; will send it again`,
            );
            await backOff();
          }
          break;
        case 'park': {
          this.stats.parked += 1;
          this.#parked.set(key.runId, Date.now() + UNKNOWN_RUN_RETRY_MS);
          this.#log.warn(
            { runId: key.runId, reason: outcome.reason, retryInMs: UNKNOWN_RUN_RETRY_MS },
            `the controller has no record of this run; its ${this.#spool.format.plural} wait, the others go on`,
          );
          if (this.#unpark === null) {
            this.#unpark = setTimeout(() => {
              this.#unpark = null;
              this.#wake?.();
            }, UNKNOWN_RUN_RETRY_MS);
            this.#unpark.unref();
          }
          break;
        }
        case 'retry':
          this.stats.retries += 1;
          this.#log.warn(
            { ...fields(key), reason: outcome.reason, retryInMs: outcome.backoff ? delay : 0 },
            `${this.#spool.format.noun} not acknowledged; will send it again`,
          );
          if (outcome.backoff) await backOff();
          break;
        default: {
          const never: never = outcome;
          throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /** Take a settled item out of the spool as its outcome says, count and log it, tell whoever waits for it. */
  async #settle(key: K, outcome: Settled<A>): Promise<void> {
    const noun = this.#spool.format.noun;
    const keep = this.#kind.refused === 'set-aside';
    const file = this.#spool.pathOf(key);
    switch (outcome.kind) {
      case 'acked':
        await this.#spool.remove(key);
        this.stats.acked += 1;
        if (outcome.duplicate) this.stats.duplicates += 1;
        this.#log.debug({ ...fields(key), duplicate: outcome.duplicate }, `${noun} acknowledged`);
        break;
      case 'rejected':
        if (keep) {
          const path = await this.#spool.setAside(key, outcome.reason);
          this.#log.error({ ...fields(key), reason: outcome.reason, path }, `controller refused the ${noun} for good; kept in the spool's rejected folder`);
        } else {
          await this.#spool.remove(key);
          this.#log.error({ ...fields(key), reason: outcome.reason }, `the controller refused this ${noun} for good; dropped`);
        }
        this.stats.rejected += 1;
        break;
      case 'corrupt':
        if (keep) {
          const path = await this.#spool.setAside(key, `corrupt spool file: ${outcome.reason}`);
          this.#log.error({ ...fields(key), reason: outcome.reason, file, path }, 'corrupt spool file moved aside; it was never sent');
        } else {
          await this.#spool.remove(key);
          this.#log.error({ ...fields(key), reason: outcome.reason, file }, 'corrupt spool entry dropped; it was never sent');
        }
        this.stats.corrupt += 1;
        break;
      default: {
        const never: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
    const label = this.#spool.format.label(key);
    const waiters = this.#settleWaiters.get(label);
    this.#settleWaiters.delete(label);
    for (const w of waiters ?? []) w(outcome);
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

  async #attempt(key: K): Promise<SendOutcome<A>> {
    let item: T;
    try {
      item = await this.#spool.read(key);
    } catch (e) {
      return { kind: 'corrupt', reason: describeError(e).message };
    }
    if (this.#kind.prepare) {
      const p = this.#kind.prepare(item, key, this.#log);
      if ('refuse' in p) return { kind: 'rejected', reason: p.refuse };
      item = p.send;
    }
    const disconnect = nextDisconnect(this.#socket, this.#stop.signal);
    try {
      this.stats.sent += 1;
      const reply = this.#kind.send(this.#socket, this.#ackTimeoutMs, item);
      reply.catch(() => undefined);
      const r = await Promise.race([reply.then((v) => ({ v })), disconnect.promise]);
      if (r === 'disconnected') return { kind: 'retry', reason: 'disconnected before the ack', backoff: false };
      return this.#kind.classify(r.v, key);
    } catch (e) {
      return { kind: 'retry', reason: `no ack within ${this.#ackTimeoutMs} ms (${describeError(e).message})`, backoff: true };
    } finally {
      disconnect.cancel();
    }
  }
}
