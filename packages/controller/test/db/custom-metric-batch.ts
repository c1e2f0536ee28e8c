import { MetricBatchSchema, type CustomMetricDef, type MetricBatch } from '@userprobe/shared';

/* Test support: a batch of a custom scenario module, as the agent sends it (samples of a custom metric plus its declaration). */

/** A custom metric the tests declare. */
export const CHECKOUT_METRIC: CustomMetricDef = {
  name: 'checkout_total',
  unit: 'ms',
  kind: 'core',
  description: 'From the cart button to the order confirmation',
};

/**
 * The batch plus one sample of `def` per value, in its sessions in turn (1 ms
 * after each session's first sample), and `def` in its declarations — validated
 * by the shared schema, as the controller receives it.
 */
export function withCustomMetric(b: MetricBatch, def: CustomMetricDef, values: readonly number[]): MetricBatch {
  const firsts = b.sessions.map((s) => b.samples.find((x) => x.sessionId === s.sessionId)!);
  if (firsts.length === 0) throw new Error('withCustomMetric needs a batch with sessions');
  const extra = values.map((value, i) => {
    const first = firsts[i % firsts.length]!;
    return { sessionId: first.sessionId, metric: def.name, value, ts: first.ts + 1 };
  });
  return MetricBatchSchema.parse({ ...b, samples: [...b.samples, ...extra], metrics: [...(b.metrics ?? []), def] });
}
