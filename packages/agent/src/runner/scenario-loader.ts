import { access, realpath } from 'node:fs/promises';
import { extname, isAbsolute, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ERROR_CODES, ProbeError, parseCustomMetrics, schemaProblems } from '@userprobe/shared';
import type { Scenario } from './scenario-api.js';
import { SCENARIO_REGISTRY } from '../scenarios/index.js';

/*
 * Custom scenarios, loaded by file path: an ES module whose default export, or
 * named export `scenario`, is an object `{ name: string, run(ctx) }`
 * implementing `Scenario` (scenario-api.ts; documented in docs/scenario-api.md).
 * Node loads it as is: JavaScript (.mjs, or .js in an ESM package), not TypeScript.
 *
 * Importing a module runs its code in the agent, so a module is loaded only
 * from a folder the agent's own operator allows (`--scenario-dir`): its real
 * path (symbolic links resolved) must lie inside the real path of one of
 * them. Without a folder no module is loaded at all.
 */

/** What a scenario module must export, for error messages. */
export const SCENARIO_MODULE_ACCEPTED =
  "an ES module (.mjs or .js) whose default export or named export 'scenario' is an object { name: non-empty string, run(ctx): Promise<void>, metrics?: [{ name, unit, kind, description }], settings?: (z) => schema, sharesConsole?: boolean }";

/** File extensions Node imports as ES modules without a loader. */
const MODULE_EXTENSIONS: ReadonlySet<string> = new Set(['.mjs', '.js', '.cjs']);

/** A scenario that cannot be found or loaded: not built in, no such file, or a module of the wrong shape. */
export class ScenarioLoadError extends ProbeError {
  constructor(message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(ERROR_CODES.SCENARIO_UNKNOWN, message, options);
  }
}

/** Pure: a short description of a value, for "what was found". */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  if (typeof v !== 'object') return `a ${typeof v}`;
  const keys = Object.keys(v);
  return keys.length ? `an object with keys ${keys.slice(0, 8).join(', ')}` : 'an empty object';
}

/** Pure: what is wrong with a candidate scenario, or undefined when it has the accepted shape. */
export function scenarioShapeProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return `it is ${describeValue(v)}`;
  const o = v as { name?: unknown; run?: unknown };
  if (typeof o.name !== 'string' || o.name.length === 0) return `its 'name' is ${o.name === undefined ? 'missing' : describeValue(o.name)}`;
  if (typeof o.run !== 'function') return `its 'run' is ${o.run === undefined ? 'missing' : describeValue(o.run)}`;
  const { metrics, settings } = v as { metrics?: unknown; settings?: unknown };
  if (metrics !== undefined) {
    const r = parseCustomMetrics(metrics);
    if (!r.ok) return `its metrics are not accepted (${r.problems.length} problem(s)): ${r.problems.join('; ')}`;
  }
  if (settings !== undefined && typeof settings !== 'function') return `its 'settings' is ${describeValue(settings)}, not a function (z) => schema`;
  const { sharesConsole } = v as { sharesConsole?: unknown };
  if (sharesConsole !== undefined && typeof sharesConsole !== 'boolean') return `its 'sharesConsole' is ${describeValue(sharesConsole)}, not true or false`;
  return undefined;
}

/** Freeze a parsed value and everything in it (plain objects and arrays). */
function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Pure: the profile's `scenario:` section (`{}` when absent) as the scenario's `settings` schema
 * parses it, or every problem with its path (`scenario.greeting: …`). A scenario without
 * `settings` takes no section: one given is a problem.
 */
