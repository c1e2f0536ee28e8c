import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError } from '@userprobe/shared';
import { resolveTarget } from '../config/target.js';
import { EXIT } from '../run/coordinator.js';
import { defaultAgentCli, localAgentTrust } from './local-agents.js';

/** The agent CLI's exit codes in check mode (packages/agent/src/cli.ts). */
const AGENT_CHECK_EXIT = { OK: 0, BAD_INPUT: 2, CHECK_FAILED: 3 } as const;

export interface ProfileCheckOptions {
  /** A bundled demo name (the demo is started for the check) or a profile path. */
  readonly target: string;
  readonly profileVars: Readonly<Record<string, string>>;
  readonly browser: string | undefined;
  /** A duration, as the agent's --step-timeout takes it. */
  readonly stepTimeout: string;
  readonly agentCli: string | null;
  readonly log: Logger;
}

/**
 * `controller profile check PROFILE`: one chat-load session of the profile on this machine,
 * reported step by step (the agent's --check-profile, scenarios/profile-check.ts), with the
 * trust a local agent gets (the profile's two hosts, its credential variables). The profile
 * goes to the agent on stdin. Exit 0: every step passed; 1: a step failed; 2: bad input.
 */
export async function profileCheckCommand(o: ProfileCheckOptions, io: { stdout: { write(s: string): unknown } }): Promise<number> {
  const cli = o.agentCli ?? defaultAgentCli();
  if (!existsSync(cli)) throw new ConfigError(`the agent CLI is not at ${cli}; build it with \`npx tsc -b packages/agent\``);
  const target = await resolveTarget({ target: o.target, demoLatency: [], demoError: [], profileVars: o.profileVars, log: o.log });
  try {
    const trust = localAgentTrust(target.profile, null, null);
    const args = [
      cli,
      '--check-profile=-',
      `--step-timeout=${o.stepTimeout}`,
      ...(o.browser === undefined ? [] : [`--browser=${o.browser}`]),
      ...trust.allowHosts.map((h) => `--allow-host=${h}`),
      ...trust.secretEnv.map((n) => `--secret-env=${n}`),
    ];
    // Its flags say what it trusts, not the environment's PROBE_ALLOW_HOSTS / PROBE_SECRET_ENV.
    const { PROBE_ALLOW_HOSTS: _h, PROBE_SECRET_ENV: _s, ...env } = process.env;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
      child.once('error', reject);
      child.stdout.on('data', (d: Buffer) => io.stdout.write(d.toString('utf8')));
      child.once('exit', (c) => resolve(c));
      child.stdin.end(JSON.stringify(target.profile));
    });
    if (code === AGENT_CHECK_EXIT.OK) return EXIT.OK;
    if (code === AGENT_CHECK_EXIT.CHECK_FAILED) return EXIT.SESSIONS_FAILED;
    if (code === AGENT_CHECK_EXIT.BAD_INPUT) return EXIT.BAD_INPUT;
    return EXIT.RUN_FAILED;
  } finally {
    await target.close();
  }
}
