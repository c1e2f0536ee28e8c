import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import { DurableSpool } from './spool.js';
import { batch, notPrivate, tempDir } from '../../test/fixtures.js';

describe("DurableSpool (the controller's MySQL outage spool, under the results folder)", () => {
  it('is private like the results: folders 0700, entries 0600, rejected ones too', async () => {
    const tmp = await tempDir();
    try {
      const dir = join(tmp.dir, 'results', '.mysql-spool');
      const spool = await DurableSpool.open(dir, pino({ level: 'silent' }));
      const agent = { agentId: 'agent-1', name: 'a', labels: {}, capacity: { 'chat-load': 1, 'video-call': 0, cobrowse: 0 }, location: 'local' };
      await spool.append({ kind: 'batch', batch: batch(), agent, ctx: { scenario: 'chat-load', browser: 'shell' } });
      await spool.append({ kind: 'runEnded', runId: 'run-1', status: 'passed', endedAt: 1 });
      await spool.reject('test');
      expect(spool.size).toBe(1);
      expect(await notPrivate(join(tmp.dir, 'results'))).toEqual([]);
    } finally {
      await tmp.cleanup();
    }
  });
});
