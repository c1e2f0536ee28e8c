import { z } from 'zod';
import { coreMetrics, parseDuration, type ScenarioName } from '@userprobe/shared';

/**
 * What the alert engine judges, per check: `alerts:` at the top of
 * monitor.yaml (defaults for every check, the Slack webhook, the Grafana
 * link) and `alerts:` in a check (its own values). Every key has a default
 * that makes sense without any config: a failure alert when most sessions of
 * 2 of the last 3 rounds failed, a latency alert when a core metric's p95 is
 * twice its baseline (and 100 ms over it) in 2 of 3 rounds, no data after 3
 * intervals without a round, a dark location after 2 rounds without an agent.
 */
export const ALERT_KINDS = ['failure', 'latency', 'no-data', 'dark'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const SEVERITIES = ['degraded', 'failed'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const LATENCY_STATS = ['p50', 'p95'] as const;

export interface FailureRule {
  /** A round is bad when at least this share of its sessions failed (0 < share ≤ 1). */
  readonly share: number;
  /** Fire when k of the last n judged rounds are bad. */
  readonly k: number;
  readonly n: number;
}

export interface LatencyRule {
  /** The metrics judged (default: the scenario's core metrics). */
  readonly metrics: readonly string[];
  readonly stat: (typeof LATENCY_STATS)[number];
  /** Judge samples taken while the agent's CPU was saturated too (default false: they are not trusted). */
  readonly includeSaturated: boolean;
  /** Absolute limit in ms (null: none), and/or the baseline factor with a minimum excess in ms. */
  readonly aboveMs: number | null;
  readonly factor: number | null;
  readonly minDeltaMs: number;
  /** Rounds the baseline needs before it judges; the baseline keeps the last `baselineRounds` good values (median). */
  readonly minBaseline: number;
  readonly baselineRounds: number;
  readonly k: number;
  readonly n: number;
}

export interface AlertPolicy {
  readonly failure: FailureRule | null;
  readonly latency: LatencyRule | null;
  /** Fire when no round started anywhere for this many intervals (null: off). */
  readonly noDataIntervals: number | null;
  /** Fire when a location had only gaps (no agent) for this many consecutive rounds (null: off). */
  readonly darkRounds: number | null;
  /** Resolve after this many consecutive good rounds (flap suppression on the way down). */
  readonly clearRounds: number;
  /** A firing alert is reminded about every this long (null: never). */
  readonly remindEveryMs: number | null;
  /** An alert firing again within this long of its resolution is flapping: no new messages until it settles. */
  readonly flapWindowMs: number;
  /** Fire across locations only when at least this many locations agree (1: each location alerts on its own). */
  readonly agree: number;
}

export interface AlertSettings {
  /** The environment variable holding the Slack incoming webhook URL (never in the file, never logged). */
  readonly webhookEnv: string;
  /** Base URL of Grafana for absolute dashboard links (null: no link). */
  readonly grafanaUrl: string | null;
  /** Base URL under which the controller's results folder is reachable, for evidence links (null: the path on the controller). */
  readonly evidenceUrl: string | null;
}

const duration = z.union([z.string(), z.number()]);
const kOfN = { k: z.number().int().min(1).max(20).optional(), n: z.number().int().min(1).max(20).optional() };
export const RulesRaw = z.strictObject({
  failure: z.union([z.literal(false), z.strictObject({ share: z.number().gt(0).max(1).optional(), ...kOfN })]).optional(),
  latency: z
    .union([
      z.literal(false),
      z.strictObject({
        metrics: z.array(z.string().min(1)).min(1).optional(),
        stat: z.enum(LATENCY_STATS).optional(),
        includeSaturated: z.boolean().optional(),
        above: duration.optional(),
        factor: z.number().gt(1).max(100).optional(),
        minDelta: duration.optional(),
        minBaseline: z.number().int().min(1).max(1000).optional(),
        ...kOfN,
      }),
    ])
    .optional(),
  noData: z.union([z.literal(false), z.strictObject({ intervals: z.number().int().min(1).max(1000) })]).optional(),
  dark: z.union([z.literal(false), z.strictObject({ rounds: z.number().int().min(1).max(1000) })]).optional(),
  clearRounds: z.number().int().min(1).max(20).optional(),
  remindEvery: z.union([z.literal(false), duration]).optional(),
  flapWindow: duration.optional(),
  agree: z.number().int().min(1).max(100).optional(),
});
export type RulesInput = z.infer<typeof RulesRaw>;

export const AlertsRaw = RulesRaw.extend({
  slack: z.strictObject({ webhookEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name') }).optional(),
  grafanaUrl: z.url().optional(),
  evidenceUrl: z.url().optional(),
});
export type AlertsInput = z.infer<typeof AlertsRaw>;

export const DEFAULT_WEBHOOK_ENV = 'PROBE_SLACK_WEBHOOK_URL';

export function alertSettings(a: AlertsInput | undefined): AlertSettings {
  return {
    webhookEnv: a?.slack?.webhookEnv ?? DEFAULT_WEBHOOK_ENV,
    grafanaUrl: a?.grafanaUrl?.replace(/\/+$/, '') ?? null,
    evidenceUrl: a?.evidenceUrl?.replace(/\/+$/, '') ?? null,
  };
}

const ms = (v: string | number, what: string) => parseDuration(v, what);

/** The check's policy: its own values over the top-level ones over the defaults. Throws a ConfigError on a bad duration. */
export function alertPolicy(scenario: ScenarioName, intervalMs: number, top: RulesInput | undefined, own: RulesInput | undefined): AlertPolicy {
  const pick = <K extends keyof RulesInput>(k: K): RulesInput[K] => (own?.[k] !== undefined ? own[k] : top?.[k]);
  const f = pick('failure');
  const l = pick('latency');
  const nd = pick('noData');
  const dk = pick('dark');
  const remind = pick('remindEvery');
  return {
    failure: f === false ? null : { share: f?.share ?? 0.5, k: f?.k ?? 2, n: Math.max(f?.n ?? 3, f?.k ?? 2) },
    latency:
      l === false
        ? null
        : {
            metrics: l?.metrics ?? [...coreMetrics(scenario)],
            stat: l?.stat ?? 'p95',
            includeSaturated: l?.includeSaturated ?? false,
            aboveMs: l?.above === undefined ? null : ms(l.above, 'alerts.latency.above'),
            factor: l?.factor ?? (l?.above === undefined ? 2 : null),
            minDeltaMs: l?.minDelta === undefined ? 100 : ms(l.minDelta, 'alerts.latency.minDelta'),
            minBaseline: l?.minBaseline ?? 5,
            baselineRounds: 50,
            k: l?.k ?? 2,
            n: Math.max(l?.n ?? 3, l?.k ?? 2),
          },
    noDataIntervals: nd === false ? null : (nd?.intervals ?? 3),
    darkRounds: dk === false ? null : (dk?.rounds ?? 2),
    clearRounds: pick('clearRounds') ?? 2,
    remindEveryMs: remind === false ? null : remind === undefined ? 4 * 3_600_000 : ms(remind, 'alerts.remindEvery'),
    flapWindowMs: pick('flapWindow') === undefined ? Math.max(10 * intervalMs, 600_000) : ms(pick('flapWindow')!, 'alerts.flapWindow'),
    agree: pick('agree') ?? 1,
  };
}
