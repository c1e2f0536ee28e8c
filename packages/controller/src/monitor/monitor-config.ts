import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import {
  flagConfigKey,
  formatDuration,
  isDemoTarget,
  isProbeError,
  LABEL_VALUE_MAX_CHARS,
  parseDuration,
  SCENARIO_OPTIONS,
  SCENARIOS,
  type ScenarioName,
} from '@userprobe/shared';
import { deepFreeze, resolveRunConfig, type RunConfig } from '../config/config.js';
import { alertPolicy, alertSettings, AlertsRaw, RulesRaw, type AlertPolicy, type AlertSettings } from './alerts/alert-policy.js';
import { configProblemsError, readYamlConfig } from '../config/config-file.js';

/*
 * `monitor.yaml`: the checks `controller serve --config` runs. Validated once
 * at start (and at every SIGHUP reload) with every problem listed at once,
 * then frozen. A check's `options` are `controller run`'s own flags (their
 * names without `--`), resolved by the same code as the command line, so a
 * value means the same in both places and is refused with the same message.
 */

export const LOAD_TEST_POLICIES = ['keep', 'pause'] as const;
export type LoadTestPolicy = (typeof LOAD_TEST_POLICIES)[number];

/** The flags of `controller run` a check may set in `options`: every scenario option, and what else shapes a session — not where the controller listens. */
export const CHECK_OPTIONS: readonly string[] = [
  ...Object.values(SCENARIO_OPTIONS).map((o) => o.flag),
  'browser',
  'evidence-sessions',
  'evidence-bytes',
  'ramp-up',
  'profile-var',
  'demo-latency',
  'demo-error',
];

export const MIN_INTERVAL_MS = 1_000;
export const MAX_INTERVAL_MS = 24 * 3_600_000;
export const MAX_CHECKS = 100;
export const MAX_SESSIONS_PER_LOCATION = 100;
export const DEFAULT_RETENTION_EVERY_MS = 24 * 3_600_000;
export const DEFAULT_RAW_DAYS = 30;
/** The location of a check without `locations`: any connected agent. */
export const ANY_LOCATION = 'any';

export interface CheckLocations {
  /** The agent label that names a location (agents start with `--labels region=ams3`). */
  readonly label: string;
  readonly values: readonly string[];
}

export interface CheckConfig {
  readonly name: string;
  readonly scenario: ScenarioName;
  /** 'demo' or an absolute profile path (relative paths are resolved against the config file's folder). */
  readonly target: string;
  readonly intervalMs: number;
  readonly sessionsPerLocation: number;
  /** Null: one location, any agent. */
  readonly locations: CheckLocations | null;
  /** The check's run, as `controller run` would resolve its flags (total = sessions per location). */
  readonly run: RunConfig;
  /** What its alerts judge (alerts/alert-policy.ts): the check's `alerts:` over the file's over the defaults. */
  readonly alerts: AlertPolicy;
}

export interface MonitorConfig {
  readonly file: string;
  readonly checks: readonly CheckConfig[];
  readonly loadTests: LoadTestPolicy;
  readonly retention: { readonly everyMs: number; readonly rawDays: number };
  /** Where alerts go: the Slack webhook's environment variable, the Grafana and evidence base URLs. */
  readonly alerts: AlertSettings;
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const duration = z.union([z.string(), z.number()]);
const optionValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);

const CheckRaw = z.strictObject({
  name: z.string().regex(NAME, 'a lower-case letter, then up to 31 of a-z 0-9 -'),
  scenario: z.enum(SCENARIOS),
  'scenario-module': z.string().min(1).optional(),
  target: z.string().min(1).default('demo'),
  interval: duration,
  sessionsPerLocation: z.number().int().min(1).max(MAX_SESSIONS_PER_LOCATION).default(1),
  locations: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_.-]{0,31}$/, 'an agent label key (a lower-case letter then a-z 0-9 _ . -)'),
      z.array(z.string().min(1).max(LABEL_VALUE_MAX_CHARS)).min(1, 'at least one value'),
    )
    .optional(),
  options: z.record(z.string(), optionValue).default({}),
  alerts: RulesRaw.optional(),
});

const MonitorRaw = z.strictObject({
  loadTests: z.enum(LOAD_TEST_POLICIES).default('keep'),
  retention: z.strictObject({ every: duration.optional(), rawDays: z.number().int().min(1).max(3650).optional() }).default({}),
  checks: z.array(z.unknown()).min(1, 'at least one check').max(MAX_CHECKS),
  alerts: AlertsRaw.optional(),
});

/** Read, parse and validate a monitor config file; a ConfigError lists every problem found. */
export async function loadMonitorConfig(file: string): Promise<MonitorConfig> {
  const path = resolve(file);
  const raw = await readYamlConfig(file);
  return parseMonitorConfig(raw, path);
}

