import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  AGENT_LOSS_GRACE_MS,
  AGENT_WAIT_TIMEOUT_MS,
  DRAIN_TIMEOUT_MS,
  SCENARIOS,
  BROWSER_KINDS,
  BUNDLED_PROFILES,
  ConfigError,
  configKeyFlag,
  formatIssues,
  EVIDENCE_BUDGET_BYTES,
  EVIDENCE_BUDGET_SESSIONS,
  MAX_SESSION_TIMEOUT_MS,
  SCENARIO_OPTION_CONFIG_KEYS,
  formatDuration,
  isDemoTarget,
  parseCapacity,
  parseDuration,
  rangeProblem,
  resolveScenarioOptions,
  scenarioChoicesFromFlags,
  scenarioSectionProblem,
  sharedConsoleProblem,
  type BrowserKind,
  type TargetProfile,
  type ScenarioName,
  type ScenarioOptionChoices,
  type ThinkTime,
  parseThresholdFlag,
  type Threshold,
} from '@userprobe/shared';
import { resolve as resolvePath } from 'node:path';
import { ON_AGENT_LOSS, type OnAgentLoss } from '../run/run-state-schema.js';
import { OPTION_RANGES, type RangedOption } from './option-ranges.js';

/*
 * CLI flags + environment → one validated, deep-frozen config object, made
 * once at the edge and passed down. Unknown keys and bad values are
 * ConfigErrors that name the flag and say what is accepted.
 */

export const DEFAULT_PORT = 7077;
/** The operator API's token (PROBE_OPERATOR_TOKEN): long enough not to be guessed. */
export const MIN_OPERATOR_TOKEN_CHARS = 16;
export const DEFAULT_OUT_DIR = 'results';
/** Without --ramp-up, sessions start one per second (kept 40 sessions accurate on 2 cores; PLATFORM.md). */
export const DEFAULT_RAMP_PER_SESSION_MS = 1_000;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The default browser, and why: the old headless shell costs ~7× less CPU and
 * ~3.7× less memory per session than full Chromium on the project's 2-core
 * machines (0.23 vs 1.6 CPU-s, ~16 vs ~60 MB PSS) and keeps timings steadier
 * under load (PLATFORM.md). `--browser chromium` (new headless, closer to what
 * visitors run: its rendering and paint metrics can differ) is the deliberate
 * choice for rendering-sensitive measurements; every summary and sample says
 * which one measured it.
 */
export const DEFAULT_BROWSER = 'shell' as const;

/**
 * What a chat session needs besides its pauses, at least: page loads, the
 * exchanges, the reads at the end (a minute is what one session takes on a
 * loaded 2-core agent; the session timeout's default is 2 minutes).
 */
export const SESSION_WORK_ALLOWANCE_MS = 60_000;

/**
 * A chat session's think pauses ((messages − 1) × the longest pause) plus
 * SESSION_WORK_ALLOWANCE_MS must fit in the session timeout; null when they do,
 * else what to change. Pure.
 */
export function thinkTimeProblem(p: { messages: number; thinkTime: ThinkTime; sessionTimeoutMs: number }): string | null {
  const pausesMs = (p.messages - 1) * p.thinkTime.maxMs;
  if (pausesMs === 0 || pausesMs + SESSION_WORK_ALLOWANCE_MS <= p.sessionTimeoutMs) return null;
  const needMs = pausesMs + SESSION_WORK_ALLOWANCE_MS;
  const fix =
    needMs <= MAX_SESSION_TIMEOUT_MS
      ? `raise --session-timeout to at least ${formatDuration(Math.ceil(needMs / 60_000) * 60_000)}, or shorten --think-time`
      : `lower --messages or --think-time (the session timeout is at most ${formatDuration(MAX_SESSION_TIMEOUT_MS)})`;
  return (
    `--think-time up to ${formatDuration(p.thinkTime.maxMs)} between ${p.messages} messages pauses up to ${formatDuration(pausesMs)}, ` +
    `which with ${formatDuration(SESSION_WORK_ALLOWANCE_MS)} for the session's own work does not fit the session timeout ${formatDuration(p.sessionTimeoutMs)}; ${fix}`
  );
}

