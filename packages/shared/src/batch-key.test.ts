import { describe, expect, it } from 'vitest';
import { batchKey } from './batch-key.js';

describe('batchKey', () => {
  it('is <runId>/<agentId>#<seq>', () => {
    expect(batchKey({ runId: 'run-1', agentId: 'agent-a', seq: 7 })).toBe('run-1/agent-a#7');
  });
  it('tells apart batches whose ids would run together in a naive join', () => {
    const ids = [
      { runId: 'r1', agentId: 'a', seq: 12 },
      { runId: 'r1', agentId: 'a1', seq: 2 },
      { runId: 'r1a', agentId: '', seq: 12 },
      { runId: 'r', agentId: '1a', seq: 12 },
      { runId: 'r1', agentId: 'a', seq: 1 },
      { runId: 'r1:a', agentId: 'b', seq: 1 },
      { runId: 'r1', agentId: 'a:b', seq: 1 },
    ];
    expect(new Set(ids.map(batchKey)).size).toBe(ids.length);
  });
  it('takes a whole batch (extra fields ignored)', () => {
    const batch = { runId: 'r', agentId: 'a', seq: 1, createdAt: 0, samples: [], sessions: [] };
    expect(batchKey(batch)).toBe(batchKey({ runId: 'r', agentId: 'a', seq: 1 }));
  });
});
