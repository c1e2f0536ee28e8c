import { z } from 'zod';
import type { TargetProfile } from '../profile.js';
import type { OptionSpec } from './option-spec.js';
import { SCENARIO_OPTIONS } from './scenario-options.js';

/*
 * Everything the scenario options table (scenario-options.ts) is copied into,
 * derived from it: the assignment's `options` schema (what agents accept),
 * the operator's choices (config and run parameters), how flags become
 * choices, and how choices and the target profile become an assignment's
 * options.
 */

type Table = typeof SCENARIO_OPTIONS;
export type ScenarioOptionKey = keyof Table;

/** The keys whose value falls back on the target profile when the flag is not given. */
type ProfileKey = { [K in ScenarioOptionKey]: Table[K] extends OptionSpec<unknown, true> ? K : never }[ScenarioOptionKey];
type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;

/** On the wire an option with a profile fallback is required (the controller resolves it); the others default. */
type WireField<S> = S extends OptionSpec<infer T, true> ? z.ZodType<T, T> : S extends OptionSpec<infer T, false> ? z.ZodDefault<z.ZodType<T, T>> : never;

/** The table's entries, in its order. */
export const SCENARIO_OPTION_KEYS = Object.keys(SCENARIO_OPTIONS) as ScenarioOptionKey[];

const spec = (key: ScenarioOptionKey): OptionSpec<unknown> => SCENARIO_OPTIONS[key];

function wireShape(): { [K in ScenarioOptionKey]: WireField<Table[K]> } {
  const shape: Record<string, z.ZodType> = {};
  for (const key of SCENARIO_OPTION_KEYS) {
    const s = spec(key);
    shape[key] = s.fromProfile === null ? s.schema.default(s.default) : s.schema;
  }
  return shape as { [K in ScenarioOptionKey]: WireField<Table[K]> };
}

/** An assignment's `options`: one field per table entry, with its bounds and default. */
export const ScenarioOptionsSchema = z.strictObject(wireShape());
export type ScenarioOptions = z.infer<typeof ScenarioOptionsSchema>;

/**
 * What the operator chose for a run (the config's and the run parameters'
 * `options`): every option's value, or for one with a profile fallback null
 * when the flag was not given (the profile's value, else the default, once
 * the target profile is known: resolveScenarioOptions).
 */
export type ScenarioOptionChoices = { readonly [K in ScenarioOptionKey]: K extends ProfileKey ? ValueOf<Table[K]> | null : ValueOf<Table[K]> };

/** `think-time` → `thinkTime`: the config key of a flag (what yargs makes of it: the character after each hyphen upper-cased). */
export function flagConfigKey(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** `thinkTime` → `--think-time`: the flag of a config key (flagConfigKey's inverse for our flags, which have no hyphen before a digit). */
export function configKeyFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The config keys of the scenario options' flags, by option: `{ callDurationMs: 'callDuration', … }`. */
export const SCENARIO_OPTION_CONFIG_KEYS = Object.fromEntries(SCENARIO_OPTION_KEYS.map((k) => [k, flagConfigKey(spec(k).flag)])) as Readonly<
  Record<ScenarioOptionKey, string>
>;

/** Every option at its default (null where the profile decides), with `given` over them. Pure. */
export function defaultScenarioChoices(given: Partial<ScenarioOptionChoices> = {}): ScenarioOptionChoices {
  const out: Record<string, unknown> = {};
  for (const key of SCENARIO_OPTION_KEYS) {
    const s = spec(key);
    out[key] = given[key] !== undefined ? given[key] : s.fromProfile === null ? s.default : null;
  }
  return out as ScenarioOptionChoices;
}

/**
 * The flags given (by config key, `thinkTime: '10s-30s'`, or as written on
 * the command line and in a YAML file, `think-time: 10s-30s`; other keys are
 * ignored) → the choices; a flag not given takes its default. A bad value is
 * a ConfigError naming the flag and what it accepts (the first one, in the
 * table's order). Pure.
 */
export function scenarioChoicesFromFlags(flags: Readonly<Record<string, unknown>>): ScenarioOptionChoices {
  const given: Record<string, unknown> = {};
  for (const key of SCENARIO_OPTION_KEYS) {
    const raw = flags[SCENARIO_OPTION_CONFIG_KEYS[key]] ?? flags[spec(key).flag];
    if (raw !== undefined) given[key] = spec(key).parse(raw);
  }
  return defaultScenarioChoices(given);
}

/** What agents get: each choice, else (options with a profile fallback) the profile's value, else the default. Pure. */
export function resolveScenarioOptions(choices: ScenarioOptionChoices, profile: TargetProfile): ScenarioOptions {
  const out: Record<string, unknown> = {};
  for (const key of SCENARIO_OPTION_KEYS) {
    const s = spec(key);
    out[key] = choices[key] ?? (s.fromProfile === null ? undefined : s.fromProfile(profile)) ?? s.default;
  }
  return out as ScenarioOptions;
}