/** Pure: the run's scenario paces chat exchanges (chat-load, or a custom scenario, which may): --think-time applies. */
export function isChatPaced(cfg: Pick<RunConfig, 'scenario' | 'scenarioModule'>): boolean {
  return cfg.scenario === 'chat-load' || cfg.scenarioModule !== null;
}

/**
 * What keeps a run's options from working on its target profile, said before anything starts (by
 * `controller run`, and by `controller serve` for each check of its monitor config, at load and at
 * reload): think pauses that do not fit the session timeout, --chats-per-console on a profile without
 * what sharing a console needs, a scenario whose section the profile lacks. Null when none. Pure.
 */
export function runProfileProblem(cfg: Pick<RunConfig, 'scenario' | 'scenarioModule' | 'options'>, profile: TargetProfile): string | null {
  const options = resolveScenarioOptions(cfg.options, profile);
  return (
    (isChatPaced(cfg) ? thinkTimeProblem(options) : null) ??
    (cfg.scenario === 'chat-load' ? sharedConsoleProblem(options.chatsPerConsole, profile) : null) ??
    scenarioSectionProblem(profile, cfg.scenario, cfg.scenarioModule)
  );
}

/** Pure: --browser wins; else the target profile's `browser`; else DEFAULT_BROWSER. Says where the choice came from. */

export function chooseBrowser(
  cfg: Pick<RunConfig, 'browser' | 'browserFromFlag'>,
  profileBrowser: BrowserKind | undefined,
): { browser: BrowserKind; source: 'flag' | 'profile' | 'default' } {
  if (cfg.browserFromFlag) return { browser: cfg.browser, source: 'flag' };
  if (profileBrowser !== undefined) return { browser: profileBrowser, source: 'profile' };
  return { browser: DEFAULT_BROWSER, source: 'default' };
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1_048_576,
  gib: 1_073_741_824,
  tib: 1024 ** 4,
};

/** `200MB`, `1.5GiB`, `5000000` → bytes. */
export function parseBytes(v: string | number, flag: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(v));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ConfigError(`${flag}: "${String(v)}" is not a size; use bytes or a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB (e.g. 200MB)`);
  return Math.round(Number(m[1]) * unit);
}

export interface Env {
  readonly PROBE_TOKEN?: string | undefined;
  readonly PROBE_DB_URL?: string | undefined;
  /** The operator API's bearer token (controller serve; required with --config). */
  readonly PROBE_OPERATOR_TOKEN?: string | undefined;
}

/** The hub's certificate and key files (`--tls-cert`, `--tls-key`), read when the hub starts (tls-files.ts). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface CommonConfig {
  readonly host: string;
  readonly port: number;
  /** The master secret agents' tokens are derived from (agent-token.ts). Never logged. */
  readonly token: string;
  /** HTTPS for the hub (`--tls-cert`, `--tls-key`); null: plain HTTP, allowed on loopback or with --allow-plain-http. */
  readonly tls: TlsFiles | null;
  /** `--allow-plain-http`: listen without TLS on a non-loopback interface (the token and every batch cross the network readable). */
  readonly allowPlainHttp: boolean;
  /** `--allow-shared-token`: accept the master secret itself from any agent (no per-agent identity). */
  readonly allowSharedToken: boolean;
  /** `--revoked-agents FILE`: agent ids refused whatever their token; null: none. */
  readonly revokedAgentsFile: string | null;
  readonly outDir: string;
  readonly logLevel: LogLevel;
  /** Reserved for the MySQL sink (`--db` / PROBE_DB_URL). */
  readonly dbUrl: string | null;
  readonly drainTimeoutMs: number;
  /** How long an agent may be away mid-run before its share is judged lost (`--loss-grace`). */
  readonly lossGraceMs: number;
}

