import type { Logger } from 'pino';
import { BATCH_ACK_TIMEOUT_MS, BatchAckSchema, ERROR_CODES, formatIssues, type MetricBatch } from '@userprobe/shared';
import type { AgentSocket } from './agent-socket.js';
import { OutboxSender, type OutboxKind, type SendOutcome, type SenderOptions } from './outbox/outbox-sender.js';
import type { BatchKey, Spool } from './spool.js';

export type { SendOutcome, SenderOptions, SenderStats } from './outbox/outbox-sender.js';

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

/** Metric batches: `metrics:batch`, acked by seq; refused or unreadable ones are kept in the spool's rejected/ folder. */
export const BATCH_KIND: OutboxKind<BatchKey, MetricBatch, object> = {
  component: 'sender',
  ackTimeoutMs: BATCH_ACK_TIMEOUT_MS,
  refused: 'set-aside',
  send: (socket, timeoutMs, batch) => socket.timeout(timeoutMs).emitWithAck('metrics:batch', batch),
  classify: (reply, key) => classifyAck(reply, key.seq),
};

/**
 * Sends the spooled metric batches (an OutboxSender: every batch until the
 * controller acknowledges it, in (run, seq) order, across reconnects and
 * restarts; unknown runs parked, refusals kept aside).
 */
export class Sender extends OutboxSender<BatchKey, MetricBatch, object> {
  constructor(socket: AgentSocket, spool: Spool, log: Logger, opts: SenderOptions = {}) {
    super(socket, spool, BATCH_KIND, log, opts);
  }
}
