import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ConfigError } from '@userprobe/shared';
import type { LogLevel } from './config.js';

/**
 * `--local-agents K`: K agent processes on this machine, dialing the
 * controller over loopback. Their output is forwarded (prefixed) at debug
 * level only; the last lines are kept to explain an early exit. Stopped with
 * SIGTERM, then SIGKILL after STOP_GRACE_MS. The token reaches them through
 * their environment (PROBE_TOKEN), never on their command line, which `ps`
 * shows to every user of the machine.
 */
export const LOCAL_AGENT_STOP_GRACE_MS = 10_000;
const KEEP_LINES = 20;

/** The workspace's agent CLI: packages/agent/dist/cli.js (same relative path from src/ and dist/). */
export function defaultAgentCli(): string {
  return fileURLToPath(new URL('../../agent/dist/cli.js', import.meta.url));
}

export interface LocalAgentsOptions {
  readonly count: number;
  readonly controllerUrl: string;
  readonly token: string;
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

/** The command line of local agent `i`: no secret on it (see localAgentEnv). */
export function localAgentArgs(i: number, o: Pick<LocalAgentsOptions, 'controllerUrl' | 'spoolRoot' | 'capacity' | 'logLevel'>): string[] {
  const name = `local-${i}`;
  const level = o.logLevel === 'debug' || o.logLevel === 'trace' ? o.logLevel : 'warn';
  return [
    // --flag=value: a value starting with '-' must not read as a flag.
    `--controller=${o.controllerUrl}`, `--name=${name}`, `--id=${name}`, `--spool=${o.spoolRoot}`,
    ...o.capacity.map((c) => `--capacity=${c}`), `--log-level=${level}`,
  ];
}

/**
 * The environment of a local agent: the controller's, with the token in
 * PROBE_TOKEN, and PROBE_EXIT_WITH_PARENT so it stops when this controller
 * dies (even by SIGKILL, which gives no chance to stop it): a local agent
 * serves this controller only.
 */
export function localAgentEnv(token: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, PROBE_TOKEN: token, PROBE_EXIT_WITH_PARENT: '1' };
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
  const env = localAgentEnv(o.token);
  for (let i = 1; i <= o.count; i++) {
    const name = `local-${i}`;
    const child = spawn(process.execPath, [cli, ...localAgentArgs(i, o)], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const last: string[] = [];
    const onLine = (stream: string) => (line: string) => {
      last.push(line);
      if (last.length > KEEP_LINES) last.shift();
      log.debug({ agent: name, stream, line }, `[${name}] ${line}`);
    };
    createInterface({ input: child.stdout! }).on('line', onLine('stdout'));
    createInterface({ input: child.stderr! }).on('line', onLine('stderr'));
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (!stopping) {
          log.warn({ agent: name, code, signal, lastLines: last }, 'local agent exited before the run ended');
          o.onExit?.(name, code, last);
        }
        resolve();
      });
      child.once('error', (e) => { log.error({ agent: name, err: e.message }, 'local agent could not start'); resolve(); });
    });
    log.info({ agent: name, pid: child.pid }, 'local agent started');
    children.push({ name, child, exited });
  }
  return {
    names: children.map((c) => c.name),
    async stop() {
      stopping = true;
      process.off('exit', onProcessExit);
      await Promise.all(children.map(async ({ name, child, exited }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => {
          log.warn({ agent: name, graceMs: LOCAL_AGENT_STOP_GRACE_MS }, 'local agent ignored SIGTERM; killing it');
          child.kill('SIGKILL');
        }, LOCAL_AGENT_STOP_GRACE_MS);
        await exited;
        clearTimeout(t);
      }));
    },
  };
}

export function localSpoolRoot(outDir: string): string {
  return join(outDir, '.spool');
}
