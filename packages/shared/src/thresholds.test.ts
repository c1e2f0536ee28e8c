import { describe, expect, it } from 'vitest';
import { ThresholdEntrySchema, parseThreshold, parseThresholdFlag, thresholdEntryOf, thresholdOfEntry } from './thresholds.js';

describe('parseThreshold', () => {
  it.each([
    ['api_create:p95<800ms', { metric: 'api_create', detail: null, stat: 'p95', op: '<', value: 800, text: 'api_create:p95<800ms' }],
    ['api_create:p95<800', { value: 800, text: 'api_create:p95<800' }],
    ['msg_visitor_to_agent:max <= 1.5s', { stat: 'max', op: '<=', value: 1500, text: 'msg_visitor_to_agent:max<=1.5s' }],
    [' page_load : mean > 10 ms ', { stat: 'mean', op: '>', value: 10, text: 'page_load:mean>10ms' }],
    ['api_init:p90>=3s', { stat: 'p90', op: '>=', value: 3000 }],
    ['api_create:error-rate<5%', { stat: 'error-rate', value: 0.05 }],
    ['sessions:error-rate<=0.5%', { metric: 'sessions', stat: 'error-rate', op: '<=', value: 0.005 }],
    ['api_request{create}:p99<2s', { metric: 'api_request', detail: 'create', value: 2000, text: 'api_request{create}:p99<2s' }],
  ])('%s', (expr, want) => {
    const r = parseThreshold(expr);
    expect(r).toHaveProperty('ok');
    expect((r as { ok: object }).ok).toMatchObject({ abortOnFail: false, minSamples: 20, delayMs: 10_000, ...want });
  });

  it.each([
    ['api_create<800', 'is not a threshold; accepted: METRIC[{DETAIL}]:STAT OP VALUE'],
    ['api_create:p95=800', 'is not a threshold'],
    ['api_create:p42<800', 'unknown statistic "p42"; accepted: p50, p90, p95, p99, max, mean, error-rate'],
    ['api_creat:p95<800ms', "api_creat is not a catalog metric (docs/metrics.md): a custom scenario module's metric takes a plain number"],
    [
      `${'x'.repeat(49)}:p95<800`,
      `unknown metric "${'x'.repeat(49)}"; accepted: a metric of the catalog (docs/metrics.md), 'sessions', or a metric a custom scenario module declares`,
    ],
    ['sessions:p95<800', 'sessions takes only error-rate'],
    ['sessions{x}:error-rate<1%', 'sessions has no detail'],
    ['api_create:error-rate<5', 'error-rate takes a percentage such as 5%'],
    ['api_create:error-rate<120%', 'error-rate is at most 100%'],
    ['api_create:p95<5%', 'api_create is in ms: write the value as 800ms or 1.5s'],
  ])('%s is refused: %s', (expr, message) => {
    const r = parseThreshold(expr);
    expect(r).toHaveProperty('problem');
    expect((r as { problem: string }).problem).toContain(message);
  });

  it('takes options: abort-on-fail, min-samples, delay', () => {
    expect(parseThresholdFlag('api_create:p95<800ms,abort-on-fail,min-samples=5,delay=2s')).toMatchObject({
      ok: { abortOnFail: true, minSamples: 5, delayMs: 2000 },
    });
    expect(parseThresholdFlag('api_create:p95<800ms,abort')).toMatchObject({ problem: expect.stringContaining('unknown option "abort"; accepted') });
    expect(parseThresholdFlag('api_create:p95<800ms,min-samples=0')).toMatchObject({
      problem: expect.stringContaining('min-samples must be a whole number ≥ 1'),
    });
    expect(parseThresholdFlag('api_create:p95<800ms,delay=soon')).toMatchObject({ problem: expect.stringContaining('delay "soon" is not a duration') });
  });

  it("a profile's entries validate as written and round-trip through run-state.json's form", () => {
    const entries = ['api_create:p95<800ms', { threshold: 'sessions:error-rate<2%', abortOnFail: true, minSamples: 4, delay: '1s' }];
    for (const e of entries) {
      const parsed = ThresholdEntrySchema.parse(e);
      expect(parsed).toEqual(e); // kept as written: agents re-validate the profile
      const t = thresholdOfEntry(parsed);
      expect(thresholdOfEntry(ThresholdEntrySchema.parse(thresholdEntryOf(t)))).toEqual(t);
    }
    const bad = ThresholdEntrySchema.safeParse({ threshold: 'api_create:p95<800ms', abortOnFail: 'yes' });
    expect(bad.success).toBe(false);
    const badExpr = ThresholdEntrySchema.safeParse('api_create:p95 under 800');
    expect(badExpr.success).toBe(false);
    expect(badExpr.error?.issues[0]?.message).toContain('is not a threshold');
  });
});