export interface RunConfig extends CommonConfig {
  readonly command: 'run';
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly total: number;
  /** 'demo' or a profile path. */
  readonly target: string;
  /** The browser: --browser, else the profile's `browser` (run-command), else DEFAULT_BROWSER. */
  readonly browser: BrowserKind;
  /** True when --browser was given (it wins over the profile's `browser`). */
  readonly browserFromFlag: boolean;
  readonly rampUpMs: number;
  readonly durationMs: number | null;
  readonly expectAgents: number;
  readonly localAgents: number;
  readonly agentWaitMs: number;
  /** Passed to each local agent as `--capacity V` (the agent's format: N or SCENARIO=N). */
  readonly localCapacity: readonly string[];
  /** The agent CLI to spawn for --local-agents (null: the workspace's packages/agent/dist/cli.js). */
  readonly agentCli: string | null;
  /** The scenario options (packages/shared options/scenario-options.ts): what every agent's assignment carries. */
  readonly options: ScenarioOptionChoices;
  /** Per-run evidence budget: sessions with evidence stored, and their bytes. */
  readonly evidenceSessions: number;
  readonly evidenceBytes: number;
  readonly json: boolean;
  readonly demoLatency: readonly string[];
  readonly demoError: readonly string[];
  /** `--profile-var NAME=VALUE`: fills `${NAME}` in the target profile. */
  readonly profileVars: Readonly<Record<string, string>>;
  /** `--scenario-module PATH`: a custom scenario module (absolute path), run with --scenario's capacity. */
  readonly scenarioModule: string | null;
  /** `--threshold EXPR[,options]` (repeatable): judged with the profile's `thresholds:` when the run closes. */
  readonly thresholds: readonly Threshold[];
  /** `--junit FILE`: the run as a JUnit XML report (results/junit-report.ts); null: none. */
  readonly junitFile: string | null;
  /** A lost agent's unstarted sessions go to other agents (reassign), or the run fails (fail). */
  readonly onAgentLoss: OnAgentLoss;
}

export interface ServeConfig extends CommonConfig {
  readonly command: 'serve';
  /** `--config monitor.yaml`: run these checks (the monitoring daemon); null: hub and ingest only. */
  readonly configFile: string | null;
  /** PROBE_OPERATOR_TOKEN: the operator API is served with it (required with --config); null: no API. Never logged. */
  readonly operatorToken: string | null;
  readonly localAgents: number;
  readonly localCapacity: readonly string[];
  readonly agentCli: string | null;
}

const durationOf = (flag: string) => z.union([z.string(), z.number()]).transform((v) => parseDuration(v, flag));
const optDuration = (flag: string) => durationOf(flag).optional();
/** Any number (NaN and fractions included, as a CLI parser yields them): checkRanges says what is accepted. */
const numeric = z.custom<number>((v) => typeof v === 'number', 'a number');
const strings = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));

const CommonRaw = {
  host: z.string().min(1).optional(),
  port: numeric.default(DEFAULT_PORT),
  token: z.string().min(1).optional(),
  out: z.string().min(1).default(DEFAULT_OUT_DIR),
  logLevel: z.enum(LOG_LEVELS).default('warn'),
  db: z.string().min(1).optional(),
  drainTimeout: optDuration('--drain-timeout'),
  lossGrace: optDuration('--loss-grace'),
  tlsCert: z.string().min(1).optional(),
  tlsKey: z.string().min(1).optional(),
  allowPlainHttp: z.boolean().default(false),
  allowSharedToken: z.boolean().default(false),
  revokedAgents: z.string().min(1).optional(),
};

const RunRaw = z.strictObject({
  ...CommonRaw,
  runId: z
    .string()
    .regex(/^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,63}$/, 'an id of 1-64 characters from A-Z a-z 0-9 . _ : - (not starting with ".")')
    .optional(),
  scenario: z.enum(SCENARIOS),
  total: numeric,
  target: z.string().min(1).default('demo'),
  browser: z.enum(BROWSER_KINDS).optional(),
  rampUp: optDuration('--ramp-up'),
  duration: optDuration('--duration'),
  expectAgents: numeric.optional(),
  localAgents: numeric.default(0),
  agentWait: optDuration('--agent-wait'),
  capacity: z
    .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
    .optional()
    .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String))),
  agentCli: z.string().min(1).optional(),
  evidenceSessions: numeric.default(EVIDENCE_BUDGET_SESSIONS),
  evidenceBytes: z
    .union([z.string(), z.number()])
    .optional()
    .transform((v) => (v === undefined ? EVIDENCE_BUDGET_BYTES : parseBytes(v, '--evidence-bytes'))),
  json: z.boolean().default(false),
  demoLatency: strings,
  demoError: strings,
  profileVar: strings,
  scenarioModule: z.string().min(1).optional(),
  onAgentLoss: z.enum(ON_AGENT_LOSS).default('reassign'),
  threshold: strings,
  junit: z.string().min(1).optional(),
  // The scenario options: their table in packages/shared parses and checks them (scenarioChoicesFromFlags).
  ...Object.fromEntries(Object.values(SCENARIO_OPTION_CONFIG_KEYS).map((k) => [k, z.unknown().optional()])),
});

