#!/usr/bin/env node
import { pino } from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ERROR_KNOBS, LATENCY_KNOBS } from './knobs/schema.js';
import { knobsFromFlags } from './knobs/flags.js';
import { DEFAULT_APP_HOST, DEFAULT_SITE_HOST, startDemoTarget } from './server.js';
import { DEFAULT_CREDENTIALS } from './console/sessions.js';
import { DemoConfigError } from './errors.js';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('demo-target')
    .usage('$0 [options]\n\nStart the bundled demo live-chat product (visitor site + widget app) on loopback.')
    .option('site-host', { type: 'string', default: DEFAULT_SITE_HOST, describe: 'host of the visitor website' })
    .option('app-host', {
      type: 'string',
      default: DEFAULT_APP_HOST,
      describe: 'host of the app (widget, API, console); must be a different site from --site-host',
    })
    .option('site-port', { type: 'number', default: 8080, describe: 'port of the visitor website (0 = any free port)' })
    .option('app-port', { type: 'number', default: 8081, describe: 'port of the app (0 = any free port)' })
    .option('latency', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: `NAME=MS server-side delay; names: ${LATENCY_KNOBS.join(', ')}`,
    })
    .option('error', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: `ENDPOINT=STATUS[@RATE] injected error; endpoints: ${ERROR_KNOBS.join(', ')}`,
    })
    .option('agent-user', {
      type: 'string',
      default: process.env['DEMO_AGENT_USER'] ?? DEFAULT_CREDENTIALS.username,
      defaultDescription: '$DEMO_AGENT_USER or agent',
      describe: 'agent console username (the password is read from $DEMO_AGENT_PASSWORD, default demo)',
    })
    .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error', 'silent'] })
    .example('$0', 'site on http://127.0.0.1:8080, app on http://127.0.0.2:8081')
    .example('$0 --site-port 0 --app-port 0', 'pick free ports and print them')
    .example('$0 --latency create=300 --latency realtime=100', 'create-chat takes 300 ms; every relayed message 100 ms')
    .example('$0 --error init=500 --error addMessage=503@0.1', 'init always fails; 10% of add-message calls fail')
    .example(`curl -X PUT -d '{"latency":{"init":150}}' http://127.0.0.2:8081/__knobs`, 'change knobs at run time')
    .epilog(
      `Knobs at run time: GET/PUT /__knobs, POST /__knobs/reset, POST /__knobs/drop-sockets on the app origin.\nOn start it prints DEMO_SITE_URL= and DEMO_APP_URL= lines: the two origins a client is configured with.`,
    )
    .strict()
    .help()
    .parseAsync();

  const logger = pino({ level: argv['log-level'] }, pino.destination(2));
  const knobs = knobsFromFlags(argv.latency, argv.error);
  const password = process.env['DEMO_AGENT_PASSWORD'] ?? DEFAULT_CREDENTIALS.password;
  const target = await startDemoTarget({
    siteHost: argv['site-host'],
    appHost: argv['app-host'],
    sitePort: argv['site-port'],
    appPort: argv['app-port'],
    knobs,
    logger,
    credentials: { username: argv['agent-user'], password },
  });
  process.stdout.write(
    `demo target running\n` +
      `  visitor site:   ${target.siteUrl}/\n` +
      `  agent console:  ${target.appUrl}/console/\n` +
      `  knobs:          ${target.appUrl}/__knobs\n` +
      `  DEMO_SITE_URL=${target.vars.DEMO_SITE_URL}\n` +
      `  DEMO_APP_URL=${target.vars.DEMO_APP_URL}\n`,
  );
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    void target.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`demo-target: ${e instanceof DemoConfigError ? e.message : String(e)}\n`);
  process.exit(e instanceof DemoConfigError ? 2 : 1);
});