/** Pure but for resolving paths: every problem of the config, at once, in a ConfigError; else the frozen config. */
export function parseMonitorConfig(raw: unknown, file: string): MonitorConfig {
  const problems: string[] = [];
  const top = MonitorRaw.safeParse(raw ?? {});
  if (!top.success) {
    for (const i of top.error.issues)
      problems.push(
        issueLine(i.path, i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}; accepted: loadTests, retention, alerts, checks` : i.message),
      );
    throw configProblemsError(file, problems);
  }
  const checks: CheckConfig[] = [];
  const names = new Set<string>();
  top.data.checks.forEach((c, i) => {
    const at = (p: readonly PropertyKey[]) => ['checks', i, ...p];
    const r = CheckRaw.safeParse(c);
    if (!r.success) {
      for (const issue of r.error.issues) {
        const msg =
          issue.code === 'unrecognized_keys'
            ? `unknown key(s) ${issue.keys.join(', ')}; accepted: name, scenario, scenario-module, target, interval, sessionsPerLocation, locations, options, alerts`
            : issue.message;
        problems.push(issueLine(at(issue.path), msg));
      }
      return;
    }
    const d = r.data;
    const before = problems.length;
    if (names.has(d.name)) problems.push(issueLine(at(['name']), `"${d.name}" is used by another check; names are unique`));
    names.add(d.name);
    let intervalMs = 0;
    try {
      intervalMs = parseSpan(d.interval, 'interval');
      if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
        problems.push(
          issueLine(
            at(['interval']),
            `${formatDuration(intervalMs)} is out of range; accepted: ${formatDuration(MIN_INTERVAL_MS)} to ${formatDuration(MAX_INTERVAL_MS)}`,
          ),
        );
      }
    } catch (e) {
      problems.push(issueLine(at(['interval']), errorText(e)));
    }
    const locationKeys = Object.keys(d.locations ?? {});
    if (locationKeys.length > 1)
      problems.push(issueLine(at(['locations']), `one label names the locations, got ${locationKeys.join(', ')}; e.g. locations: { region: [ams3, nyc1] }`));
    const unknown = Object.keys(d.options).filter((k) => !CHECK_OPTIONS.includes(k));
    if (unknown.length) problems.push(issueLine(at(['options']), `unknown option(s) ${unknown.join(', ')}; accepted: ${CHECK_OPTIONS.join(', ')}`));
    if (problems.length > before) return;
    const target = isDemoTarget(d.target) ? d.target : isAbsolute(d.target) ? d.target : resolve(dirname(file), d.target);
    const scenarioModule =
      d['scenario-module'] === undefined ? undefined : isAbsolute(d['scenario-module']) ? d['scenario-module'] : resolve(dirname(file), d['scenario-module']);
    let run: RunConfig;
    try {
      // The flags `controller run` would get for one location's share of a round; listening fields are the daemon's, not the check's.
      run = resolveRunConfig(
        {
          scenario: d.scenario,
          total: d.sessionsPerLocation,
          target,
          host: '127.0.0.1',
          port: 0,
          token: 'check',
          // Fixed, so the same file resolves to the same check (a reload compares them); each round gets its own run id.
          runId: `check-${d.name}`,
          ...(scenarioModule === undefined ? {} : { scenarioModule }),
          ...Object.fromEntries(Object.entries(d.options).map(([k, v]) => [flagConfigKey(k), v])),
        },
        {},
      );
    } catch (e) {
      problems.push(issueLine(at(['options']), errorText(e).replace(/--([a-z-]+)/g, '$1')));
      return;
    }
    let alerts: AlertPolicy;
    try {
      alerts = alertPolicy(d.scenario, intervalMs, top.data.alerts, d.alerts);
    } catch (e) {
      problems.push(issueLine(at(['alerts']), errorText(e)));
      return;
    }
    const key = locationKeys[0];
    checks.push({
      alerts,
      name: d.name,
      scenario: d.scenario,
      target,
      intervalMs,
      sessionsPerLocation: d.sessionsPerLocation,
      locations: key === undefined ? null : { label: key, values: [...new Set(d.locations![key])] },
      run,
    });
  });
  let everyMs = DEFAULT_RETENTION_EVERY_MS;
  try {
    if (top.data.retention.every !== undefined) everyMs = parseSpan(top.data.retention.every, 'retention.every');
    if (everyMs < 60_000) problems.push(issueLine(['retention', 'every'], `${formatDuration(everyMs)} is too often; accepted: 1m or more (default 1d)`));
  } catch (e) {
    problems.push(issueLine(['retention', 'every'], errorText(e)));
  }
  if (problems.length > 0) throw configProblemsError(file, problems);
  return deepFreeze({
    file,
    checks,
    loadTests: top.data.loadTests,
    retention: { everyMs, rawDays: top.data.retention.rawDays ?? DEFAULT_RAW_DAYS },
    alerts: alertSettings(top.data.alerts),
  });
}

/** The locations a check runs from, by name. */
export function locationsOf(check: CheckConfig): readonly string[] {
  return check.locations === null ? [ANY_LOCATION] : check.locations.values;
}

/** Does an agent with these labels measure `location` of this check? */
export function agentInLocation(check: CheckConfig, labels: Readonly<Record<string, string>>, location: string): boolean {
  return check.locations === null ? location === ANY_LOCATION : labels[check.locations.label] === location;
}

/** A duration as run's flags take it, or whole days (`1d`, `7d`): schedules are long. */
function parseSpan(v: string | number, what: string): number {
  const days = typeof v === 'string' ? /^\s*(\d+)d\s*$/.exec(v) : null;
  return days ? Number(days[1]) * 86_400_000 : parseDuration(v, what);
}

function issueLine(path: readonly PropertyKey[], message: string): string {
  const p = path
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`))
    .join('')
    .replace(/^\./, '');
  return `${p || '(top level)'}: ${message}`;
}

function errorText(e: unknown): string {
  if (isProbeError(e)) return e.message;
  return e instanceof Error ? e.message : String(e);
}
