#!/usr/bin/env node
import { availableParallelism, homedir, hostname, totalmem } from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  BROWSER_KINDS,
  ConfigError,
  ERROR_CODES,
  SCENARIOS,
  isProbeError,
  describeError,
  parseDuration,
  parseProfile,
  resolveProfile,
} from '@userprobe/shared';
import { Agent } from './agent.js';
import { resolveAgentId } from './config/agent-id.js';
import { LOG_LEVELS, buildCheckConfig, buildConfig, type MachineFacts } from './config/config.js';
import { BrowserPool } from './host/browser-pool.js';
import { profileUrls } from './runner/assignment-check.js';
import { checkProfile, renderCheck } from './scenarios/profile-check.js';
import { agentPolicy, readCredential } from './trust/agent-policy.js';
import { NavigationGuard } from './trust/navigation-guard.js';
import { createLogger } from './logger.js';
import type { Scenario } from './runner/scenario-api.js';
import { getScenario } from './scenarios/index.js';

/** Exit codes, documented in --help. */
export const EXIT = { OK: 0, UNEXPECTED: 1, REFUSED: 2, CHECK_FAILED: 3 } as const;

const EPILOGUE = `Environment:
  PROBE_CONTROLLER_URL  controller URL (instead of --controller)
  PROBE_TOKEN           this agent's own token (preferred to --token, which shows in ps); on the controller:
                        PROBE_TOKEN=<master> controller agent-token <this agent's --id>
  PROBE_CA_FILE         the controller's CA certificate to pin (instead of --ca)
  PROBE_ALLOW_HOSTS     hosts the browser may open, separated by commas or spaces (instead of --allow-host)
  PROBE_SECRET_ENV      variables a target profile may read, separated by commas or spaces (instead of --secret-env)
  CHROMIUM_PATH         full Chromium binary (default /usr/lib/chromium/chromium)
  CHROMIUM_SHELL_PATH   headless shell binary (default /usr/lib/chromium/chromium-headless-shell)

Capacity (concurrent sessions) defaults from this machine: chat-load and cobrowse
min(cores x 10, 0.75 x memory / 80 MB); video-call max(1, floor(cores x 1.3)).

Trust: this agent opens only http(s) pages on the hosts --allow-host lists (none by default: every
assignment is refused until you list the target's hosts; link-local and cloud metadata addresses
never), loads custom scenario modules only from a --scenario-dir, and lets a target profile read
only the environment variables --secret-env lists. It dials https:// and verifies the controller's
certificate (system CAs, or the --ca it pins); plain http:// only to loopback or with
--allow-plain-http.

Exit codes: 0 stopped by SIGINT/SIGTERM (--check-profile: every step passed); 2 bad flags, browser
missing, spool in use, the controller refused this agent (wrong token, revoked id, protocol
version), its certificate did not verify, or (--check-profile) the profile is invalid or not
allowed; 3 (--check-profile) a step failed; 1 anything else.`;

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
    .usage(
      '$0 --controller URL --allow-host HOST [options]\n\nDial out to a userprobe controller, run the sessions it assigns in one local Chromium, and stream their metrics (spooled on disk until acknowledged).',
    )
    .options({
      controller: {
        type: 'string',
        describe: 'controller URL, e.g. https://ctl.example.com:7077 (env PROBE_CONTROLLER_URL); http:// only to loopback or with --allow-plain-http',
      },
      token: { type: 'string', describe: "this agent's own token, from `controller agent-token ID` (env PROBE_TOKEN, preferred: ps shows flags)" },
      ca: {
        type: 'string',
        describe:
          "verify the controller's certificate against this CA only (PEM; ca.crt of deploy/tls/make-ca.sh) instead of the system CAs (env PROBE_CA_FILE)",
      },
      'allow-plain-http': {
        type: 'boolean',
        default: false,
        describe:
          "dial an http:// controller that is not on loopback. Gives up confidentiality and integrity: this agent's token and every batch cross the network readable (and alterable), and the controller is not authenticated",
      },
      'allow-host': {
        type: 'string',
        array: true,
        describe:
          'a host the browser may open: chat.example.com, *.example.com (names below it), or an IP; repeatable (env PROBE_ALLOW_HOSTS). None by default (every assignment is refused); link-local and metadata addresses never',
      },
      'scenario-dir': {
        type: 'string',
        array: true,
        describe:
          'a folder custom scenario modules may be loaded from (their real path must be inside); repeatable. None by default: assignments naming a module are refused',
      },
      'secret-env': {
        type: 'string',
        array: true,
        describe:
          'an environment variable a target profile may read as a credential (e.g. TENANT_AGENT_PASSWORD); repeatable (env PROBE_SECRET_ENV). None by default',
      },
      name: { type: 'string', describe: 'display name (default: host name)' },
      id: { type: 'string', describe: 'agent id (default: a stable id stored in the spool folder); give each agent on one machine its own' },
      capacity: { type: 'string', array: true, describe: 'N (chat-load and cobrowse) or SCENARIO=N; repeatable' },
      labels: { type: 'string', array: true, describe: 'key=value[,key=value], e.g. region=ams3' },
      spool: {
        type: 'string',
        describe: 'spool root folder; this agent uses <spool>/<id>/ (default ~/.local/state/userprobe/agent-spool, or under $XDG_STATE_HOME)',
      },
      browser: { type: 'string', choices: BROWSER_KINDS, describe: 'default browser to launch at start (a run may ask for the other)', default: 'shell' },
      'browser-path': { type: 'string', describe: 'full Chromium binary (env CHROMIUM_PATH)' },
      'shell-path': { type: 'string', describe: 'headless shell binary (env CHROMIUM_SHELL_PATH)' },
      'log-level': { type: 'string', choices: LOG_LEVELS, describe: 'log level (JSON lines on stderr); default info (warn with --check-profile)' },
      'check-profile': {
        type: 'string',
        describe:
          'instead of joining a controller: run one chat-load session of this target profile (a YAML or JSON file, or - for stdin) here and report it step by step, every field and selector it reached, the step that failed with what it waited for, what was not reached (exit 0: it works, 3: a step failed). `controller profile check` runs this for you',
      },
      'step-timeout': { type: 'string', default: '10s', describe: 'with --check-profile: how long a step may take (a duration: 10s, 1500ms)' },
    })
    .example(
      "$0 --controller https://ctl.example.com:7077 --ca /etc/userprobe/ca.crt --id ams3-1 --allow-host www.example.com --allow-host '*.chat.example.com' --secret-env TENANT_AGENT_USER --secret-env TENANT_AGENT_PASSWORD",
      "join a controller over HTTPS with a pinned CA (the token from PROBE_TOKEN, which ps does not show); open only the tenant's hosts, read only its two credential variables",
    )
    .example(
      '$0 --controller https://ctl.example.com:7077 --id ams3-1 --allow-host www.example.com --labels region=ams3 --capacity 20 --capacity video-call=2',
      'a certificate from a public CA (system CAs); label the agent and set its capacity',
    )
    .example(
      '$0 --controller https://ctl.example.com:7077 --id ams3-1 --allow-host www.example.com --scenario-dir /opt/userprobe/scenarios',
      'also run custom scenario modules kept in /opt/userprobe/scenarios',
    )
    .example(
      '$0 --controller http://127.0.0.1:7077 --id local-1 --spool /tmp/up-spool --browser chromium --allow-host 127.0.0.1 --allow-host 127.0.0.2',
      "a second agent on the controller's machine (plain HTTP on loopback), on full Chromium, against the demo target",
    )
    .example(
      '$0 --check-profile acme.yaml --allow-host www.acme.com --allow-host console.acme.com --secret-env ACME_AGENT_PASSWORD',
      "check a target profile with one session on this machine: each step's fields and selectors, found or not (no controller)",
    )
    .example(
      '$0 --controller http://10.0.0.5:7077 --allow-plain-http --id lan-1 --allow-host 10.0.0.9',
      'plain HTTP on a private network you trust (the token and batches readable on it)',
    )
    .epilogue(EPILOGUE)
    .strict()
    .version(false)
    .help()
    .wrap(100)
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw new ConfigError(msg ?? err?.message ?? 'invalid arguments');
    })
    .parseAsync();

  if (args['check-profile'] !== undefined) return checkMode(args['check-profile'], args);

  const config = buildConfig(
    {
      controller: args.controller,
      token: args.token,
      name: args.name,
      id: args.id,
      capacity: args.capacity,
      labels: args.labels,
      spool: args.spool,
      browser: args.browser,
      browserPath: args['browser-path'],
      shellPath: args['shell-path'],
      logLevel: args['log-level'] ?? 'info',
      ca: args.ca,
      allowPlainHttp: args['allow-plain-http'],
      allowHost: args['allow-host'],
      scenarioDir: args['scenario-dir'],
      secretEnv: args['secret-env'],
    },
    process.env,
    machine(),
  );
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

