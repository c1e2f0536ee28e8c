#!/usr/bin/env node
import { availableParallelism, homedir, hostname, totalmem } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BROWSER_KINDS, ConfigError, ERROR_CODES, SCENARIOS, isProbeError, describeError } from '@userprobe/shared';
import { Agent } from './agent.js';
import { resolveAgentId } from './agent-id.js';
import { LOG_LEVELS, buildConfig, type MachineFacts } from './config.js';
import { createLogger } from './logger.js';
import type { Scenario } from './scenario-api.js';
import { getScenario } from './scenarios/index.js';

/** Exit codes, documented in --help. */
export const EXIT = { OK: 0, UNEXPECTED: 1, REFUSED: 2 } as const;

const EPILOGUE = `Environment:
  PROBE_CONTROLLER_URL  controller URL (instead of --controller)
  PROBE_TOKEN           shared token (preferred to --token, which shows in ps)
  CHROMIUM_PATH         full Chromium binary (default /usr/lib/chromium/chromium)
  CHROMIUM_SHELL_PATH   headless shell binary (default /usr/lib/chromium/chromium-headless-shell)

Capacity (concurrent sessions) defaults from this machine: chat-load and cobrowse
min(cores x 10, 0.75 x memory / 80 MB); video-call max(1, floor(cores x 1.3)).

Exit codes: 0 stopped by SIGINT/SIGTERM; 2 bad flags, browser missing, spool in use,
or the controller refused this agent (wrong token, protocol version); 1 anything else.`;

function machine(): MachineFacts {
  return { cpus: availableParallelism(), memMb: Math.round(totalmem() / 1_048_576), hostname: hostname(), platform: process.platform, homeDir: homedir() };
}

/** The scenarios this agent can run; the others are refused with SCENARIO_UNKNOWN. */
function scenarioMap(): Map<string, Scenario> {
  const m = new Map<string, Scenario>();
  for (const name of SCENARIOS) {
    try {
      m.set(name, getScenario(name));
    } catch {
      // not implemented in this build
    }
  }
  return m;
}

async function main(): Promise<number> {
  const args = await yargs(hideBin(process.argv))
    .scriptName('agent')
    .usage('$0 --controller URL --token T [options]\n\nDial out to a userprobe controller, run the sessions it assigns in one local Chromium, and stream their metrics (spooled on disk until acknowledged).')
    .options({
      controller: { type: 'string', describe: 'controller URL, e.g. http://10.0.0.5:7400 (env PROBE_CONTROLLER_URL)' },
      token: { type: 'string', describe: 'shared token (env PROBE_TOKEN)' },
      name: { type: 'string', describe: 'display name (default: host name)' },
      id: { type: 'string', describe: 'agent id (default: a stable id stored in the spool folder); give each agent on one machine its own' },
      capacity: { type: 'string', array: true, describe: 'N (chat-load and cobrowse) or SCENARIO=N; repeatable' },
      labels: { type: 'string', array: true, describe: 'key=value[,key=value], e.g. region=ams3' },
      spool: { type: 'string', describe: 'spool root folder; this agent uses <spool>/<id>/ (default ~/.local/state/userprobe/agent-spool, or under $XDG_STATE_HOME)' },
      browser: { type: 'string', choices: BROWSER_KINDS, describe: 'default browser to launch at start (a run may ask for the other)', default: 'shell' },
      'browser-path': { type: 'string', describe: 'full Chromium binary (env CHROMIUM_PATH)' },
      'shell-path': { type: 'string', describe: 'headless shell binary (env CHROMIUM_SHELL_PATH)' },
      'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info', describe: 'log level (JSON lines on stderr)' },
    })
    .example('$0 --controller http://10.0.0.5:7400', 'join a controller with the machine\'s default capacity (the token from PROBE_TOKEN, which ps does not show)')
    .example('PROBE_TOKEN=s3cret $0 --controller http://ctl:7400 --labels region=ams3 --capacity 20 --capacity video-call=2', 'label the agent and set its capacity')
    .example('$0 --controller http://127.0.0.1:7400 --id local-1 --spool /tmp/up-spool --browser chromium', 'a second agent on the same machine, on full Chromium')
    .epilogue(EPILOGUE)
    .strict()
    .version(false)
    .help()
    .wrap(100)
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw new ConfigError(msg ?? err?.message ?? 'invalid arguments');
    })
    .parseAsync();

  const config = buildConfig({
    controller: args.controller, token: args.token, name: args.name, id: args.id, capacity: args.capacity, labels: args.labels,
    spool: args.spool, browser: args.browser, browserPath: args['browser-path'], shellPath: args['shell-path'], logLevel: args['log-level'],
  }, process.env, machine());
  const resolved = await resolveAgentId(config, hostname());
  const log = createLogger(config.logLevel, { app: 'agent' });
  const agent = new Agent({ config: resolved, log, scenarios: scenarioMap(), env: process.env });

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    void agent.stop(`received ${sig}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await agent.start();
  // A local agent (started by a controller for itself) stops when that controller is gone: it was reparented.
  if (process.env['PROBE_EXIT_WITH_PARENT'] === '1') {
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid !== parent) {
        clearInterval(watch);
        void agent.stop('the controller that started this local agent is gone');
      }
    }, PARENT_CHECK_INTERVAL_MS);
    watch.unref();
  }
  const exit = await agent.exited;
  if (exit.kind === 'refused') {
    process.stderr.write(`agent: ${exit.error.message}\n`);
    return EXIT.REFUSED;
  }
  return EXIT.OK;
}

const REFUSAL_CODES: readonly string[] = [ERROR_CODES.CONFIG_INVALID, ERROR_CODES.BROWSER_UNAVAILABLE, ERROR_CODES.SPOOL_IO, ERROR_CODES.AUTH_REJECTED, ERROR_CODES.PROTOCOL_MISMATCH, ERROR_CODES.AGENT_DUPLICATE];

/** A local agent checks this often whether the controller that started it is still its parent. */
const PARENT_CHECK_INTERVAL_MS = 1_000;

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`agent: ${describeError(e).message}\n`);
    process.exit(isProbeError(e) && REFUSAL_CODES.includes(e.code) ? EXIT.REFUSED : EXIT.UNEXPECTED);
  },
);
