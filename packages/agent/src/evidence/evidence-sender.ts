import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { EvidenceAckSchema, describeError, formatIssues, type EvidenceFile } from '@userprobe/shared';
import { nextDisconnect, whenConnected, type AgentSocket } from '../delivery/agent-socket.js';
import { SEND_RETRY_MAX_MS, SEND_RETRY_MIN_MS } from '../config/limits.js';
import type { EvidenceKey, EvidenceSpool } from './evidence-spool.js';
import { EVIDENCE_FILES } from './session-evidence.js';
import { UPLOAD_LIMITS, fitUpload } from './upload-fit.js';

/** An upload of a few MB over a busy link: wait this long for its ack before sending it again. */
export const EVIDENCE_ACK_TIMEOUT_MS = 30_000;

/** What became of a session's evidence. */
export type EvidenceOutcome =
  | { readonly kind: 'stored'; readonly stored: readonly string[]; readonly skipped: readonly string[]; readonly exhausted: boolean }
  | { readonly kind: 'refused'; readonly reason: string }
  /** Not acknowledged within the wait: still in the spool, still being sent. */
  | { readonly kind: 'pending' };

type Attempt = { kind: 'done'; outcome: EvidenceOutcome } | { kind: 'retry'; reason: string; backoff: boolean };

/** Pure: the controller's reply → done (stored/refused) or send again. */
export function classifyEvidenceAck(reply: unknown): Attempt {
  const r = EvidenceAckSchema.safeParse(reply);
  if (!r.success) return { kind: 'retry', reason: `malformed evidence ack: ${formatIssues(r.error)}`, backoff: true };
  const a = r.data;
  if (a.ok) return { kind: 'done', outcome: { kind: 'stored', stored: a.stored, skipped: a.skipped, exhausted: a.exhausted } };
  const reason = `${a.code}: ${a.reason}`;
  return a.retryable ? { kind: 'retry', reason, backoff: true } : { kind: 'done', outcome: { kind: 'refused', reason } };
}

const keyOf = (k: EvidenceKey): string => `${k.runId}/${k.sessionId}`;

/**
 * Sends spooled evidence to the controller (`evidence:upload`), one session at
 * a time, oldest first, with an ack and a timeout; acked or refused for good →
 * removed from the spool; otherwise sent again with backoff, across reconnects.
 * `deliver()` spools a session's files and waits (bounded) for the outcome so
 * the session record can list what the controller actually stored. An upload
 * never exceeds the limits the controller accepts (fitUpload): what does not
 * fit is left out and logged. A refusal for good is logged with its reason.
 */
export class EvidenceSender {
  readonly #socket: AgentSocket;
  readonly #spool: EvidenceSpool;
  readonly #agentId: string;
  readonly #log: Logger;
  readonly #ackTimeoutMs: number;
  readonly #stop = new AbortController();
  readonly #waiters = new Map<string, (o: EvidenceOutcome) => void>();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(socket: AgentSocket, spool: EvidenceSpool, agentId: string, log: Logger, opts: { ackTimeoutMs?: number } = {}) {
    this.#socket = socket;
    this.#spool = spool;
    this.#agentId = agentId;
    this.#log = log.child({ component: 'evidence-sender' });
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? EVIDENCE_ACK_TIMEOUT_MS;
    socket.on('connect', () => this.#wake?.());
  }

  start(): void {
    this.#loop ??= this.#run().catch((e: unknown) => {
      this.#log.error({ error: describeError(e) }, 'evidence sender stopped on an unexpected error; spooled evidence stays on disk');
    });
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
    for (const w of this.#waiters.values()) w({ kind: 'pending' });
    this.#waiters.clear();
  }

  get pending(): number {
    return this.#spool.size;
  }

  /** Spool the files, queue them, and wait up to `waitMs` for what the controller did with them. */
  async deliver(key: EvidenceKey, files: readonly EvidenceFile[], waitMs: number): Promise<EvidenceOutcome> {
    await this.#spool.write(key, files);
    if (!this.#socket.connected) {
      this.#wake?.();
      return { kind: 'pending' }; // no controller to answer now: the spool sends it when one is back
    }
    const done = new Promise<EvidenceOutcome>((resolve) => this.#waiters.set(keyOf(key), resolve));
    this.#wake?.();
    const timer = sleep(waitMs, { kind: 'pending' } as const, { ref: false });
    const outcome = await Promise.race([done, timer]);
    this.#waiters.delete(keyOf(key));
    return outcome;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let delay = SEND_RETRY_MIN_MS;
    while (!signal.aborted) {
      const key = this.#spool.pending()[0];
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = () => {
            this.#wake = null;
            resolve();
          };
          if (signal.aborted) resolve();
        });
        continue;
      }
      if (!this.#socket.connected) {
        await whenConnected(this.#socket, signal);
        continue;
      }
      const a = await this.#attempt(key);
      if (a.kind === 'done') {
        await this.#spool.remove(key).catch((e: unknown) => this.#log.error({ error: describeError(e), ...key }, 'cannot remove delivered evidence from the spool'));
        const o = a.outcome;
        if (o.kind === 'refused') this.#log.error({ ...key, reason: o.reason }, 'the controller refused this evidence for good; dropped');
        else if (o.kind === 'stored') this.#log.debug({ ...key, stored: o.stored.length, skipped: o.skipped.length }, 'evidence acknowledged');
        this.#waiters.get(keyOf(key))?.(a.outcome);
        delay = SEND_RETRY_MIN_MS;
        continue;
      }
      if (signal.aborted) break;
      this.#log.warn({ ...key, reason: a.reason }, 'evidence not acknowledged; will send it again');
      if (a.backoff) {
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, SEND_RETRY_MAX_MS);
      }
    }
  }

  async #attempt(key: EvidenceKey): Promise<Attempt> {
    let files: EvidenceFile[];
    try {
      files = await this.#spool.read(key);
    } catch (e) {
      return { kind: 'done', outcome: { kind: 'refused', reason: `unreadable in the spool: ${describeError(e).message}` } };
    }
    const fit = fitUpload(files, EVIDENCE_FILES.console);
    if (fit.left.length) {
      this.#log.warn({ ...key, left: fit.left, maxFiles: UPLOAD_LIMITS.maxFiles, maxBytes: UPLOAD_LIMITS.maxBytes, maxFileBytes: UPLOAD_LIMITS.maxFileBytes },
        'evidence over the upload limits: sending what fits');
    }
    if (fit.files.length === 0) return { kind: 'done', outcome: { kind: 'refused', reason: 'nothing of it fits in one upload' } };
    const disconnect = nextDisconnect(this.#socket, this.#stop.signal);
    try {
      const reply = this.#socket.timeout(this.#ackTimeoutMs).emitWithAck('evidence:upload', { runId: key.runId, agentId: this.#agentId, sessionId: key.sessionId, files: fit.files });
      reply.catch(() => undefined);
      const r = await Promise.race([reply.then((v: unknown) => ({ v })), disconnect.promise]);
      if (r === 'disconnected') return { kind: 'retry', reason: 'disconnected before the ack', backoff: false };
      return classifyEvidenceAck(r.v);
    } catch (e) {
      return { kind: 'retry', reason: `no ack within ${this.#ackTimeoutMs} ms (${describeError(e).message})`, backoff: true };
    } finally {
      disconnect.cancel();
    }
  }
}
