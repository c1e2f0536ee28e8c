import { describe, expect, it } from 'vitest';
import type { CustomMetricDef, Sample } from '@userprobe/shared';
import { declarationsFor } from './batcher.js';

const def = (name: string): CustomMetricDef => ({ name, unit: 'ms', kind: 'core', description: `${name} described` });
const sample = (metric: string): Sample => ({ sessionId: 's1', metric, value: 1, ts: Date.UTC(2026, 0, 1) });

describe('a batch carries the declarations of the custom metrics its samples name (pure)', () => {
  const declared = [def('login_ms'), def('greeting_ms')];
  const cases: Array<[string, Sample[], boolean, string[]]> = [
    ['catalog metrics only: none', [sample('page_load'), sample('api_init')], false, []],
    ['one custom metric: its declaration', [sample('page_load'), sample('login_ms'), sample('login_ms')], false, ['login_ms']],
    ['both, in declaration order', [sample('greeting_ms'), sample('login_ms')], false, ['login_ms', 'greeting_ms']],
    ['no samples: none', [], false, []],
    // A session that failed before recording a declared core metric: the controller still learns of it.
    ['a batch that ends sessions: all of them, recorded or not', [sample('page_load')], true, ['login_ms', 'greeting_ms']],
  ];
  for (const [name, samples, endsSessions, expected] of cases)
    it(name, () => expect(declarationsFor(samples, declared, endsSessions).map((d) => d.name)).toEqual(expected));
});