/**
 * `--check-profile FILE`: one chat-load session of the profile on this machine, reported step by
 * step (scenarios/profile-check.ts), under the same trust as a session of a run: the profile's
 * URLs on --allow-host hosts, its credentials from --secret-env variables only, the pages
 * watched by the navigation guard.
 */
async function checkMode(
  file: string,
  args: {
    browser?: string;
    'browser-path'?: string;
    'shell-path'?: string;
    'log-level'?: string;
    'allow-host'?: string[];
    'secret-env'?: string[];
    'step-timeout': string;
  },
): Promise<number> {
  const c = buildCheckConfig(
    {
      browser: args.browser,
      browserPath: args['browser-path'],
      shellPath: args['shell-path'],
      logLevel: args['log-level'],
      allowHost: args['allow-host'],
      secretEnv: args['secret-env'],
    },
    process.env,
  );
  const stepTimeoutMs = parseDuration(args['step-timeout'], '--step-timeout');
  // '-': the profile on stdin (as `controller profile check` hands it over: nothing written to disk).
  const profile = file === '-' ? parseProfile(await readStdin(), '<stdin>') : (await resolveProfile(file)).profile;
  const policy = agentPolicy({ allowHosts: c.allowHosts, scenarioDirs: [], secretEnv: c.secretEnv });
  for (const { path, url } of profileUrls(profile)) {
    const problem = policy.hosts.urlProblem(url, 'profile');
    if (problem !== null) throw new ConfigError(`the target profile's ${path}: ${problem}`);
  }
  const log = createLogger(c.logLevel, { app: 'agent', mode: 'check-profile' });
  const pool = new BrowserPool({ paths: c.browser, log });
  try {
    const report = await pool.withSession(c.browser.kind, async (pages) => {
      const ac = new AbortController();
      const guard = await NavigationGuard.attach(pages, policy.hosts, (violation) => ac.abort(violation));
      try {
        return await checkProfile({
          pages,
          profile,
          browser: c.browser.kind,
          stepTimeoutMs,
          credential: (ref) => readCredential(policy, process.env, ref, 'check-profile'),
          signal: ac.signal,
          log,
        });
      } finally {
        await guard.detach();
      }
    });
    process.stdout.write(renderCheck(file === '-' ? `"${profile.name}"` : file, report, stepTimeoutMs));
    return report.ok ? EXIT.OK : EXIT.CHECK_FAILED;
  } finally {
    await pool.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const REFUSAL_CODES: readonly string[] = [
  ERROR_CODES.CONFIG_INVALID,
  ERROR_CODES.BROWSER_UNAVAILABLE,
  ERROR_CODES.SPOOL_IO,
  ERROR_CODES.AUTH_REJECTED,
  ERROR_CODES.PROTOCOL_MISMATCH,
  ERROR_CODES.AGENT_DUPLICATE,
  ERROR_CODES.AGENT_REVOKED,
  ERROR_CODES.CONTROLLER_UNTRUSTED,
  ERROR_CODES.PROFILE_INVALID,
  ERROR_CODES.PROFILE_NOT_FOUND,
];

/** A local agent checks this often whether the controller that started it is still its parent. */
const PARENT_CHECK_INTERVAL_MS = 1_000;

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`agent: ${describeError(e).message}\n`);
    process.exit(isProbeError(e) && REFUSAL_CODES.includes(e.code) ? EXIT.REFUSED : EXIT.UNEXPECTED);
  },
);
