import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ERROR_CODES, batchKey, describeError, isProbeError, type BatchAck, type MetricBatch, type ScenarioName, type SessionStatus } from '@userprobe/shared';
import type { AgentInfo, Sink } from '../results/sink.js';

export interface IngestedEvent {
  readonly runId: string;
  readonly agentId: string;
  readonly seq: number;
  readonly duplicate: boolean;
  readonly samples: number;
  readonly sessions: number;
  /** The session records the batch carried (id, status and scenario). */
  readonly records: readonly { readonly sessionId: string; readonly status: SessionStatus; readonly scenario: ScenarioName }[];
  /** The batch itself (validated, durable): what live views of a run (its thresholds while it runs) read. */
  readonly batch?: MetricBatch;
}

export interface IngestEvents {
  ingested: [IngestedEvent];
}

/**
 * Batch ingest: dedupe on (runId, agentId, seq) → every sink's writeBatch →
 * only then the ack. The batch has been validated by the hub already.
 *
 * A batch is `duplicate` when it was stored before (this process, or a sink's
 * own durable keys after a restart). Concurrent copies of one batch (an agent
 * retrying while the first write is still in flight) share one write. A sink
 * failure acks `{ ok: false }`; retryable unless the sink says the error is
 * permanent, so the agent keeps the batch and resends it.
 */
export class Ingest extends EventEmitter<IngestEvents> {
  readonly #stored = new Set<string>();
  readonly #inFlight = new Map<string, Promise<BatchAck>>();
  readonly #log: Logger;
  readonly #sinks: readonly Sink[];

  constructor(sinks: readonly Sink[], log: Logger) {
    super();
    this.#sinks = sinks;
    this.#log = log.child({ component: 'ingest' });
  }

  handle(batch: MetricBatch, agent: AgentInfo): Promise<BatchAck> {
    const key = batchKey(batch);
    if (this.#stored.has(key)) {
      this.#emitIngested(batch, true);
      return Promise.resolve({ ok: true, seq: batch.seq, duplicate: true });
    }
    const pending = this.#inFlight.get(key);
    if (pending) return pending.then((ack) => (ack.ok ? { ...ack, duplicate: true } : ack));
    const p = this.#write(batch, agent, key).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  async #write(batch: MetricBatch, agent: AgentInfo, key: string): Promise<BatchAck> {
    const log = this.#log.child({ runId: batch.runId, agentId: batch.agentId, seq: batch.seq });
    let storedSomewhere = false;
    for (const sink of this.#sinks) {
      try {
        const r = await sink.writeBatch(batch, agent);
        if (r === 'stored') storedSomewhere = true;
      } catch (e) {
        const d = describeError(e);
        const retryable = !(isProbeError(e) && e.code === ERROR_CODES.SINK_PERMANENT);
        log.error({ sink: sink.name, err: d, retryable }, 'sink failed to store batch; not acknowledged');
        return { ok: false, seq: batch.seq, retryable, code: d.code, reason: `sink "${sink.name}" could not store the batch: ${d.message}` };
      }
    }
    this.#stored.add(key);
    const duplicate = !storedSomewhere;
    log.debug({ samples: batch.samples.length, sessions: batch.sessions.length, duplicate }, 'batch durable');
    this.#emitIngested(batch, duplicate);
    return { ok: true, seq: batch.seq, duplicate };
  }

  #emitIngested(batch: MetricBatch, duplicate: boolean): void {
    this.emit('ingested', {
      runId: batch.runId,
      agentId: batch.agentId,
      seq: batch.seq,
      duplicate,
      samples: batch.samples.length,
      sessions: batch.sessions.length,
      records: batch.sessions.map((r) => ({ sessionId: r.sessionId, status: r.status, scenario: r.scenario })),
      batch,
    });
  }
}
