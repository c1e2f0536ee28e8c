import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { EvidenceAckSchema, formatIssues, type EvidenceFile } from '@userprobe/shared';
import type { AgentSocket } from '../delivery/agent-socket.js';
import { OutboxSender, type OutboxKind, type SendOutcome, type Settled } from '../delivery/outbox/outbox-sender.js';
import type { EvidenceKey, EvidenceSpool, SessionFiles } from './evidence-spool.js';
import { EVIDENCE_FILES } from './session-evidence.js';
import { UPLOAD_LIMITS, fitUpload } from './upload-fit.js';

/** An upload of a few MB over a busy link: wait this long for its ack before sending it again. */
export const EVIDENCE_ACK_TIMEOUT_MS = 30_000;

/** What the controller says it did with a session's evidence. */
export interface EvidenceStored {
  readonly stored: readonly string[];
  readonly skipped: readonly string[];
  readonly exhausted: boolean;
}

/** What became of a session's evidence. */
export type EvidenceOutcome =
  | ({ readonly kind: 'stored' } & EvidenceStored)
  | { readonly kind: 'refused'; readonly reason: string }
  /** Not acknowledged within the wait: still in the spool, still being sent. */
  | { readonly kind: 'pending' };

/** Pure: the controller's reply → stored, refused for good, or send again. */
export function classifyEvidenceAck(reply: unknown): SendOutcome<EvidenceStored> {
  const r = EvidenceAckSchema.safeParse(reply);
  if (!r.success) return { kind: 'retry', reason: `malformed evidence ack: ${formatIssues(r.error)}`, backoff: true };
  const a = r.data;
  if (a.ok) return { kind: 'acked', duplicate: false, stored: a.stored, skipped: a.skipped, exhausted: a.exhausted };
  const reason = `${a.code}: ${a.reason}`;
  return a.retryable ? { kind: 'retry', reason, backoff: true } : { kind: 'rejected', reason };
}

/** Pure: how a session's evidence left the spool (null: it has not yet) → what the session record is told. */
export function evidenceOutcome(s: Settled<EvidenceStored> | null): EvidenceOutcome {
  if (s === null) return { kind: 'pending' };
  switch (s.kind) {
    case 'acked':
      return { kind: 'stored', stored: s.stored, skipped: s.skipped, exhausted: s.exhausted };
    case 'rejected':
      return { kind: 'refused', reason: s.reason };
    case 'corrupt':
      return { kind: 'refused', reason: `unreadable in the spool: ${s.reason}` };
    default: {
      const never: never = s;
      throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A session's evidence: `evidence:upload`, never over the limits the
 * controller accepts (fitUpload: what does not fit is left out and logged);
 * refused or unreadable evidence is dropped (logged with its reason).
 */
export function evidenceKind(agentId: string): OutboxKind<EvidenceKey, SessionFiles, EvidenceStored> {
  return {
    component: 'evidence-sender',
    ackTimeoutMs: EVIDENCE_ACK_TIMEOUT_MS,
    refused: 'drop',
    prepare(item, key, log) {
      const fit = fitUpload(item.files, EVIDENCE_FILES.console);
      if (fit.left.length) {
        log.warn(
          { ...key, left: fit.left, maxFiles: UPLOAD_LIMITS.maxFiles, maxBytes: UPLOAD_LIMITS.maxBytes, maxFileBytes: UPLOAD_LIMITS.maxFileBytes },
          'evidence over the upload limits: sending what fits',
        );
      }
      return fit.files.length === 0 ? { refuse: 'nothing of it fits in one upload' } : { send: { ...item, files: fit.files } };
    },
    send: (socket, timeoutMs, s) =>
      socket.timeout(timeoutMs).emitWithAck('evidence:upload', { runId: s.runId, agentId, sessionId: s.sessionId, files: [...s.files] }),
    classify: (reply) => classifyEvidenceAck(reply),
  };
}

/**
 * Sends spooled evidence to the controller (an OutboxSender: one session at a
 * time, with an ack and a timeout, across reconnects and restarts).
 * `deliver()` spools a session's files and waits (bounded) for the outcome so
 * the session record can list what the controller actually stored.
 */
export class EvidenceSender extends OutboxSender<EvidenceKey, SessionFiles, EvidenceStored> {
  readonly #socket: AgentSocket;
  readonly #spool: EvidenceSpool;

  constructor(socket: AgentSocket, spool: EvidenceSpool, agentId: string, log: Logger, opts: { ackTimeoutMs?: number } = {}) {
    super(socket, spool, evidenceKind(agentId), log, opts);
    this.#socket = socket;
    this.#spool = spool;
  }

  get pending(): number {
    return this.#spool.size;
  }

  /** Spool the files, queue them, and wait up to `waitMs` for what the controller did with them. */
  async deliver(key: EvidenceKey, files: readonly EvidenceFile[], waitMs: number): Promise<EvidenceOutcome> {
    const watch = this.watch(key);
    try {
      await this.#spool.write({ ...key, files });
      if (!this.#socket.connected) return { kind: 'pending' }; // no controller to answer now: the spool sends it when one is back
      const settled = await Promise.race([watch.settled, sleep(waitMs, 'waiting' as const, { ref: false })]);
      return settled === 'waiting' ? { kind: 'pending' } : evidenceOutcome(settled);
    } finally {
      watch.cancel();
    }
  }
}