/** Every `--threshold` → its Threshold; all problems at once in one ConfigError. */
export function parseThresholdFlags(flags: readonly string[]): Threshold[] {
  const out: Threshold[] = [];
  const problems: string[] = [];
  for (const f of flags) {
    const r = parseThresholdFlag(f);
    if ('ok' in r) out.push(r.ok);
    else problems.push(r.problem);
  }
  if (problems.length) throw new ConfigError(`--threshold: ${problems.join('; ')}`);
  return out;
}

/** `NAME=VALUE` pairs → a record; names as profile placeholders accept them (`${NAME}`). */
export function parseProfileVars(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(p);
    if (!m)
      throw new ConfigError(
        `--profile-var: "${p}" is not NAME=VALUE; accepted: a name of letters, digits and _ (not starting with a digit), "=", then the value, e.g. TENANT_SITE_URL=https://www.example.com`,
      );
    out[m[1]!] = m[2]!;
  }
  return out;
}

const ServeRaw = z.strictObject({
  ...CommonRaw,
  config: z.string().min(1).optional(),
  localAgents: numeric.default(0),
  capacity: z
    .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
    .optional()
    .transform((v) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String))),
  agentCli: z.string().min(1).optional(),
});

function parseRaw<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  try {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const first = r.error.issues[0]!;
    if (first.code === 'unrecognized_keys') {
      throw new ConfigError(`unknown option(s): ${first.keys.map(configKeyFlag).join(', ')}; see --help for the accepted options`);
    }
    const key = first.path.map(String)[0];
    const where = key === undefined ? '(options)' : configKeyFlag(key);
    throw new ConfigError(`${where}: ${formatIssues({ ...r.error, issues: [{ ...first, path: first.path.slice(1) }] }, 1).replace(/^\(root\): /, '')}`);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(String(e instanceof Error ? e.message : e), { cause: e });
  }
}

/**
 * Every numeric option within its range (option-ranges.ts), else a
 * ConfigError naming the first flag out of range and what it accepts.
 * Durations and sizes are checked parsed (ms, bytes).
 */
export function checkRanges(r: Partial<Record<RangedOption, number | undefined>>): void {
  for (const key of Object.keys(OPTION_RANGES) as RangedOption[]) {
    const v = r[key];
    if (v === undefined) continue;
    const problem = rangeProblem(configKeyFlag(key), v, OPTION_RANGES[key]);
    if (problem !== null) throw new ConfigError(problem);
  }
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** `r-20250101-120000-ab12`: sortable by start, unique enough per controller. */
export function newRunId(now: Date = new Date(), suffix = randomBytes(2).toString('hex')): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `r-${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}-${suffix}`;
}

/** Pure: is `host` (an interface to listen on) on loopback only: 127.0.0.0/8, ::1, localhost? (0.0.0.0 and :: are every interface.) */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h.replace(/^::ffff:/, ''));
  return v4 !== null && Number(v4[1]) === 127 && v4.slice(2).every((o) => Number(o) <= 255);
}

/**
 * Pure: TLS files given together or not at all; plain HTTP only on loopback
 * or with --allow-plain-http. Null when fine, else what to change.
 */