export function scenarioSettings(s: Pick<Scenario, 'name' | 'settings'>, section: unknown): { ok: true; value: unknown } | { ok: false; problems: string[] } {
  if (s.settings === undefined) {
    return section === undefined
      ? { ok: true, value: undefined }
      : { ok: false, problems: [`scenario: ${s.name} takes no settings (its module exports no settings schema); remove the section`] };
  }
  let schema: z.ZodType;
  try {
    schema = s.settings(z);
  } catch (e) {
    return { ok: false, problems: [`scenario: ${s.name}'s settings schema could not be built: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (!(schema instanceof z.ZodType)) return { ok: false, problems: [`scenario: ${s.name}'s settings(z) returned ${describeValue(schema)}, not a zod schema`] };
  // Checked as the profile's `scenario` field, so every path and "not a field of" reads as in the profile.
  const profile = z.strictObject({ scenario: schema });
  const input = { scenario: section ?? {} };
  let r: ReturnType<typeof profile.safeParse>;
  try {
    r = profile.safeParse(input);
  } catch (e) {
    // A refine or transform of the module's that throws (or is async) is the module's problem, named as such.
    return { ok: false, problems: [`scenario: ${s.name}'s settings schema failed while checking the section: ${e instanceof Error ? e.message : String(e)}`] };
  }
  // Every session gets the same settings: frozen, so one cannot change another's.
  if (r.success) return { ok: true, value: deepFreeze(r.data.scenario) };
  return { ok: false, problems: schemaProblems(profile, r.error, input) };
}

/** Pure: which export of a module namespace is the scenario (default first, then `scenario`). */
export function pickScenarioExport(ns: Readonly<Record<string, unknown>>): { value: unknown; from: string } | undefined {
  if (ns.default !== undefined) return { value: ns.default, from: 'default export' };
  if (ns.scenario !== undefined) return { value: ns.scenario, from: "export 'scenario'" };
  return undefined;
}

/** Pure: does this look like a file path rather than a scenario name? */
export function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || MODULE_EXTENSIONS.has(extname(s)) || isAbsolute(s);
}

/** Pure: is `file` (a real path) inside one of `dirs` (real paths)? */
export function isInside(file: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => file.startsWith(d.endsWith(sep) ? d : d + sep));
}

/** A module this agent's operator has not allowed (outside every --scenario-dir). */
export class ScenarioNotAllowedError extends ProbeError {
  constructor(message: string, options?: { detail?: Record<string, unknown> }) {
    super(ERROR_CODES.NOT_ALLOWED, message, options);
  }
}

/**
 * The real path of `path` when it lies inside one of `scenarioDirs` (real
 * paths compared), else ScenarioNotAllowedError. A path outside every folder
 * is refused before the file system is asked about it, so a controller learns
 * nothing about files outside them (not even whether they exist).
 */
async function allowedModulePath(path: string, abs: string, scenarioDirs: readonly string[]): Promise<string> {
  if (scenarioDirs.length === 0) {
    throw new ScenarioNotAllowedError(`${path}: this agent loads no scenario modules (its operator allows a folder of them with --scenario-dir DIR)`, {
      detail: { path: abs },
    });
  }
  const dirs = (await Promise.all(scenarioDirs.map((d) => realpath(d).catch(() => null)))).filter((d): d is string => d !== null);
  const outside = (shown: string): ScenarioNotAllowedError =>
    new ScenarioNotAllowedError(
      `${path}: ${shown} is outside the folders this agent loads scenario modules from (${scenarioDirs.join(', ')}; --scenario-dir)`,
      { detail: { path: abs } },
    );
  if (!isInside(abs, [...scenarioDirs.map((d) => resolve(d)), ...dirs])) throw outside(abs);
  let real: string;
  try {
    real = await realpath(abs);
  } catch (e) {
    throw new ScenarioLoadError(`${path}: no scenario module at ${abs}; accepted: ${SCENARIO_MODULE_ACCEPTED}`, { cause: e, detail: { path: abs } });
  }
  // Inside by name, but a link may lead out.
  if (!isInside(real, dirs)) throw outside(`${abs} (really ${real})`);
  return real;
}

/**
 * Load the scenario module at `path` (relative to the working directory) and
 * check its shape; only from inside `scenarioDirs` (see above).
 */
export async function loadScenarioModule(path: string, scenarioDirs: readonly string[]): Promise<Scenario> {
  const abs = await allowedModulePath(path, resolve(path), scenarioDirs);
  try {
    await access(abs);
  } catch (e) {
    throw new ScenarioLoadError(`${path}: no scenario module at ${abs}; accepted: ${SCENARIO_MODULE_ACCEPTED}`, { cause: e, detail: { path: abs } });
  }
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ScenarioLoadError(`${path}: the module did not load (${why}); accepted: ${SCENARIO_MODULE_ACCEPTED}`, { cause: e, detail: { path: abs } });
  }
  const picked = pickScenarioExport(ns);
  if (!picked) {
    const exports = Object.keys(ns);
    throw new ScenarioLoadError(
      `${path}: found ${exports.length ? `exports ${exports.join(', ')}` : 'no exports'} but no default export or 'scenario' export; accepted: ${SCENARIO_MODULE_ACCEPTED}`,
      { detail: { path: abs, exports } },
    );
  }
  const problem = scenarioShapeProblem(picked.value);
  if (problem !== undefined) {
    throw new ScenarioLoadError(`${path}: the ${picked.from} is not a scenario: ${problem}; accepted: ${SCENARIO_MODULE_ACCEPTED}`, {
      detail: { path: abs, found: describeValue(picked.value) },
    });
  }
  // What was checked is what runs: the declarations as parsed (frozen), not the module's live array.
  const s = picked.value as Scenario;
  const parsed = s.metrics === undefined ? undefined : parseCustomMetrics(s.metrics);
  return Object.freeze({
    name: s.name,
    run: (ctx: Parameters<Scenario['run']>[0]) => s.run(ctx),
    ...(parsed?.ok ? { metrics: parsed.defs } : {}),
    ...(s.settings === undefined ? {} : { settings: s.settings.bind(s) }),
    ...(s.sharesConsole === true ? { sharesConsole: true } : {}),
  });
}

/**
 * A built-in scenario by name (looked up first), or a custom one by file path
 * inside `scenarioDirs`. A bare word that is not built in is refused, naming
 * the built-ins and how to give a path.
 */
export async function resolveScenario(nameOrPath: string, scenarioDirs: readonly string[]): Promise<Scenario> {
  const builtIn = SCENARIO_REGISTRY.get(nameOrPath);
  if (builtIn) return builtIn;
  if (!looksLikePath(nameOrPath)) {
    throw new ScenarioLoadError(
      `unknown scenario '${nameOrPath}'; built in: ${[...SCENARIO_REGISTRY.keys()].join(', ')}; or the path of a module (./my-scenario.mjs): ${SCENARIO_MODULE_ACCEPTED}`,
      { detail: { scenario: nameOrPath } },
    );
  }
  return loadScenarioModule(nameOrPath, scenarioDirs);
}
