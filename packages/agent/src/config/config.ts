import { z } from 'zod';
import {
  BROWSER_KINDS,
  CapacitySchema,
  ConfigError,
  HELLO_MAX_LABELS,
  HelloSchema,
  IdSchema,
  LABEL_KEY_MAX_CHARS,
  LABEL_VALUE_MAX_CHARS,
  LabelsSchema,
  MAX_CAPACITY,
  formatIssues,
  parseCapacity,
  type BrowserKind,
  type Capacity,
} from '@userprobe/shared';
import { isAbsolute, resolve } from 'node:path';
import { CAPACITY_MEM_SHARE, SESSIONS_PER_CORE, SESSION_MEM_MB, VIDEO_CALLS_PER_CORE } from './limits.js';
import { controllerUrlProblem } from '../trust/controller-trust.js';
import { parseHostPattern } from '../trust/host-policy.js';

/*
 * The agent's configuration: CLI flags + environment → one validated,
 * deep-frozen object that is passed down. Nothing below reads process.env.
 *
 * Environment: PROBE_CONTROLLER_URL, PROBE_TOKEN (prefer it to --token: flags
 * show in `ps`), PROBE_CA_FILE (instead of --ca), PROBE_ALLOW_HOSTS and
 * PROBE_SECRET_ENV (lists separated by commas or spaces, instead of
 * --allow-host / --secret-env: a flag given replaces the variable),
 * CHROMIUM_PATH (full Chromium), CHROMIUM_SHELL_PATH (headless shell).
 *
 * Trust (trust/): the controller URL is https, or http to loopback, or
 * --allow-plain-http; --allow-host patterns, --scenario-dir folders and
 * --secret-env names are checked here, once, and frozen with the rest.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_CHROMIUM_PATH = '/usr/lib/chromium/chromium';
export const DEFAULT_SHELL_PATH = '/usr/lib/chromium/chromium-headless-shell';

/** What the CLI hands over (already typed by yargs, not yet validated). */
export interface AgentFlags {
  controller?: string | undefined;
  token?: string | undefined;
  name?: string | undefined;
  id?: string | undefined;
  capacity?: readonly string[] | undefined;
  labels?: readonly string[] | undefined;
  spool?: string | undefined;
  browser?: string | undefined;
  browserPath?: string | undefined;
  shellPath?: string | undefined;
  logLevel?: string | undefined;
  /** `--ca FILE`: the controller's CA, pinned (instead of the system CAs). */
  ca?: string | undefined;
  allowPlainHttp?: boolean | undefined;
  /** `--scenario-dir DIR` (repeatable). */
  scenarioDir?: readonly string[] | undefined;
  /** `--allow-host HOST` (repeatable). */
  allowHost?: readonly string[] | undefined;
  /** `--secret-env NAME` (repeatable). */
  secretEnv?: readonly string[] | undefined;
}

/** What `--secret-env` accepts: an environment variable name as profiles write them. */
const EnvNameSchema = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name like TENANT_AGENT_PASSWORD');

export interface MachineFacts {
  readonly cpus: number;
  readonly memMb: number;
  readonly hostname: string;
  readonly platform: string;
  readonly homeDir: string;
}

