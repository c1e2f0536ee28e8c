import { describe, expect, it } from 'vitest';
import type { MetricBatch } from '@userprobe/shared';
import type { IngestedEvent } from '../hub/ingest.js';
import { LiveRun } from './live-run.js';

const agents = [{ agentId: 'a1', name: 'one', location: 'ams3' }];

function event(runId: string, seq: number, values: number[], opts: { duplicate?: boolean; ended?: boolean } = {}): IngestedEvent {
  const batch = {
    runId,
    agentId: 'a1',
    seq,
    createdAt: 0,
    samples: values.map((value, i) => ({ sessionId: `s${seq}-${i}`, metric: 'api_create', value, ts: 0 })),
    sessions: opts.ended === false ? [] : values.map((_, i) => ({ sessionId: `s${seq}-${i}`, status: 'ok' })),
  } as unknown as MetricBatch;
  return { runId, agentId: 'a1', seq, duplicate: opts.duplicate ?? false, samples: values.length, sessions: values.length, records: [], batch };
}

describe('LiveRun', () => {
  it('summarizes stored batches of its run once each: others, duplicates and empty batches change nothing', () => {
    const live = new LiveRun('r1', { scenario: 'chat-load', agents });
    expect(live.firstSampleAt).toBeNull();
    live.add(event('r1', 1, []), 5);
    expect(live.firstSampleAt).toBeNull();
    live.add(event('r1', 2, [100, 200]), 10);
    const first = live.summary();
    expect(first.metrics.find((m) => m.metric === 'api_create')!.count).toBe(2);
    expect(live.summary()).toBe(first); // nothing new: the same summary, not made again
    live.add(event('r2', 3, [300]), 20);
    live.add(event('r1', 2, [100, 200], { duplicate: true }), 20);
    expect(live.summary()).toBe(first);
    live.add(event('r1', 4, [400]), 30);
    const second = live.summary();
    expect(second).not.toBe(first);
    expect(second.metrics.find((m) => m.metric === 'api_create')!.count).toBe(3);
    expect(live.firstSampleAt).toBe(10);
  });

  it("keeps samples of sessions that have not ended out of the percentiles, as the run's end will", () => {
    const live = new LiveRun('r1', { scenario: 'chat-load', agents });
    live.add(event('r1', 1, [100], { ended: false }), 1);
    const s = live.summary();
    expect(s.metrics.find((m) => m.metric === 'api_create')!.count).toBe(0);
    expect(s.partial).toEqual({ sessions: 1, samples: 1 });
  });
});