export function listenProblem(p: {
  host: string;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  allowPlainHttp: boolean;
  defaultHostWhy: string | null;
}): string | null {
  if ((p.tlsCert === undefined) !== (p.tlsKey === undefined)) {
    return `${p.tlsCert === undefined ? '--tls-key' : '--tls-cert'} was given without ${p.tlsCert === undefined ? '--tls-cert' : '--tls-key'}; HTTPS needs both: the certificate (PEM, with its chain) and its private key (deploy/tls/make-ca.sh makes them)`;
  }
  if (p.tlsCert !== undefined || p.allowPlainHttp || isLoopbackHost(p.host)) return null;
  return (
    `the hub would listen on ${p.host}${p.defaultHostWhy === null ? '' : ` (${p.defaultHostWhy})`} with plain HTTP, so every agent's token and every batch ` +
    'would cross the network readable; pass --tls-cert FILE --tls-key FILE (deploy/tls/make-ca.sh makes a CA and a certificate; agents pin the CA with --ca), ' +
    'or --host 127.0.0.1 for agents on this machine only, or --allow-plain-http to accept plain HTTP on a network you trust'
  );
}

/** `defaultHost` is used without --host; `defaultHostWhy` says why, in a refusal. */
function common(r: z.infer<typeof ServeRaw>, env: Env, token: string, defaultHost: string, defaultHostWhy: string): CommonConfig {
  const host = r.host ?? defaultHost;
  const problem = listenProblem({
    host,
    tlsCert: r.tlsCert,
    tlsKey: r.tlsKey,
    allowPlainHttp: r.allowPlainHttp,
    defaultHostWhy: r.host === undefined ? defaultHostWhy : null,
  });
  if (problem !== null) throw new ConfigError(problem);
  return {
    host,
    port: r.port,
    token,
    tls: r.tlsCert !== undefined && r.tlsKey !== undefined ? { certFile: resolvePath(r.tlsCert), keyFile: resolvePath(r.tlsKey) } : null,
    allowPlainHttp: r.allowPlainHttp,
    allowSharedToken: r.allowSharedToken,
    revokedAgentsFile: r.revokedAgents === undefined ? null : resolvePath(r.revokedAgents),
    outDir: r.out,
    logLevel: r.logLevel,
    dbUrl: r.db ?? envValue(env.PROBE_DB_URL) ?? null,
    drainTimeoutMs: r.drainTimeout ?? DRAIN_TIMEOUT_MS,
    lossGraceMs: r.lossGrace ?? AGENT_LOSS_GRACE_MS,
  };
}

