import { z } from 'zod';
import { isMetricName, METRICS, METRIC_UNITS, type MetricUnit } from './metrics.js';
import { schemaProblems } from './schema-problems.js';

/*
 * Metrics a custom scenario module declares (docs/scenario-api.md): a name outside the
 * catalog, its unit, its kind and a description. The agent checks the declaration when it
 * loads the module; every batch carrying samples of a custom metric carries its declaration
 * (MetricBatch.metrics), so the results folder (metrics.json), MySQL (custom_metrics) and the
 * summary know its unit wherever the batch lands, also after a replay or a re-adoption.
 */

/** Longest metric name (the `metric` column is VARCHAR(48)). */
export const METRIC_NAME_MAX = 48;
/** How many metrics one module may declare. */
export const MAX_CUSTOM_METRICS = 50;
export const CUSTOM_METRIC_NAME = /^[a-z][a-z0-9_]*$/;
const NAME_ACCEPTED = `lower-case letters, digits and _, starting with a letter, at most ${METRIC_NAME_MAX} characters, not a built-in metric name (docs/metrics.md)`;

const DESCRIPTION_ACCEPTED = 'a text of 1-200 characters saying what is measured, from which event to which';

export const CustomMetricNameSchema = z
  .string()
  .max(METRIC_NAME_MAX, NAME_ACCEPTED)
  .regex(CUSTOM_METRIC_NAME, NAME_ACCEPTED)
  .refine((n) => !isMetricName(n), { message: `is a built-in metric; a custom metric needs a name of its own (${NAME_ACCEPTED})` });

/** Pure: could `name` be a custom metric's (the name's form; whether a module declares it is the run's business)? */
export function isCustomMetricName(name: string): boolean {
  return CustomMetricNameSchema.safeParse(name).success;
}

export const CustomMetricDefSchema = z.strictObject({
  name: CustomMetricNameSchema,
  unit: z.enum(METRIC_UNITS, { error: `one of ${METRIC_UNITS.join(', ')}` }),
  /** `core`: once per successful session (a failed session without it counts as an error of the metric); `extra`: zero or more times. */
  kind: z.enum(['core', 'extra'], { error: 'core (once per successful session) or extra (any number of times)' }),
  description: z.string({ error: DESCRIPTION_ACCEPTED }).min(1, DESCRIPTION_ACCEPTED).max(200, DESCRIPTION_ACCEPTED),
});
export type CustomMetricDef = z.infer<typeof CustomMetricDefSchema>;

export const CustomMetricDefsSchema = z
  .array(CustomMetricDefSchema)
  .max(MAX_CUSTOM_METRICS)
  .superRefine((defs, ctx) => {
    const seen = new Set<string>();
    defs.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `declares ${d.name} a second time; each name once` });
      seen.add(d.name);
    });
  });

/** Pure: the module's `metrics` checked, every problem at once (`metrics.1.unit: …`); the declarations when there is none. */
export function parseCustomMetrics(value: unknown): { ok: true; defs: CustomMetricDef[] } | { ok: false; problems: string[] } {
  const r = CustomMetricDefsSchema.safeParse(value);
  if (r.success) return { ok: true, defs: r.data };
  return { ok: false, problems: schemaProblems(CustomMetricDefsSchema, r.error, value).map((p) => `metrics.${p}`) };
}

/** Pure: a metric's unit, from the catalog or the run's declarations; undefined when neither knows it. */
export function metricUnit(metric: string, declared: readonly CustomMetricDef[] = []): MetricUnit | undefined {
  if (isMetricName(metric)) return METRICS[metric].unit;
  return declared.find((d) => d.name === metric)?.unit;
}

/** Pure: declarations merged by name, the later winning (a run's batches may bring the same ones again). */
export function mergeCustomMetrics(a: readonly CustomMetricDef[], b: readonly CustomMetricDef[]): CustomMetricDef[] {
  const byName = new Map(a.map((d) => [d.name, d]));
  for (const d of b) byName.set(d.name, d);
  return [...byName.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
