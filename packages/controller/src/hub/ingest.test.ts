import { describe, it, expect } from 'vitest';
import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import { Ingest, type IngestedEvent } from './ingest.js';
import type { AgentInfo, Sink } from '../results/sink.js';
import { captureLog, batch, deferred } from '../../test/fixtures.js';

const agent: AgentInfo = { agentId: 'agent-1', name: 'a', labels: {}, capacity: { 'chat-load': 1, 'video-call': 0, cobrowse: 0 }, location: 'local' };
function sink(write: Sink['writeBatch']): Sink {
  return { name: 'mem', open: async () => {}, runStarted: async () => {}, runEnded: async () => {}, close: async () => {}, writeBatch: write };
}

describe('Ingest', () => {
  it('concurrent copies of one batch share one write; the second is acked as duplicate', async () => {
    const gate = deferred();
    let writes = 0;
    const ingest = new Ingest(
      [
        sink(async () => {
          writes++;
          await gate.promise;
          return 'stored';
        }),
      ],
      captureLog().log,
    );
    const events: IngestedEvent[] = [];
    ingest.on('ingested', (e) => events.push(e));
    const a = ingest.handle(batch(), agent);
    const b = ingest.handle(batch(), agent);
    gate.resolve();
    expect(await a).toEqual({ ok: true, seq: 1, duplicate: false });
    expect(await b).toEqual({ ok: true, seq: 1, duplicate: true });
    expect(await ingest.handle(batch(), agent)).toEqual({ ok: true, seq: 1, duplicate: true });
    expect(writes).toBe(1);
    expect(events.map((e) => e.duplicate)).toEqual([false, true]);
  });

  it('keys include the run: the same (agent, seq) in another run is new', async () => {
    const ingest = new Ingest([sink(async () => 'stored')], captureLog().log);
    expect(await ingest.handle(batch({ runId: 'r1' }), agent)).toMatchObject({ duplicate: false });
    expect(await ingest.handle(batch({ runId: 'r2' }), agent)).toMatchObject({ duplicate: false });
  });

  it('a permanent sink error is not retryable; an unavailable one is', async () => {
    for (const [code, retryable] of [
      [ERROR_CODES.SINK_PERMANENT, false],
      [ERROR_CODES.SINK_UNAVAILABLE, true],
    ] as const) {
      const ingest = new Ingest(
        [
          sink(async () => {
            throw new ProbeError(code, 'nope');
          }),
        ],
        captureLog().log,
      );
      expect(await ingest.handle(batch(), agent)).toEqual({ ok: false, seq: 1, retryable, code, reason: 'sink "mem" could not store the batch: nope' });
    }
  });
});
