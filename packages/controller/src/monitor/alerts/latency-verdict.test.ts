import { describe, expect, it } from 'vitest';
import type { AlertPolicy } from './alert-policy.js';
import { latencyVerdict, newAlert, type AlertState, type RoundObservation } from './alert-engine.js';

type Rule = NonNullable<AlertPolicy['latency']>;
const RULE: Rule = {
  metrics: ['api_create'],
  stat: 'p95',
  includeSaturated: false,
  aboveMs: null,
  factor: 2,
  minDeltaMs: 100,
  minBaseline: 3,
  baselineRounds: 50,
  k: 2,
  n: 3,
};

function observed(value: number | undefined, status: 'ok' | 'failed' | 'gap' = 'ok'): RoundObservation {
  return {
    report: {
      check: 'chat',
      location: 'ams3',
      slotAt: 0,
      startedAt: status === 'gap' ? null : 1,
      endedAt: 2,
      status,
      runId: null,
      scenario: 'chat-load',
      targetName: 'demo',
      agents: [],
      sessions: { planned: 1, ok: 1, failed: 0 },
      reason: null,
      failedStep: null,
      exitCode: 0,
    },
    metrics: value === undefined ? {} : { api_create: value },
    topError: null,
    evidence: null,
    summary: null,
  };
}

function withBaselineOf(values: number[]): AlertState {
  const s = newAlert('chat', 'ams3', 'latency', 'api_create', 0);
  return { ...s, memory: { ...s.memory, baseline: values } };
}

// The bar is the smaller of the absolute limit and the baseline bar; the baseline bar is the larger of factor × baseline
// and baseline + minDelta, and the message names whichever applied.
describe('latencyVerdict: the threshold, and the words that name it', () => {
  it.each([
    // fast metric: 2 × 15 = 30 is noise; 15 + 100 = 115 applies
    {
      base: [14, 15, 16],
      value: 114,
      rule: {},
      bad: false,
      threshold: 115,
      says: 'api_create p95 114 ms within 115 ms (its baseline 15 ms, the median of the last 3 good rounds, + 100 ms)',
    },
    { base: [14, 15, 16], value: 116, rule: {}, bad: true, threshold: 115, says: 'api_create p95 116 ms over 115 ms (its baseline 15 ms' },
    // slow metric: 2 × 300 = 600 beats 300 + 100
    { base: [290, 300, 310], value: 601, rule: {}, bad: true, threshold: 600, says: 'api_create p95 601 ms over 2× its baseline 300 ms' },
    { base: [290, 300, 310], value: 599, rule: {}, bad: false, threshold: 600, says: 'within 2× its baseline 300 ms' },
    // an absolute limit below the baseline bar applies and is named
    { base: [290, 300, 310], value: 501, rule: { aboveMs: 500 }, bad: true, threshold: 500, says: 'api_create p95 501 ms over the limit 500 ms' },
    // an absolute limit alone, no baseline yet
    { base: [], value: 499, rule: { aboveMs: 500, factor: null }, bad: false, threshold: 500, says: 'within the limit 500 ms' },
    // a wider minimum excess (the alerts drill's): 15 + 1000
    {
      base: [15, 15, 15],
      value: 900,
      rule: { minDeltaMs: 1_000 },
      bad: false,
      threshold: 1_015,
      says: 'within 1015 ms (its baseline 15 ms, the median of the last 3 good rounds, + 1000 ms)',
    },
  ])('baseline $base, value $value, $rule → bad $bad at $threshold', ({ base, value, rule, bad, threshold, says }) => {
    const v = latencyVerdict(observed(value), 'api_create', withBaselineOf(base), { ...RULE, ...rule });
    expect(v).not.toBeNull();
    expect(v!.bad).toBe(bad);
    expect(v!.threshold).toBe(threshold);
    expect(v!.detail).toContain(says);
  });

  it('judges nothing while the baseline forms, and nothing for a round without the metric or one that did not run', () => {
    const forming = latencyVerdict(observed(5_000), 'api_create', withBaselineOf([15, 15]), RULE);
    expect(forming).toMatchObject({ bad: false, threshold: null });
    expect(forming!.detail).toBe('api_create p95 5000 ms (baseline forming: 2 of 3 rounds)');
    expect(latencyVerdict(observed(undefined), 'api_create', withBaselineOf([15, 15, 15]), RULE)).toBeNull();
    expect(latencyVerdict(observed(5_000, 'gap'), 'api_create', withBaselineOf([15, 15, 15]), RULE)).toBeNull();
  });
});
