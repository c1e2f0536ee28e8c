import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ConfigError, describeError, type TargetProfile } from '@userprobe/shared';
import type { LogLevel } from '../config/config.js';
import { deriveAgentToken } from '../trust/agent-token.js';

/*
 * `--local-agents K`: K agent processes on this machine, dialing the
 * controller over loopback. Their output is forwarded (prefixed) at debug
 * level only; the last lines are kept to explain an early exit. Stopped with
 * SIGTERM, then SIGKILL after STOP_GRACE_MS. Each gets its own token (derived
 * from the controller's master for its id, agent-token.ts) through its
 * environment (PROBE_TOKEN), never on its command line, which `ps` shows to
 * every user of the machine.
 *
 * Local agents are the controller operator's own, so the controller sets
 * their trust (localAgentTrust): they open the hosts of the run's target
 * profile, read the credential variables it names, load the run's custom
 * scenario module from its folder, and pin the hub's certificate when it
 * serves HTTPS.
 */

export const LOCAL_AGENT_STOP_GRACE_MS = 10_000;
const KEEP_LINES = 20;

/** The workspace's agent CLI: packages/agent/dist/cli.js (same relative path from src/ and dist/). */
export function defaultAgentCli(): string {
  return fileURLToPath(new URL('../../../agent/dist/cli.js', import.meta.url));
}

/** What a local agent is allowed (its `--allow-host`, `--secret-env`, `--scenario-dir`, `--ca` flags). */
export interface LocalAgentTrust {
  readonly allowHosts: readonly string[];
  readonly secretEnv: readonly string[];
  readonly scenarioDirs: readonly string[];
  /** The hub's --tls-cert (its chain must reach a root in the file, and name 127.0.0.1), pinned with --ca; null for plain HTTP. */
  readonly caFile: string | null;
}

/** Every `{ env: NAME }` credential reference in a profile, by name. Pure. */
export function profileCredentialNames(value: unknown, out: Set<string> = new Set()): string[] {
  if (Array.isArray(value)) for (const v of value) profileCredentialNames(v, out);
  else if (value !== null && typeof value === 'object') {
    const env = (value as { env?: unknown }).env;
    if (typeof env === 'string') out.add(env);
    for (const v of Object.values(value)) profileCredentialNames(v, out);
  }
  return [...out];
}

/** Pure: the trust a local agent gets for a run of `profile` (and its custom scenario module, if any). */
export function localAgentTrust(profile: TargetProfile, scenarioModule: string | null, caFile: string | null): LocalAgentTrust {
  const hosts = new Set([profile.visitor.url, profile.agent.url].map((u) => new URL(u).hostname));
  return {
    allowHosts: [...hosts],
    secretEnv: profileCredentialNames(profile),
    scenarioDirs: scenarioModule === null ? [] : [dirname(scenarioModule)],
    caFile,
  };
}

export interface LocalAgentsOptions {
  readonly count: number;
  readonly controllerUrl: string;
  /** The controller's master secret: each agent gets the token derived from it for its id. */
  readonly token: string;
  readonly trust: LocalAgentTrust;
  /** Spool root; each agent uses <spoolRoot>/<id>/. */
  readonly spoolRoot: string;
  readonly capacity: readonly string[];
  readonly agentCli: string | null;
  readonly logLevel: LogLevel;
  readonly log: Logger;
  readonly onExit?: (name: string, code: number | null, lastLines: readonly string[]) => void;
}

export interface LocalAgents {
  readonly names: readonly string[];
  stop(): Promise<void>;
}

/** Id (and name) of local agent `i`. */
export const localAgentId = (i: number): string => `local-${i}`;

