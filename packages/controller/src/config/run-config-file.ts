import { configKeyFlag, flagConfigKey } from '@userprobe/shared';
import { configProblemsError } from './config-file.js';

/*
 * `controller run --config FILE`: a load test written down once — scenario,
 * total, ramp, target, thresholds, every flag of `controller run` — as a YAML
 * mapping whose keys are the flags' names (`ramp-up` or `rampUp`):
 *
 *   scenario: chat-load
 *   total: 200
 *   ramp-up: 60s
 *   threshold:
 *     - api_create:p95<800ms
 *     - sessions:error-rate<5%,abort-on-fail
 *
 * The file stands for the flags it holds: each value goes through the same
 * checks as the flag. A flag given on the command line wins over the file's
 * value; a repeatable flag (--threshold, --profile-var, …) adds to the file's
 * list. Secrets are never read from the file (PROBE_TOKEN, PROBE_DB_URL).
 */

/** The run flags (camelCase) a file may set, and which of them are repeatable. */
export interface RunFlagSpec {
  readonly known: readonly string[];
  readonly repeatable: ReadonlySet<string>;
}

/** Keys a run config file may not hold, with what to use instead. */
const REFUSED: Readonly<Record<string, string>> = {
  token: 'the master secret is read from PROBE_TOKEN, never from a file',
  db: 'the MySQL URL holds a password: it is read from PROBE_DB_URL (or --db), never from this file',
  config: 'a run config file cannot name another one',
};

const found = (v: unknown): string =>
  v === null || v === undefined
    ? 'no value'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : typeof v === 'boolean'
          ? `${v} (a yes/no)`
          : `a ${typeof v}`;
/** A config key as the file writes it: `rampUp` → `ramp-up`. */
const configKey = (name: string): string => configKeyFlag(name).slice(2);
const scalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * Pure: the command-line arguments a run config document stands for, leaving
 * out flags given on the command line (`given`, camelCase) unless repeatable.
 * Every problem is reported at once, each naming its key, what was found and
 * what is accepted.
 */
export function runConfigArgs(doc: unknown, file: string, given: ReadonlySet<string>, spec: RunFlagSpec): string[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw configProblemsError(file, [
      `expected a mapping of run flags (e.g. "scenario: chat-load", "total: 20"); found ${doc === null || doc === undefined ? 'nothing' : found(doc)}`,
    ]);
  }
  const known = new Set(spec.known);
  const problems: string[] = [];
  const args: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const name = flagConfigKey(key);
    const flag = configKeyFlag(name);
    if (name in REFUSED) {
      problems.push(`${key}: ${REFUSED[name]}`);
      continue;
    }
    if (!known.has(name)) {
      const accepted = spec.known.filter((k) => !(k in REFUSED));
      const near = accepted
        .filter((k) => k.toLowerCase().startsWith(name.toLowerCase().slice(0, 4)) || name.toLowerCase().startsWith(k.toLowerCase()))
        .map(configKey);
      problems.push(
        `${key}: not a flag of controller run${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; accepted: ${accepted.map(configKey).join(', ')}`,
      );
      continue;
    }
    const repeatable = spec.repeatable.has(name);
    if (given.has(name) && !repeatable) continue; // the command line wins
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    if (Array.isArray(value) && !repeatable) {
      problems.push(`${key}: a list, but ${flag} takes one value`);
      continue;
    }
    const bad = values.find((v) => !scalar(v) || (typeof v === 'boolean' && repeatable));
    if (bad !== undefined || values.length === 0) {
      problems.push(
        `${key}: ${values.length === 0 ? 'an empty list' : found(bad)} is not accepted; write a value as on the command line (${flag} VALUE)${repeatable ? ', or a list of them' : ''}`,
      );
      continue;
    }
    for (const v of values) {
      if (v === true) args.push(flag);
      else if (v === false) args.push(`--no-${configKey(name)}`);
      else args.push(flag, String(v));
    }
  }
  if (problems.length > 0) throw configProblemsError(file, problems);
  return args;
}
