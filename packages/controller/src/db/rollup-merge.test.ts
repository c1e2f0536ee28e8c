import { describe, expect, it } from 'vitest';
import { coreMetrics } from '@userprobe/shared';
import { mergeRollups } from './rollup-merge.js';

const chatCore = coreMetrics('chat-load');

describe('mergeRollups', () => {
  it('no failures: percentile rows with zero errors', () => {
    expect(mergeRollups([{ metric: 'api_init', scenario: 'chat-load', location: 'fra1', count: 3, p50: 2, p95: 3, max: 3 }], [])).toEqual([
      { metric: 'api_init', scenario: 'chat-load', location: 'fra1', count: 3, errors: 0, p50: 2, p95: 3, max: 3 },
    ]);
  });

  it('a failed session counts an error for every core metric it did not record', () => {
    const rows = mergeRollups(
      [{ metric: 'page_load', scenario: 'chat-load', location: 'fra1', count: 1, p50: 900, p95: 900, max: 900 }],
      [{ scenario: 'chat-load', location: 'fra1', recorded: ['page_load'] }],
    );
    expect(rows).toHaveLength(chatCore.length);
    expect(rows.find((r) => r.metric === 'page_load')).toMatchObject({ count: 1, errors: 0 });
    expect(rows.find((r) => r.metric === 'api_create')).toEqual({
      metric: 'api_create',
      scenario: 'chat-load',
      location: 'fra1',
      count: 0,
      errors: 1,
      p50: null,
      p95: null,
      max: null,
    });
  });

  it('errors add up per location and ignore unknown scenarios', () => {
    const rows = mergeRollups(
      [],
      [
        { scenario: 'chat-load', location: 'a', recorded: [] },
        { scenario: 'chat-load', location: 'a', recorded: ['api_init'] },
        { scenario: 'chat-load', location: 'b', recorded: [] },
        { scenario: 'nope', location: 'a', recorded: [] },
      ],
    );
    expect(rows.find((r) => r.metric === 'api_init' && r.location === 'a')?.errors).toBe(1);
    expect(rows.find((r) => r.metric === 'api_create' && r.location === 'a')?.errors).toBe(2);
    expect(rows.find((r) => r.metric === 'api_create' && r.location === 'b')?.errors).toBe(1);
    expect(rows).toHaveLength(2 * chatCore.length);
  });
});
