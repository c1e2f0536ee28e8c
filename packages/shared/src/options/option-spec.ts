import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { TargetProfile } from '../profile.js';
import { parseDuration } from './duration.js';
import { countRange, durationRange, formatInRange, rangeProblem, rangeText, type OptionRange } from './ranges.js';

/**
 * One operator option, described once: its flag, its help, its default, how
 * the flag's text becomes a value (and the one line a bad value is refused
 * with), and the value's schema on the wire. The scenario options
 * (scenario-options.ts) are a table of these; the CLI flags, the config, the
 * run parameters and the assignment are derived from that table
 * (scenario-option-bag.ts).
 */
export interface OptionSpec<T, P extends boolean = boolean> {
  /** The flag, kebab-case without the dashes (`think-time`); its config key is the camelCase (`thinkTime`). */
  readonly flag: string;
  /** How the command line types it (yargs' `type`). */
  readonly flagType: 'string' | 'number' | 'boolean';
  /** The values a choice accepts (yargs' `choices`); null for other kinds. */
  readonly choices: readonly string[] | null;
  /** What the option does, for --help and the README (no default, no range: those come from the fields below). */
  readonly help: string;
  /** A realistic use, as typed: `--think-time 20s-40s`. */
  readonly example: string;
  /** What the flag accepts, in words: "a whole number from 1 to 100". */
  readonly accepted: string;
  /** The range a numeric option is checked against (null: not numeric). */
  readonly range: OptionRange | null;
  /** The value without the flag (for an option with a profile fallback: when the profile has none either). */
  readonly default: T;
  /** The default as the operator reads it in --help and the README: `5s`, `the profile's, else 30s`. */
  readonly defaultText: string;
  /** The target profile's value, used when the flag is not given (the step and session timeouts); null: the profile has no say. */
  readonly fromProfile: P extends true ? (profile: TargetProfile) => T | undefined : null;
  /** The value on the wire: what an agent's assignment schema accepts. */
  readonly schema: z.ZodType<T, T>;
  /** The flag's value (text, or what the CLI parser made of it) → the value; a ConfigError naming the flag and what is accepted. Pure. */
  parse(raw: unknown): T;
}

interface Described {
  readonly flag: string;
  readonly help: string;
  readonly example: string;
}

const problem = (flag: string, raw: unknown, accepted: string) =>
  new ConfigError(`--${flag}: ${JSON.stringify(raw) ?? String(raw)} is not accepted; accepted: ${accepted}`);

/** A CLI parser yields numbers; YAML and tests may give "3". Anything else is NaN, which rangeProblem calls "not a number". */
function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  return Number.NaN;
}

function checked(flag: string, value: number, range: OptionRange): number {
  const p = rangeProblem(`--${flag}`, value, range);
  if (p !== null) throw new ConfigError(p);
  return value;
}

const ranged = (range: OptionRange) => z.number().int().min(range.min).max(range.max);

/** A whole number in [min, max]: message exchanges, samples. */
export function countOption(o: Described & { readonly min: number; readonly max: number; readonly default: number }): OptionSpec<number, false> {
  const range = countRange(o.min, o.max);
  return {
    flag: o.flag,
    help: o.help,
    example: o.example,
    flagType: 'number',
    choices: null,
    accepted: rangeText(range),
    range,
    default: o.default,
    defaultText: String(o.default),
    fromProfile: null,
    schema: ranged(range),
    parse: (raw) => checked(o.flag, toNumber(raw), range),
  };
}

interface DurationInput extends Described {
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** A duration in [min, max] ms, written `30s`, `2m`, `500ms` or plain ms; with `fromProfile`, the profile's value wins over the default. */
export function durationOption(o: DurationInput & { readonly fromProfile: (profile: TargetProfile) => number | undefined }): OptionSpec<number, true>;
export function durationOption(o: DurationInput): OptionSpec<number, false>;
export function durationOption(o: DurationInput & { readonly fromProfile?: (profile: TargetProfile) => number | undefined }): OptionSpec<number> {
  const range = durationRange(o.min, o.max);
  const defaultText = formatInRange(o.default, 'duration');
  return {
    flag: o.flag,
    help: o.help,
    example: o.example,
    flagType: 'string',
    choices: null,
    accepted: rangeText(range),
    range,
    default: o.default,
    defaultText: o.fromProfile ? `the profile's, else ${defaultText}` : defaultText,
    fromProfile: o.fromProfile ?? null,
    schema: ranged(range),
    parse: (raw) => checked(o.flag, parseDuration(typeof raw === 'number' ? raw : String(raw), `--${o.flag}`), range),
  };
}

/** One of a closed set of words: a mode. */
export function choiceOption<const V extends readonly [string, ...string[]]>(
  o: Described & { readonly values: V; readonly default: V[number] },
): OptionSpec<V[number], false> {
  const accepted = `${o.values
    .slice(0, -1)
    .map((v) => `"${v}"`)
    .join(', ')} or "${o.values.at(-1)!}"`;
  return {
    flag: o.flag,
    help: o.help,
    example: o.example,
    flagType: 'string',
    choices: o.values,
    accepted,
    range: null,
    default: o.default,
    defaultText: o.default,
    fromProfile: null,
    schema: z.enum(o.values),
    parse: (raw) => {
      if (typeof raw === 'string' && (o.values as readonly string[]).includes(raw)) return raw;
      throw problem(o.flag, raw, accepted);
    },
  };
}

/** On or off: `--flag` / `--no-flag`. */
export function toggleOption(o: Described & { readonly default: boolean }): OptionSpec<boolean, false> {
  const accepted = `--${o.flag} or --no-${o.flag}`;
  return {
    flag: o.flag,
    help: o.help,
    example: o.example,
    flagType: 'boolean',
    choices: null,
    accepted,
    range: null,
    default: o.default,
    defaultText: String(o.default),
    fromProfile: null,
    schema: z.boolean(),
    parse: (raw) => {
      if (typeof raw === 'boolean') return raw;
      throw problem(o.flag, raw, `true or false (${accepted})`);
    },
  };
}

/** A value with its own syntax (a think-time range): its parser says what it accepts. */
export function customOption<T>(
  o: Described & {
    readonly flagType: 'string' | 'number';
    readonly accepted: string;
    readonly default: T;
    readonly defaultText: string;
    readonly schema: z.ZodType<T, T>;
    /** The flag's text → the value, or a ConfigError starting `--flag: `. */
    readonly parse: (raw: string | number, flag: string) => T;
  },
): OptionSpec<T, false> {
  return {
    flag: o.flag,
    help: o.help,
    example: o.example,
    flagType: o.flagType,
    choices: null,
    accepted: o.accepted,
    range: null,
    default: o.default,
    defaultText: o.defaultText,
    fromProfile: null,
    schema: o.schema,
    parse: (raw) => {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw problem(o.flag, raw, o.accepted);
      return o.parse(raw, `--${o.flag}`);
    },
  };
}