/** The command line of local agent `i`: no secret on it (see localAgentEnv). */
export function localAgentArgs(i: number, o: Pick<LocalAgentsOptions, 'controllerUrl' | 'spoolRoot' | 'capacity' | 'logLevel' | 'trust'>): string[] {
  const name = localAgentId(i);
  const level = o.logLevel === 'debug' || o.logLevel === 'trace' ? o.logLevel : 'warn';
  const t = o.trust;
  return [
    // --flag=value: a value starting with '-' must not read as a flag.
    `--controller=${o.controllerUrl}`,
    `--name=${name}`,
    `--id=${name}`,
    `--spool=${o.spoolRoot}`,
    ...o.capacity.map((c) => `--capacity=${c}`),
    `--log-level=${level}`,
    ...t.allowHosts.map((h) => `--allow-host=${h}`),
    ...t.secretEnv.map((n) => `--secret-env=${n}`),
    ...t.scenarioDirs.map((d) => `--scenario-dir=${d}`),
    ...(t.caFile === null ? [] : [`--ca=${t.caFile}`]),
  ];
}

/**
 * The environment of local agent `agentId`: the controller's, with the
 * agent's own token (derived from `master`) in PROBE_TOKEN, and
 * PROBE_EXIT_WITH_PARENT so it stops when this controller dies (even by
 * SIGKILL, which gives no chance to stop it): a local agent serves this
 * controller only. The agent's trust variables are dropped: its flags
 * (localAgentArgs) say what it trusts.
 */
export function localAgentEnv(master: string, agentId: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { PROBE_CA_FILE: _ca, PROBE_ALLOW_HOSTS: _h, PROBE_SECRET_ENV: _s, ...rest } = base;
  return { ...rest, PROBE_TOKEN: deriveAgentToken(master, agentId), PROBE_EXIT_WITH_PARENT: '1' };
}

export function startLocalAgents(o: LocalAgentsOptions): LocalAgents {
  const cli = o.agentCli ?? defaultAgentCli();
  if (!existsSync(cli)) {
    throw new ConfigError(`the agent CLI is not at ${cli}; build it with \`npx tsc -b packages/agent\` (or pass --agent-cli PATH)`);
  }
  const log = o.log.child({ component: 'local-agents' });
  const children: { name: string; child: ChildProcess; exited: Promise<void> }[] = [];
  let stopping = false;
  // If the controller exits without stop() (a second Ctrl-C), do not leave agents behind.
  const onProcessExit = () => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', onProcessExit);
  for (let i = 1; i <= o.count; i++) {
    const name = localAgentId(i);
    const child = spawn(process.execPath, [cli, ...localAgentArgs(i, o)], { stdio: ['ignore', 'pipe', 'pipe'], env: localAgentEnv(o.token, name) });
    const last: string[] = [];
    const onLine = (stream: string) => (line: string) => {
      last.push(line);
      if (last.length > KEEP_LINES) last.shift();
      log.debug({ agent: name, stream, line }, `[${name}] ${line}`);
    };
    createInterface({ input: child.stdout }).on('line', onLine('stdout'));
    createInterface({ input: child.stderr }).on('line', onLine('stderr'));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (!stopping) {
          log.warn({ agent: name, code, signal, lastLines: last }, 'local agent exited before the run ended');
          o.onExit?.(name, code, last);
        }
        resolve();
      });
      child.once('error', (e) => {
        log.error({ agent: name, err: describeError(e) }, 'local agent could not start');
        resolve();
      });
    });
    log.info({ agent: name, pid: child.pid }, 'local agent started');
    children.push({ name, child, exited });
  }
  return {
    names: children.map((c) => c.name),
    async stop() {
      stopping = true;
      process.off('exit', onProcessExit);
      await Promise.all(
        children.map(async ({ name, child, exited }) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => {
            log.warn({ agent: name, graceMs: LOCAL_AGENT_STOP_GRACE_MS }, 'local agent ignored SIGTERM; killing it');
            child.kill('SIGKILL');
          }, LOCAL_AGENT_STOP_GRACE_MS);
          await exited;
          clearTimeout(t);
        }),
      );
    },
  };
}

export function localSpoolRoot(outDir: string): string {
  return join(outDir, '.spool');
}
