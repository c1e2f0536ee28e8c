// The agent's own overhead: what the agent's Node process (the driver, not the browser it
// drives) costs to start and to hold idle, measured from outside through /proc.
//
// Per round: a controller (`controller serve`) on loopback; the agent CLI started against it
// (`agent --controller … --id …`, its default browser launched at start); measured:
//  - start: the agent process's own CPU (user + system, not its children's) from spawn until
//    it logs "connected to the controller", and the wall time to get there;
//  - idle: its PSS (own process only) after 10 s connected, and its CPU over those 10 s;
//  - the browser it launched, apart: the PSS of the agent's process tree minus its own.
//
//   npx tsc -b && node bench/agent-overhead/run.mjs [--rounds 5] [--out bench/agent-overhead/results.md]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../lib/free-port.mjs';
import { ownCpuSeconds, ownPssMb, tree } from '../lib/proc-tree.mjs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('../../', import.meta.url);
const CONTROLLER = new URL('packages/controller/dist/cli.js', root).pathname;
const AGENT = new URL('packages/agent/dist/cli.js', root).pathname;
const { deriveAgentToken } = await import(new URL('packages/controller/dist/index.js', root).href);
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'idle-seconds': { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/agent-overhead/results.md' },
  },
});
const ROUNDS = Number(args.rounds);
const IDLE_S = Number(args['idle-seconds']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function round() {
  const dir = await mkdtemp(join(tmpdir(), 'up-bench-agent-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const master = randomBytes(24).toString('base64url');
  const ctl = spawn('node', [CONTROLLER, 'serve', '--host', '127.0.0.1', '--port', String(port), '--out', join(dir, 'results')], {
    env: { ...process.env, PROBE_TOKEN: master, PROBE_OPERATOR_TOKEN: randomBytes(24).toString('base64url') }, // the operator token serves /healthz
    stdio: 'ignore',
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (i > 200) throw new Error('controller did not come up');
    await sleep(100);
  }
  const id = `bench-${createHash('sha1').update(dir).digest('hex').slice(0, 8)}`;
  const t0 = Date.now();
  const agent = spawn('node', [AGENT, `--controller=${url}`, `--id=${id}`, `--name=${id}`, `--spool=${join(dir, 'spool')}`, '--log-level=info'], {
    env: { ...process.env, PROBE_TOKEN: deriveAgentToken(master, id) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const connected = new Promise((resolve, reject) => {
    const onData = (b) => {
      log += String(b);
      if (log.includes('connected to the controller')) resolve(Date.now());
    };
    agent.stdout.on('data', onData);
    agent.stderr.on('data', onData);
    agent.once('exit', (code) => reject(new Error(`agent exited with ${code}: ${log.slice(-2000)}`)));
  });
  const at = await connected;
  const startCpu = ownCpuSeconds(agent.pid);
  await sleep(IDLE_S * 1000);
  const idleCpu = ownCpuSeconds(agent.pid) - startCpu;
  const own = ownPssMb(agent.pid);
  const browser = tree(agent.pid)
    .filter((p) => p !== agent.pid)
    .reduce((mb, p) => mb + ownPssMb(p), 0);
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  ctl.kill('SIGTERM');
  await new Promise((r) => ctl.once('exit', r));
  await rm(dir, { recursive: true, force: true });
  return { startS: (at - t0) / 1000, startCpu, idleCpuShare: idleCpu / IDLE_S, ownPss: own, browserPss: browser };
}

const started = new Date();
const load = loadavg()[0];
const rows = [];
for (let r = 1; r <= ROUNDS; r++) {
  const x = await round();
  rows.push(x);
  process.stdout.write(`round ${r}: ${JSON.stringify(x)}\n`);
}
const median = (k) => [...rows.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(rows.length / 2)];
const md = [
  "# The agent's own overhead",
  '',
  'Command (repository root, after `npx tsc -b`):',
  '',
  `    node bench/agent-overhead/run.mjs --rounds ${ROUNDS}`,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}; run ${started.toISOString().slice(0, 16)}Z, 1-minute load average ${load.toFixed(1)} at the start.`,
  '',
  'The agent CLI started against a `controller serve` on loopback, with its default browser (the headless shell) launched at start.',
  "Agent = the agent's Node process alone (`/proc/PID`: its own CPU, not its children's; its own PSS); browser = the PSS of every process below it.",
  '',
  '| round | spawn → connected (s) | agent CPU to connect (s) | agent CPU idle (% of a core, 10 s) | agent PSS idle (MB) | browser PSS idle (MB) |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (r, i) =>
      `| ${i + 1} | ${r.startS.toFixed(2)} | ${r.startCpu.toFixed(2)} | ${(r.idleCpuShare * 100).toFixed(1)} | ${r.ownPss.toFixed(0)} | ${r.browserPss.toFixed(0)} |`,
  ),
  `| **median** | **${median('startS').toFixed(2)}** | **${median('startCpu').toFixed(2)}** | **${(median('idleCpuShare') * 100).toFixed(1)}** | **${median('ownPss').toFixed(0)}** | **${median('browserPss').toFixed(0)}** |`,
  '',
];
await writeFile(args.out, md.join('\n'));
process.stdout.write(`wrote ${args.out}\n`);
