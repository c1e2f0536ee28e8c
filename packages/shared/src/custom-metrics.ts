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

/**
 * A custom metric's name by its form only. On the wire (MetricBatch.metrics) that is all that is
 * checked: a name the catalog takes up later stays readable in an older agent's batches and
 * spool (the catalog wins: such a declaration is ignored, its samples count as the catalog
 * metric). A module's declarations are held to more when it loads (parseCustomMetrics).
 */
export const CustomMetricNameSchema = z.string().max(METRIC_NAME_MAX, NAME_ACCEPTED).regex(CUSTOM_METRIC_NAME, NAME_ACCEPTED);

/** Pure: could `name` be a custom metric's (its form; whether a module declares it is the run's business)? */
export function isCustomMetricName(name: string): boolean {
  return !isMetricName(name) && CustomMetricNameSchema.safeParse(name).success;
}

const DESCRIPTION_ACCEPTED = 'a text of 1-200 characters saying what is measured, from which event to which';

export const CustomMetricDefSchema = z.strictObject({
  name: CustomMetricNameSchema,
  unit: z.enum(METRIC_UNITS, { error: `one of ${METRIC_UNITS.join(', ')}` }),
  /** `core`: once per successful session (a failed session without it counts as an error of the metric); `extra`: zero or more times. */
  kind: z.enum(['core', 'extra'], { error: 'core (once per successful session) or extra (any number of times)' }),
  description: z.string({ error: DESCRIPTION_ACCEPTED }).min(1, DESCRIPTION_ACCEPTED).max(200, DESCRIPTION_ACCEPTED),
});
export type CustomMetricDef = z.infer<typeof CustomMetricDefSchema>;

/** The declarations a batch carries: the form of each; at most MAX_CUSTOM_METRICS. */
export const CustomMetricDefsSchema = z.array(CustomMetricDefSchema).max(MAX_CUSTOM_METRICS);

/**
 * Pure: the module's `metrics` checked as the agent does when it loads the module — each
 * declaration's form, and names of its own (not the catalog's), each once — every problem at once
 * (`metrics.1.unit: …`), in the order of the declarations; the declarations, frozen, when there is none.
 */
export function parseCustomMetrics(value: unknown): { ok: true; defs: readonly CustomMetricDef[] } | { ok: false; problems: string[] } {
  const r = CustomMetricDefsSchema.safeParse(value);
  const found: Array<[number, string]> = r.success
    ? []
    : schemaProblems(CustomMetricDefsSchema, r.error, value).map((p) => [Number(/^(\d+)\./.exec(p)?.[1] ?? -1), `metrics.${p}`]);
  // Names of its own, each once: checked on what was given, whatever else is wrong with it.
  if (Array.isArray(value)) {
    const seen = new Set<string>();
    value.forEach((d: unknown, i) => {
      const name = d !== null && typeof d === 'object' ? (d as { name?: unknown }).name : undefined;
      if (typeof name !== 'string') return;
      if (isMetricName(name))
        found.push([i, `metrics.${i}.name: is a built-in metric; a custom metric needs a name of its own (${NAME_ACCEPTED}); found: ${JSON.stringify(name)}`]);
      else if (seen.has(name)) found.push([i, `metrics.${i}.name: declares ${name} a second time; each name once; found: ${JSON.stringify(name)}`]);
      seen.add(name);
    });
  }
  if (found.length === 0 && r.success) return { ok: true, defs: Object.freeze(r.data.map((d) => Object.freeze(d))) };
  return { ok: false, problems: found.sort((a, b) => a[0] - b[0]).map(([, p]) => p) };
}

/** Pure: a batch's declarations without those the catalog defines (the catalog wins). */
export function ownDeclarations(defs: readonly CustomMetricDef[] | undefined): CustomMetricDef[] {
  return (defs ?? []).filter((d) => !isMetricName(d.name));
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
