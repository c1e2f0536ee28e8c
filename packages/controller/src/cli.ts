#!/usr/bin/env node
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  BUNDLED_PROFILES,
  ERROR_CODES,
  SCENARIOS,
  BROWSER_KINDS,
  EVIDENCE_BUDGET_SESSIONS,
  SCENARIO_OPTION_CONFIG_KEYS,
  ConfigError,
  describeError,
  flagConfigKey,
  isProbeError,
} from '@userprobe/shared';
import {
  parseProfileVars,
  resolveRunConfig,
  resolveServeConfig,
  LOG_LEVELS,
  DEFAULT_PORT,
  DEFAULT_OUT_DIR,
  DEFAULT_BROWSER,
  type LogLevel,
} from './config/config.js';
import { scenarioOptionFlags } from './config/scenario-flags.js';
import { readYamlConfig } from './config/config-file.js';
import { runConfigArgs } from './config/run-config-file.js';
import { createLogger } from './logger.js';
import type { CommandIo } from './commands/run-command.js';
import { EXIT } from './run/exit-codes.js';
import { ON_AGENT_LOSS } from './run/run-state-schema.js';
// Each command's code is imported when that command runs (below), not at start: --help and a bad flag answer
// without loading the controller (~1.0 -> ~0.67 CPU-s for `controller serve` without a token, here).

const EPILOGUE = `Exit codes:
  0  every session ran and succeeded
  1  the run completed but some sessions failed (see the summary and results/<run-id>/sessions.jsonl)
  2  bad input: usage, config, target profile, or a plan the cluster cannot hold
  3  the run could not run to the end: agents missing, refused or silent, an agent lost with sessions running on it,
     timeout, aborted (Ctrl-C)
 99  the run completed but a threshold failed (--threshold, the profile's thresholds:), also when one with
     abort-on-fail stopped it early; as k6. With a threshold on sessions, failed sessions alone do not make it 1

  4  (migrate, retention) the database refused: credentials, a failed migration, a missing schema

Results go to <out>/<run-id>/ always, and to MySQL when --db / PROBE_DB_URL is set (run \`controller migrate\` first).
Failed sessions leave evidence in <out>/<run-id>/evidence/<session-id>/ (visitor.png, agent.png, session.har, console.json).
Environment: PROBE_TOKEN (the master secret agents' tokens are derived from, instead of --token), PROBE_DB_URL (MySQL URL,
instead of --db), PROBE_OPERATOR_TOKEN (the operator API's bearer token: serve --config, status, abort, run --controller, GET /metrics), PROBE_SLACK_WEBHOOK_URL
(the Slack incoming webhook alerts go to: serve --config, alerts test).

Agents' identity: each agent has its own token, HMAC-SHA256(master, agent id), printed by \`controller agent-token ID\`;
the master itself is refused from agents unless --allow-shared-token. Plain HTTP is accepted only on loopback
(--host 127.0.0.1) or with --allow-plain-http; elsewhere serve HTTPS with --tls-cert/--tls-key (deploy/tls/make-ca.sh).`;

const USER_ERROR_CODES: readonly string[] = [
  ERROR_CODES.CONFIG_INVALID,
  ERROR_CODES.PROFILE_INVALID,
  ERROR_CODES.PROFILE_NOT_FOUND,
  ERROR_CODES.PLAN_INFEASIBLE,
  ERROR_CODES.SCENARIO_UNKNOWN,
];

function pick(argv: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (argv[k] !== undefined) out[k] = argv[k];
  return out;
}

const COMMON_KEYS = [
  'host',
  'port',
  'token',
  'out',
  'logLevel',
  'db',
  'drainTimeout',
  'lossGrace',
  'tlsCert',
  'tlsKey',
  'allowPlainHttp',
  'allowSharedToken',
  'revokedAgents',
] as const;
const RUN_KEYS = [
  ...COMMON_KEYS,
  'runId',
  'scenario',
  'total',
  'target',
  'browser',
  'rampUp',
  'duration',
  'expectAgents',
  'localAgents',
  'agentWait',
  'capacity',
  'agentCli',
  'evidenceSessions',
  'evidenceBytes',
  'json',
  'demoLatency',
  'demoError',
  'profileVar',
  'scenarioModule',
  'onAgentLoss',
  'threshold',
  'junit',
  ...Object.values(SCENARIO_OPTION_CONFIG_KEYS),
] as const;