const ConfigSchema = z.strictObject({
  controllerUrl: z.string().url('an absolute URL such as https://controller.example.com:7077'),
  token: HelloSchema.shape.token,
  name: HelloSchema.shape.name,
  /** null: resolve the stable id persisted in the spool root (see agent-id.ts). */
  agentId: IdSchema.nullable(),
  labels: LabelsSchema,
  capacity: CapacitySchema,
  spoolRoot: z.string().min(1),
  browser: z.strictObject({
    kind: z.enum(BROWSER_KINDS),
    chromiumPath: z.string().min(1),
    shellPath: z.string().min(1),
  }),
  logLevel: z.enum(LOG_LEVELS),
  host: HelloSchema.shape.host,
  /** The pinned controller CA file (`--ca` / PROBE_CA_FILE), read by the agent at start; null: the system CAs. */
  caFile: z.string().min(1).nullable(),
  /** `--allow-plain-http`: dial a non-loopback controller over plain HTTP. */
  allowPlainHttp: z.boolean(),
  /** Absolute folders custom scenario modules may be loaded from. */
  scenarioDirs: z.array(z.string().min(1)),
  /** Host patterns the browser may open (trust/host-policy.ts). */
  allowHosts: z.array(z.string().min(1)),
  /** Variables a target profile's credentials may read. */
  secretEnv: z.array(EnvNameSchema),
});
export type AgentConfig = Readonly<z.infer<typeof ConfigSchema>>;

/**
 * Default capacity, from the machine (measured in PLATFORM.md):
 * - chat-load and cobrowse: min(cores × 10, ⌊0.75 × memory / 80 MB⌋), at least 1
 *   (a session in the shared browser costs ~16–80 MB PSS; CPU is the real limit);
 * - video-call: max(1, ⌊cores × 1.3⌋) — a two-way call costs 60–70 % of a core.
 */
export function defaultCapacity(m: Pick<MachineFacts, 'cpus' | 'memMb'>): Capacity {
  const byCpu = m.cpus * SESSIONS_PER_CORE;
  const byMem = Math.floor((m.memMb * CAPACITY_MEM_SHARE) / SESSION_MEM_MB);
  const chatLike = Math.min(MAX_CAPACITY, Math.max(1, Math.min(byCpu, byMem)));
  return { 'chat-load': chatLike, cobrowse: chatLike, 'video-call': Math.min(MAX_CAPACITY, Math.max(1, Math.floor(m.cpus * VIDEO_CALLS_PER_CORE))) };
}

/** Shared with the controller, which checks its local agents' `--capacity` at start. */
export { parseCapacity };

