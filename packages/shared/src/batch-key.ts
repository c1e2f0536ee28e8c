import type { MetricBatch } from './messages.js';

/**
 * What identifies a metric batch wherever it is stored: its run, the agent
 * that cut it and its seq (numbered per run and agent). Every idempotency
 * check — the results folder, the MySQL sink and its spool, the controller's
 * in-flight ingest — compares batches by this key and nothing else.
 */
export type BatchId = Pick<MetricBatch, 'runId' | 'agentId' | 'seq'>;

/**
 * The key of a batch as one string, `<runId>/<agentId>#<seq>`: ids never hold
 * `/` or `#` (IdSchema), so two different batches never share a key. Kept in
 * memory only; nothing stores it.
 */
export function batchKey(b: BatchId): string {
  return `${b.runId}/${b.agentId}#${b.seq}`;
}