/** An empty variable counts as unset. */
function envValue(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

export function resolveRunConfig(raw: unknown, env: Env): RunConfig {
  const r = parseRaw(RunRaw, raw);
  const options = scenarioChoicesFromFlags(r);
  checkRanges(r);
  // The local agents' --capacity, checked here with the agent's own rules (it would only fail once started).
  parseCapacity(r.capacity, { 'chat-load': 0, 'video-call': 0, cobrowse: 0 });
  const expectAgents = r.expectAgents ?? Math.max(1, r.localAgents);
  const remoteExpected = expectAgents > r.localAgents;
  const givenToken = r.token ?? envValue(env.PROBE_TOKEN);
  if (remoteExpected && givenToken === undefined) {
    throw new ConfigError(
      `a master secret is required when remote agents are expected (--expect-agents ${expectAgents} > --local-agents ${r.localAgents}): set PROBE_TOKEN (or pass --token), ` +
        'and give each agent its own token: `PROBE_TOKEN=<master> controller agent-token <agent id>`',
    );
  }
  if (r.localAgents > 0 && expectAgents < r.localAgents) {
    throw new ConfigError(
      `--expect-agents ${expectAgents} is less than --local-agents ${r.localAgents}; accepted: --expect-agents ≥ --local-agents (or leave it out)`,
    );
  }
  // A random master for this run alone; each local agent gets its own token, derived from it, in its environment (PROBE_TOKEN).
  const token = givenToken ?? randomBytes(24).toString('hex');
  const cfg: RunConfig = {
    ...common(r, env, token, remoteExpected ? '0.0.0.0' : '127.0.0.1', 'the default when agents on other machines are expected'),
    command: 'run',
    runId: r.runId ?? newRunId(),
    scenario: r.scenario,
    total: r.total,
    target: r.target,
    browser: r.browser ?? DEFAULT_BROWSER,
    browserFromFlag: r.browser !== undefined,
    rampUpMs: r.rampUp ?? r.total * DEFAULT_RAMP_PER_SESSION_MS,
    durationMs: r.duration === undefined || r.duration === 0 ? null : r.duration,
    expectAgents,
    localAgents: r.localAgents,
    agentWaitMs: r.agentWait ?? AGENT_WAIT_TIMEOUT_MS,
    localCapacity: r.capacity,
    agentCli: r.agentCli ?? null,
    options,
    evidenceSessions: r.evidenceSessions,
    evidenceBytes: r.evidenceBytes,
    json: r.json,
    demoLatency: r.demoLatency,
    demoError: r.demoError,
    profileVars: parseProfileVars(r.profileVar),
    scenarioModule: r.scenarioModule === undefined ? null : resolvePath(r.scenarioModule),
    onAgentLoss: r.onAgentLoss,
    thresholds: parseThresholdFlags(r.threshold),
    junitFile: r.junit === undefined ? null : resolvePath(r.junit),
  };
  if (!isDemoTarget(cfg.target) && (cfg.demoLatency.length || cfg.demoError.length)) {
    throw new ConfigError(`--demo-latency / --demo-error only apply to a bundled demo target (--target ${Object.keys(BUNDLED_PROFILES).join(', ')})`);
  }
  return deepFreeze(cfg);
}

export function resolveServeConfig(raw: unknown, env: Env): ServeConfig {
  const r = parseRaw(ServeRaw, raw);
  checkRanges(r);
  parseCapacity(r.capacity, { 'chat-load': 0, 'video-call': 0, cobrowse: 0 });
  const onlyLocal = r.localAgents > 0 && r.host === undefined;
  const givenToken = r.token ?? envValue(env.PROBE_TOKEN);
  if (givenToken === undefined && !onlyLocal)
    throw new ConfigError("controller serve needs the master secret agents' tokens are derived from: set PROBE_TOKEN (or pass --token)");
  const operatorToken = envValue(env.PROBE_OPERATOR_TOKEN) ?? null;
  if (operatorToken !== null && operatorToken.length < MIN_OPERATOR_TOKEN_CHARS) {
    throw new ConfigError(
      `PROBE_OPERATOR_TOKEN is ${operatorToken.length} characters; accepted: at least ${MIN_OPERATOR_TOKEN_CHARS} (e.g. openssl rand -hex 24)`,
    );
  }
  if (r.config !== undefined && operatorToken === null && !onlyLocal) {
    throw new ConfigError(
      "controller serve --config needs the operator API's token: set PROBE_OPERATOR_TOKEN (at least 16 characters, e.g. openssl rand -hex 24); `controller status`, `abort` and `run --controller` send it",
    );
  }
  // Local agents only, no --host: loopback, a master made for this process (each local agent gets its own derived token).
  const token = givenToken ?? randomBytes(24).toString('hex');
  return deepFreeze({
    ...common(r, env, token, onlyLocal ? '127.0.0.1' : '0.0.0.0', onlyLocal ? 'the default with only local agents' : 'the default of controller serve'),
    command: 'serve' as const,
    configFile: r.config === undefined ? null : resolvePath(r.config),
    operatorToken,
    localAgents: r.localAgents,
    localCapacity: r.capacity,
    agentCli: r.agentCli ?? null,
  });
}

/**
 * The secret-free view of a config, for logs and run.json (and MySQL's
 * runs.params). The scenario options sit at the top level, by their
 * assignment keys (`har`, `stepTimeoutMs`…), as run.json has always had them.
 */
export function publicParams(cfg: RunConfig | ServeConfig): Record<string, unknown> {
  const db = cfg.dbUrl === null ? null : '(set)';
  if (cfg.command === 'serve') {
    const { token: _t, dbUrl: _d, operatorToken, ...rest } = cfg;
    return { ...rest, operatorToken: operatorToken === null ? null : '(set)', dbUrl: db };
  }
  const { token: _t, dbUrl: _d, options, ...others } = cfg;
  return { ...others, ...options, dbUrl: db };
}