/** `--labels region=ams3,k=v` (repeatable) → a record; keys are lower-case words. */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of values) {
    for (const pair of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ConfigError(`--labels: "${pair}" is not accepted; use key=value pairs separated by commas, e.g. region=ams3,tier=small`);
      out[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const r = LabelsSchema.safeParse(out);
  if (!r.success) {
    throw new ConfigError(
      `--labels: ${formatIssues(r.error)} (at most ${HELLO_MAX_LABELS} labels; keys: a lower-case letter then up to ${LABEL_KEY_MAX_CHARS - 1} of a-z 0-9 _ . -; values up to ${LABEL_VALUE_MAX_CHARS} characters)`,
    );
  }
  return r.data;
}

function isBrowserKind(s: string): s is BrowserKind {
  return (BROWSER_KINDS as readonly string[]).includes(s);
}

const FLAG_OF: Record<string, string> = {
  controllerUrl: '--controller (or PROBE_CONTROLLER_URL)',
  token: '--token (or PROBE_TOKEN)',
  name: '--name',
  agentId: '--id',
  spoolRoot: '--spool',
  logLevel: '--log-level',
  caFile: '--ca (or PROBE_CA_FILE)',
  scenarioDirs: '--scenario-dir',
  allowHosts: '--allow-host',
  secretEnv: '--secret-env',
};

/** A list flag, else its environment variable split on commas and spaces. */
function listOf(flag: readonly string[] | undefined, env: string | undefined): string[] {
  if (flag !== undefined && flag.length > 0) return [...new Set(flag)];
  return [...new Set((env ?? '').split(/[\s,]+/).filter(Boolean))];
}

/** Flags + environment + machine → the validated, frozen config. Pure. */
export function buildConfig(flags: AgentFlags, env: Readonly<Record<string, string | undefined>>, machine: MachineFacts): AgentConfig {
  const kind = flags.browser ?? 'shell';
  if (!isBrowserKind(kind)) throw new ConfigError(`--browser: "${kind}" is not accepted; use one of ${BROWSER_KINDS.join(', ')}`);
  const stateHome = env['XDG_STATE_HOME'] || `${machine.homeDir}/.local/state`;
  const candidate = {
    controllerUrl: flags.controller ?? env['PROBE_CONTROLLER_URL'],
    token: flags.token ?? env['PROBE_TOKEN'],
    name: flags.name ?? machine.hostname.slice(0, 64),
    agentId: flags.id ?? null,
    labels: parseLabels(flags.labels ?? []),
    capacity: parseCapacity(flags.capacity ?? [], defaultCapacity(machine)),
    spoolRoot: flags.spool ?? `${stateHome}/userprobe/agent-spool`,
    browser: {
      kind,
      chromiumPath: flags.browserPath ?? env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH,
      shellPath: flags.shellPath ?? env['CHROMIUM_SHELL_PATH'] ?? DEFAULT_SHELL_PATH,
    },
    logLevel: flags.logLevel ?? 'info',
    host: { cpus: machine.cpus, memMb: machine.memMb, platform: machine.platform.slice(0, 32) },
    caFile: flags.ca ?? (env['PROBE_CA_FILE'] || null),
    allowPlainHttp: flags.allowPlainHttp ?? false,
    scenarioDirs: [...new Set((flags.scenarioDir ?? []).map((d) => (isAbsolute(d) ? d : resolve(d))))],
    allowHosts: listOf(flags.allowHost, env['PROBE_ALLOW_HOSTS']),
    secretEnv: listOf(flags.secretEnv, env['PROBE_SECRET_ENV']),
  };
  for (const h of candidate.allowHosts) parseHostPattern(h);
  const r = ConfigSchema.safeParse(candidate);
  if (!r.success) {
    const first = r.error.issues[0]!;
    const key = String(first.path[0] ?? '');
    const what = FLAG_OF[key] ?? key;
    const missing = first.code === 'invalid_type' && (candidate as Record<string, unknown>)[key] === undefined;
    throw new ConfigError(missing ? `${what} is required` : `${what}: ${first.message}`);
  }
  const urlProblem = controllerUrlProblem(r.data.controllerUrl, r.data.allowPlainHttp);
  if (urlProblem !== null) throw new ConfigError(urlProblem);
  return deepFreeze(r.data);
}

/** What `agent --check-profile` needs: the browser, what it may open and read, the log level. */
export interface CheckConfig {
  readonly browser: AgentConfig['browser'];
  readonly allowHosts: readonly string[];
  readonly secretEnv: readonly string[];
  readonly logLevel: LogLevel;
}

/** Flags + environment → the check mode's config (no controller, spool or capacity). Pure. */
export function buildCheckConfig(flags: AgentFlags, env: Readonly<Record<string, string | undefined>>): CheckConfig {
  const kind = flags.browser ?? 'shell';
  if (!isBrowserKind(kind)) throw new ConfigError(`--browser: "${kind}" is not accepted; use one of ${BROWSER_KINDS.join(', ')}`);
  const allowHosts = listOf(flags.allowHost, env['PROBE_ALLOW_HOSTS']);
  for (const h of allowHosts) parseHostPattern(h);
  const logLevel = flags.logLevel ?? 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError(`--log-level: "${logLevel}" is not accepted; use one of ${LOG_LEVELS.join(', ')}`);
  return deepFreeze({
    browser: {
      kind,
      chromiumPath: flags.browserPath ?? env['CHROMIUM_PATH'] ?? DEFAULT_CHROMIUM_PATH,
      shellPath: flags.shellPath ?? env['CHROMIUM_SHELL_PATH'] ?? DEFAULT_SHELL_PATH,
    },
    allowHosts,
    secretEnv: listOf(flags.secretEnv, env['PROBE_SECRET_ENV']),
    logLevel: logLevel as LogLevel,
  });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