const SERVE_KEYS = [...COMMON_KEYS, 'config', 'localAgents', 'capacity', 'agentCli'] as const;

/** The flags written on the command line (camelCase), `--no-x` included, defaults not. */
export function givenFlags(args: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const a of args) {
    const m = /^--(?:no-)?([a-z][a-z0-9-]*)/.exec(a);
    if (m) out.add(flagConfigKey(m[1]!));
  }
  return out;
}

/**
 * `run --config FILE`: the file's flags (config/run-config-file.ts) go before the
 * command line's, which win; repeatable flags add to the file's. Other commands,
 * and `run` without --config, pass through untouched.
 */
async function withRunConfig(args: string[], options: Readonly<Record<string, object>>): Promise<string[]> {
  const isConfig = (a: string) => a === '--config' || a.startsWith('--config=');
  if (args[0] !== 'run') {
    // Flags before the command (`controller --out x run --config f`): the file would go unread, and the run differ from it in silence.
    const at = args.indexOf('run');
    if (args[0]?.startsWith('-') && at > 0 && args.slice(at).some(isConfig)) {
      throw new ConfigError('--config: write `run` first and every flag after it, as in `controller run --config FILE [flags]`');
    }
    return args;
  }
  const i = args.findIndex(isConfig);
  if (i < 0) return args;
  const file = args[i]!.startsWith('--config=') ? args[i]!.slice('--config='.length) : args[i + 1];
  if (file === undefined || file === '' || file.startsWith('-')) throw new ConfigError('--config: name the run config file, e.g. --config load-test.yaml');
  const spec = {
    known: Object.keys(options).map(flagConfigKey),
    repeatable: new Set(
      Object.entries(options)
        .filter(([, o]) => 'array' in o && o.array === true)
        .map(([k]) => flagConfigKey(k)),
    ),
  };
  return ['run', ...runConfigArgs(await readYamlConfig(file), file, givenFlags(args), spec), ...args.slice(1)];
}

const hangupHandler: NonNullable<CommandIo['onHangup']> = (fn) => {
  const h = () => fn();
  process.on('SIGHUP', h);
  return () => {
    process.off('SIGHUP', h);
  };
};

function interruptHandler(): CommandIo['onInterrupt'] {
  return (fn) => {
    let count = 0;
    const h = (sig: NodeJS.Signals) => {
      count++;
      if (count > 1) process.exit(EXIT.RUN_FAILED);
      fn(sig);
    };
    process.on('SIGINT', h);
    process.on('SIGTERM', h);
    return () => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
    };
  };
}

async function main(): Promise<number> {
  const common = {
    host: { type: 'string', describe: 'interface to listen on (default 127.0.0.1 with only local agents, else 0.0.0.0)' },
    port: { type: 'number', describe: `port agents connect to (0 = any free port)`, default: DEFAULT_PORT },
    token: {
      type: 'string',
      describe: "the master secret each agent's token is derived from (env PROBE_TOKEN, preferred: ps shows flags); generated for local-only runs",
    },
    'tls-cert': {
      type: 'string',
      describe: 'serve agents over HTTPS with this certificate (PEM, with its chain; deploy/tls/make-ca.sh makes one); needs --tls-key',
    },
    'tls-key': { type: 'string', describe: 'the private key of --tls-cert (PEM, unencrypted; keep it 0600)' },
    'allow-plain-http': {
      type: 'boolean',
      default: false,
      describe:
        "listen without TLS on an interface other than loopback. Gives up confidentiality and integrity: every agent's token and every batch cross the network readable (and alterable)",
    },
    'allow-shared-token': {
      type: 'boolean',
      default: false,
      describe:
        'also accept the master secret itself from any agent (the old shared token). Gives up per-agent identity: whoever holds it can connect as any agent id',
    },
    'revoked-agents': {
      type: 'string',
      describe: 'file of agent ids refused whatever their token, one per line (# comments); checked every 2s: a listed agent that is connected is disconnected',
    },
    out: { type: 'string', describe: 'results folder', default: DEFAULT_OUT_DIR },
    'log-level': {
      type: 'string',
      choices: LOG_LEVELS,
      default: 'warn',
      describe: "JSON logs on stderr at this level; debug also forwards local agents' logs",
    },
    db: {
      type: 'string',
      describe: 'MySQL URL, e.g. mysql://userprobe:PASS@127.0.0.1:3306/userprobe (env PROBE_DB_URL); results are always written to --out too',
    },
    'drain-timeout': { type: 'string', describe: 'after agents finish, wait this long for their last batches (default 30s)' },
    'loss-grace': {
      type: 'string',
      describe: 'an agent away this long mid-run is lost: its unstarted sessions go to other agents, its running ones are recorded as lost (default 15s)',
    },
  } as const;
  const remote = {
    controller: {
      type: 'string',
      describe:
        "a running daemon's URL (controller serve --config with PROBE_OPERATOR_TOKEN): run there, on its fleet; the operator token is read from PROBE_OPERATOR_TOKEN",
    },
    ca: {
      type: 'string',
      describe: "with --controller over HTTPS: the CA file its certificate is verified with (deploy/tls/make-ca.sh), else the system's CAs",
    },
  } as const;
  const scenarioFlags = scenarioOptionFlags();
  const runOptions = {
    scenario: { type: 'string', choices: SCENARIOS, demandOption: true, describe: 'what each session does' },
    total: { type: 'number', demandOption: true, describe: 'sessions across the whole cluster (not per agent)' },
    target: {
      type: 'string',
      default: 'demo',
      describe: `"demo" (start the bundled demo target here), one of its example product shapes (${Object.keys(BUNDLED_PROFILES)
        .filter((n) => n !== 'demo')
        .join(', ')}: profiles/examples/), or a target profile YAML path`,
    },
    browser: {
      type: 'string',
      choices: BROWSER_KINDS,
      describe: `shell = chromium-headless-shell (default "${DEFAULT_BROWSER}" unless the profile sets browser: ~7x less CPU and 3.7x less memory per session, steadier timings under load); chromium = full Chromium in new headless mode (closer to what visitors run). Summaries and samples name the one used`,
    },
    'ramp-up': { type: 'string', describe: 'spread session starts over this long, cluster-wide (default 1s per session)' },
    duration: { type: 'string', describe: 'repeat sessions until this long after the start (default: run each once)' },
    'expect-agents': { type: 'number', describe: 'agents to wait for before planning (default: --local-agents, or 1)' },
    'local-agents': { type: 'number', default: 0, describe: 'start this many agent processes on this machine' },
    'agent-wait': { type: 'string', describe: 'how long to wait for the expected agents (default 60s)' },
    capacity: { type: 'string', array: true, describe: 'passed to local agents: N or SCENARIO=N (repeatable)' },
    'agent-cli': { type: 'string', describe: 'agent CLI for --local-agents (default: the workspace build packages/agent/dist/cli.js)' },
    'evidence-sessions': {
      type: 'number',
      default: EVIDENCE_BUDGET_SESSIONS,
      describe: 'evidence budget: store evidence of at most this many sessions per run (the rest is counted in the summary)',
    },
    'evidence-bytes': { type: 'string', default: '200MB', describe: 'evidence budget: at most this many bytes per run (e.g. 200MB, 1GiB)' },
    'run-id': { type: 'string', describe: 'run id (default r-YYYYMMDD-HHMMSS-xxxx)' },
    json: { type: 'boolean', default: false, describe: 'print the outcome and summary as one JSON object on stdout instead of the table' },
    'demo-latency': { type: 'string', array: true, describe: 'demo target only: inject latency NAME=MS, e.g. create=300 (repeatable)' },
    'demo-error': { type: 'string', array: true, describe: 'demo target only: inject errors ENDPOINT=STATUS[@RATE], e.g. init=500@0.1 (repeatable)' },
    'profile-var': {
      type: 'string',
      array: true,
      describe: 'fill ${NAME} in the target profile: NAME=VALUE (repeatable), e.g. TENANT_SITE_URL=https://www.example.com',
    },
    'scenario-module': {
      type: 'string',
      describe: 'a custom scenario: path of an ES module on every agent (docs/scenario-api.md); --scenario names its capacity class',
    },
    threshold: {
      type: 'string',
      array: true,
      describe:
        "fail the run (exit 99) unless METRIC[{DETAIL}]:STAT OP VALUE holds on unsaturated samples of every agent (repeatable; adds to the profile's thresholds:). " +
        'STAT p50 p90 p95 p99 max mean error-rate; e.g. api_create:p95<800ms, sessions:error-rate<2%. Options after commas: ' +
        'abort-on-fail (stop the run once it fails), min-samples=N (default 20), delay=DURATION (default 10s)',
    },
    junit: {
      type: 'string',
      describe:
        'also write the run as a JUnit XML report to this file, for CI test reporters: a test case for the run, one per threshold, one per failed session',
    },
    'on-agent-loss': {
      type: 'string',
      choices: ON_AGENT_LOSS,
      default: 'reassign',
      describe:
        'an agent lost mid-run (gone past --loss-grace, or restarted): give its unstarted sessions to agents with spare capacity (reassign), or fail the run (fail)',
    },
    config: {
      type: 'string',
      describe:
        "a run config file (YAML): this command's flags as keys, e.g. total: 200, ramp-up: 60s, threshold: [api_create:p95<800ms]; flags given here win, repeatable ones add to the file's (docs/run-config.md)",
    },
    ...common,
    ...remote,
    ...scenarioFlags,
  } as const;
  const argList = await withRunConfig(hideBin(process.argv), runOptions);

  const argv = await yargs(argList)
    .scriptName('controller')
    .usage('$0 <command> [options]\n\nCoordinate userprobe agents: plan and run measured sessions, store every metric durably, summarize.')
    .command('run', 'run one load test: wait for agents, split --total sessions by capacity, measure, summarize', (y) =>
      y
        .options(runOptions)
        .group(Object.keys(scenarioFlags), 'Scenario options (every agent gets them in its assignment):')
        .example('$0 run --scenario chat-load --total 6 --local-agents 2', 'one machine: demo target, 2 local agents, 6 sessions split 3/3')
        .example('$0 run --scenario chat-load --total 6 --local-agents 2 --demo-latency create=300', 'see injected delay in api_create')
        .example(
          "$0 run --scenario chat-load --total 20 --local-agents 1 --threshold 'api_create:p95<800ms' --threshold 'sessions:error-rate<5%,abort-on-fail'",
          'gate CI on latency: exit 99 when p95 of api_create reaches 800 ms; stop early once more than 5 % of sessions fail',
        )
        .example(
          'PROBE_TOKEN=$(cat master.secret) $0 run --scenario chat-load --total 200 --target tenant.yaml --expect-agents 4 --ramp-up 2m --tls-cert tls/server.crt --tls-key tls/server.key',
          'a cluster of 4 remote agents against a real target, over HTTPS (each agent with its own token: controller agent-token ID)',
        )
        .example(
          '$0 run --scenario chat-load --total 2 --local-agents 1 --scenario-module ./profiles/examples/custom-scenario.mjs',
          'a custom scenario, with chat-load capacity',
        )
        .example('$0 run --scenario video-call --total 2 --local-agents 2 --call-duration 30s', 'two 30-second calls')
        .example(
          '$0 run --config profiles/examples/load-test.yaml --total 50',
          "a load test written down once (scenario, ramp, thresholds …), here with the file's total replaced",
        )
        .example(
          '$0 run --scenario chat-load --total 200 --local-agents 1 --capacity 200 --messages 10 --think-time 20s-40s --input insert --session-timeout 10m',
          'chats that pause 20-40 s between exchanges and insert their text: far cheaper per session than the back-to-back default (bench/fidelity/results.md)',
        )
        .example(
          'PROBE_OPERATOR_TOKEN=$(cat operator.secret) $0 run --controller https://monitor.example.com:7077 --ca tls/ca.crt --scenario cobrowse --total 200',
          "a load test on a running daemon's fleet (controller serve --config): same flags, progress, summary and exit code",
        )
        .epilogue(EPILOGUE),
    )
    .command(
      'serve',
      'the long-running controller: the agent hub and ingest, and with --config the monitoring daemon (checks on schedules over the standing fleet, an operator API); without --config it runs nothing (Ctrl-C to stop)',
      (y) =>
        y
          .options({
            ...common,
            config: {
              type: 'string',
              describe:
                'monitor config (YAML, profiles/monitor.example.yaml): checks run on their schedules; reloaded on SIGHUP; needs PROBE_OPERATOR_TOKEN for the operator API and GET /metrics (docs/monitoring.md, docs/prometheus.md)',
            },
            'local-agents': {
              type: 'number',
              default: 0,
              describe: "start this many agent processes on this machine (allowed the hosts of the config's checks at start)",
            },
            capacity: { type: 'string', array: true, describe: 'sessions per local agent, N or SCENARIO=N (default: what the machine holds)' },
            'agent-cli': { type: 'string', describe: 'agent CLI for --local-agents (default: the workspace build packages/agent/dist/cli.js)' },
          })
          .example(
            '$0 serve --config profiles/monitor.local.yaml --local-agents 2',
            'continuous mode on one machine: two checks on the demo target, one line per round',
          )
          .example(
            'PROBE_TOKEN=$(cat master.secret) PROBE_OPERATOR_TOKEN=$(cat operator.secret) PROBE_DB_URL=mysql://userprobe:PASS@db/userprobe $0 serve --config /etc/userprobe/monitor.yaml --tls-cert tls/server.crt --tls-key tls/server.key',
            'the monitoring daemon for remote agents: rounds to MySQL, operator API on the same port; kill -HUP reloads the config',
          )
          .example(
            'PROBE_TOKEN=$(cat master.secret) $0 serve --port 7077 --out results --tls-cert tls/server.crt --tls-key tls/server.key',
            "after a controller crash: re-adopt and close the runs it left open, take in agents' spool replays",
          )
          .example(
            'PROBE_TOKEN=$(cat master.secret) $0 serve --tls-cert tls/server.crt --tls-key tls/server.key --revoked-agents revoked-agents.txt',
            'refuse (and disconnect) the agent ids listed in revoked-agents.txt',
          )
          .example('$0 serve --host 10.0.0.5 --allow-plain-http', 'plain HTTP on a private network you trust (tokens and batches readable on it)'),
    )
    .command(
      'status',
      'ask a running daemon (controller serve --config) for its agents, checks and runs in progress (operator token: PROBE_OPERATOR_TOKEN)',
      (y) =>
        y
          .options({
            ...remote,
            controller: { ...remote.controller, demandOption: true },
            json: { type: 'boolean', default: false, describe: 'print the status document as JSON' },
          })
          .example(
            'PROBE_OPERATOR_TOKEN=$(cat operator.secret) $0 status --controller https://monitor.example.com:7077 --ca tls/ca.crt',
            'agents (busy/capacity, last seen), checks (next and last rounds), runs in progress',
          )
          .example('PROBE_OPERATOR_TOKEN=... $0 status --controller http://127.0.0.1:7077 --json | jq .checks', 'the same as JSON'),
    )
    .command('abort <run-id>', 'abort a run in progress on a running daemon: a load test or a monitor round (operator token: PROBE_OPERATOR_TOKEN)', (y) =>
      y
        .positional('run-id', { type: 'string', describe: "the run's id (controller status lists them)" })
        .options({ ...remote, controller: { ...remote.controller, demandOption: true } })
        .example(
          'PROBE_OPERATOR_TOKEN=... $0 abort r-20261129-074519-b404 --controller http://127.0.0.1:7077',
          'its agents stop, what they measured is kept and summarized',
        ),
    )
    .command(
      'profile <action> <target>',
      'check a target profile: run one chat-load session of it on this machine and report it step by step — each field and selector reached, the step that failed with what it waited for, what was not reached',
      (y) =>
        y
          .positional('action', { type: 'string', choices: ['check'], describe: 'check: one session, step by step' })
          .positional('target', { type: 'string', describe: runOptions.target.describe })
          .options({
            'step-timeout': { type: 'string', default: '10s', describe: 'how long a step may take before it counts as failed (a duration: 10s, 1500ms)' },
            browser: { type: 'string', choices: BROWSER_KINDS, describe: "the browser to check with (default: the profile's, else shell)" },
            'profile-var': runOptions['profile-var'],
            'agent-cli': { type: 'string', describe: 'agent CLI that runs the check (default: the workspace build packages/agent/dist/cli.js)' },
            'log-level': common['log-level'],
          })
          .example('$0 profile check acme.yaml', 'exit 0: every step passed; 1: a step failed (the report names its field and selector)')
          .example(
            'ACME_AGENT_PASSWORD=… $0 profile check profiles/acme.yaml --step-timeout 5s',
            'the credentials come from the environment, as for a run with --local-agents',
          )
          .example('$0 profile check demo-nickname', 'a bundled demo shape (the demo is started for the check)'),
    )
    .command('alerts <action>', 'alerts of the monitoring daemon: `alerts test` sends a sample message to the Slack webhook the config names', (y) =>
      y
        .positional('action', { type: 'string', choices: ['test'], describe: 'test: send one sample alert message' })
        .options({
          config: {
            type: 'string',
            demandOption: true,
            describe: "the monitor config (its alerts: section names the webhook's variable, default PROBE_SLACK_WEBHOOK_URL)",
          },
          'log-level': common['log-level'],
        })
        .example(
          'PROBE_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T000/B000/XXXX $0 alerts test --config /etc/userprobe/monitor.yaml',
          'check the Slack wiring: exit 0 once Slack accepted the sample',
        ),
    )
    .command(
      'agent-token <agent-id>',
      "print one agent's token: HMAC-SHA256(master, agent id) in base64url, the master read from PROBE_TOKEN only; give it to that agent alone as its PROBE_TOKEN",
      (y) =>
        y
          .positional('agent-id', { type: 'string', describe: "the agent's --id" })
          .example(
            'PROBE_TOKEN=$(cat master.secret) $0 agent-token ams3-1 > ams3-1.token',
            'the token of agent ams3-1 (it starts with --id ams3-1 and PROBE_TOKEN set to it)',
          ),
    )
    .command(
      'reconcile <run-id>',
      "recompute a run's verdict from what is stored (late batches, or a run no controller closed): rewrite summary.json and run.json, update MySQL",
      (y) =>
        y
          .positional('run-id', { type: 'string', describe: "the run's id (its folder under --out)" })
          .options({
            out: common.out,
            db: common.db,
            'log-level': common['log-level'],
            json: { type: 'boolean', default: false, describe: 'print the outcome and summary as one JSON object' },
            force: {
              type: 'boolean',
              default: false,
              describe: 'judge a run that is still open and within its bound (a controller may still be following it)',
            },
          })
          .example('$0 reconcile r-20261129-074519-b404 --out results', 'judge the run again from its results folder')
          .example('PROBE_DB_URL=mysql://userprobe:PASS@db/userprobe $0 reconcile r-20261129-074519-b404', 'and close its row in MySQL'),
    )
    .command(
      'report <run>',
      "write a run's report.html again (charts, thresholds, session timeline; one self-contained file), e.g. for a run made before reports existed",
      (y) =>
        y
          .positional('run', { type: 'string', describe: 'a run folder, or a run id under --out' })
          .options({ out: common.out })
          .example('$0 report r-20261129-074519-b404', 'writes results/r-20261129-074519-b404/report.html and prints its path'),
    )
    .command(
      'compare <run-a> <run-b>',
      'did B get slower or faster than A? per metric: p50/p95 of both, the change, and whether it is beyond noise (Mann-Whitney U and a bootstrap interval)',
      (y) =>
        y
          .positional('run-a', { type: 'string', describe: 'the baseline: a run folder, or a run id under --out' })
          .positional('run-b', { type: 'string', describe: 'the run compared with it' })
          .options({
            out: common.out,
            'include-saturated': { type: 'boolean', default: false, describe: "judge samples taken while an agent's CPU was saturated too" },
            json: { type: 'boolean', default: false, describe: 'print the comparison as one JSON object' },
            html: { type: 'string', describe: 'also write it as a self-contained HTML page to this file' },
            'fail-on-slower': { type: 'boolean', default: false, describe: 'exit 1 when a metric got slower beyond noise (a CI gate on a release)' },
          })
          .example('$0 compare r-20261129-074519-b404 r-20261129-081207-3c1e', 'did the second run get slower? (run ids under --out)')
          .example('$0 compare results/before results/after --html compare.html --fail-on-slower', 'folders, an HTML copy, and exit 1 if slower'),
    )
    .command('migrate', 'create or upgrade the MySQL schema (sql/NNN_*.sql); re-running is a no-op', (y) =>
      y
        .options({ db: common.db, 'log-level': common['log-level'] })
        .example('PROBE_DB_URL=mysql://userprobe:PASS@127.0.0.1:3306/userprobe $0 migrate', 'create the schema, or apply what is new'),
    )
    .command('retention', 'roll raw samples up into 5-minute buckets, then delete raw samples older than --raw-days', (y) =>
      y
        .options({
          db: common.db,
          'log-level': common['log-level'],
          'raw-days': { type: 'number', default: 30, describe: 'keep raw samples this many days (rollups are kept)' },
          'rollup-only': { type: 'boolean', default: false, describe: 'compute rollups, delete nothing' },
        })
        .example(
          'PROBE_DB_URL=mysql://userprobe:PASS@db:3306/userprobe $0 retention --raw-days 14',
          'daily from cron or a systemd timer (the URL in the environment: ps shows --db)',
        ),
    )
    .demandCommand(1, 'name a command: run, serve, status, abort, profile, alerts, agent-token, reconcile, report, compare, migrate or retention')
    .epilogue(EPILOGUE)
    .strict()
    .version(false)
    .help()
    .wrap(110)
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw err ?? new ConfigError(`${msg ?? 'invalid arguments'} (see controller --help)`);
    })
    .parseAsync();

  const env = { PROBE_TOKEN: process.env['PROBE_TOKEN'], PROBE_DB_URL: process.env['PROBE_DB_URL'], PROBE_OPERATOR_TOKEN: process.env['PROBE_OPERATOR_TOKEN'] };
  const command = String(argv._[0]);
  const args = argv as unknown as Record<string, unknown>;
  const logLevel = (args['logLevel'] as LogLevel | undefined) ?? 'warn';
  const log = createLogger(logLevel);
  logForErrors = log;
  const outDir = (args['out'] as string | undefined) ?? DEFAULT_OUT_DIR;
  const io: CommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    log,
    onInterrupt: interruptHandler(),
    onHangup: hangupHandler,
    dbSinkFactory: async (url, sinkLog) => (await import('./db/index.js')).createMysqlSink({ url, log: sinkLog, spoolDir: join(outDir, '.mysql-spool') }),
  };
  const lines = { out: (l: string) => process.stdout.write(`${l}\n`), err: (l: string) => process.stderr.write(`controller: ${l}\n`) };
  if (command === 'migrate') return (await import('./commands/db-commands.js')).migrateCommand({ db: args['db'] as string | undefined, env, log, ...lines });
  if (command === 'retention') {
    return (await import('./commands/db-commands.js')).retentionCommand({
      db: args['db'] as string | undefined,
      env,
      log,
      ...lines,
      rawDays: args['rawDays'] as number | undefined,
      rollupOnly: args['rollupOnly'] as boolean | undefined,
    });
  }
  if (command === 'profile') {
    return (await import('./commands/profile-check-command.js')).profileCheckCommand(
      {
        target: String(args['target']),
        profileVars: parseProfileVars((args['profileVar'] as string[] | undefined) ?? []),
        browser: args['browser'] as string | undefined,
        stepTimeout: String(args['stepTimeout']),
        agentCli: (args['agentCli'] as string | undefined) ?? null,
        log,
      },
      io,
    );
  }
  if (command === 'alerts')
    return (await import('./commands/alerts-test-command.js')).alertsTestCommand({ configFile: String(args['config']), env: process.env, log, out: lines.out });
  if (command === 'agent-token') return (await import('./commands/agent-token-command.js')).agentTokenCommand(String(args['agentId']), env, lines.out);
  if (command === 'status' || command === 'abort' || (command === 'run' && args['controller'] !== undefined)) {
    const { abortCommand, remoteRunCommand, statusCommand } = await import('./commands/remote-commands.js');
    const target = await (await import('./api/api-client.js')).apiTarget({ controller: String(args['controller']), ca: args['ca'] as string | undefined, env });
    if (command === 'status') return statusCommand(target, args['json'] === true, io);
    if (command === 'abort') return abortCommand(target, String(args['runId']), io);
    // Only the flags given on the command line: the daemon applies the defaults (a submitted run has no port, folder or local agents of its own).
    return remoteRunCommand(
      target,
      pick(
        args,
        RUN_KEYS.filter((k) => givenFlags(argList).has(k)),
      ),
      io,
    );
  }
  if (command === 'run') {
    const config = resolveRunConfig(pick(args, RUN_KEYS), env);
    return (await import('./commands/run-command.js')).runCommand(config, io);
  }
  if (command === 'serve') {
    const config = resolveServeConfig(pick(args, SERVE_KEYS), env);
    return (await import('./commands/serve-command.js')).serveCommand(config, io);
  }
  if (command === 'reconcile') {
    return (await import('./commands/reconcile-command.js')).reconcileCommand(
      {
        runId: String(args['runId']),
        outDir,
        dbUrl: (args['db'] as string | undefined) ?? env.PROBE_DB_URL ?? null,
        json: args['json'] === true,
        force: args['force'] === true,
      },
      io,
    );
  }
  if (command === 'report') {
    const f = await (await import('./results/run-folder-reader.js')).findRunFolder(String(args['run']), outDir);
    process.stdout.write(`${await (await import('./results/report-file.js')).writeRunReport(f.outDir, f.runId)}\n`);
    return EXIT.OK;
  }
  if (command === 'compare') {
    return (await import('./commands/compare-command.js')).compareCommand(
      {
        runA: String(args['runA']),
        runB: String(args['runB']),
        out: outDir,
        includeSaturated: args['includeSaturated'] === true,
        json: args['json'] === true,
        html: (args['html'] as string | undefined) ?? null,
        failOnSlower: args['failOnSlower'] === true,
      },
      { stdout: process.stdout, stderr: process.stderr },
    );
  }
  throw new ConfigError(
    `unknown command "${command}"; accepted: run, serve, status, abort, profile, alerts, agent-token, reconcile, report, compare, migrate, retention`,
  );
}

let logForErrors: ReturnType<typeof createLogger> | null = null;

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const d = describeError(e);
    process.stderr.write(`controller: ${d.message}\n`);
    if (isProbeError(e) && USER_ERROR_CODES.includes(e.code)) process.exit(EXIT.BAD_INPUT);
    if (isProbeError(e)) process.exit(EXIT.RUN_FAILED);
    logForErrors?.debug({ err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, 'unexpected error');
    process.exit(EXIT.RUN_FAILED);
  },
);
