// Start skew: how late each session of a synchronized start begins against its planned instant
// (the agreed start plus its ramp offset, on the controller's clock), with real local agents.
//
// Per round, interleaved so drift in the machine hits both:
//  - alone: `controller run --local-agents 1 --total 1` (one agent, one session: nothing else
//    wakes at the start instant — the reference);
//  - fleet: `controller run --local-agents A --total A` (A agents, one session each, all at the
//    same instant: --ramp-up 0s --no-adaptive-start).
// Each session's lateness = its record's start (sessions.jsonl startedAt, controller clock) − the
// run's agreed start (run-state.json startAt) − its slot's offset. The summary's own line
// ("sessions started … after their planned instant") is read back as a cross-check.
//
//   npx tsc -b && node bench/start-skew/run.mjs [--rounds 8] [--agents 4] [--out bench/start-skew/results.md]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('../../', import.meta.url);
const CONTROLLER = new URL('packages/controller/dist/cli.js', root).pathname;
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    agents: { type: 'string', default: '4' },
    out: { type: 'string', default: 'bench/start-skew/results.md' },
  },
});
const ROUNDS = Number(args.rounds);
const AGENTS = Number(args.agents);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1 && Number.isInteger(AGENTS) && AGENTS >= 1)) {
  process.stderr.write('--rounds and --agents take whole numbers of at least 1\n');
  process.exit(2);
}

function runOnce(agents, outDir) {
  const argv = [CONTROLLER, 'run', '--scenario', 'chat-load', '--total', String(agents), '--local-agents', String(agents)];
  argv.push('--ramp-up', '0s', '--no-adaptive-start', '--messages', '1', '--out', outDir);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`controller run exited ${code}: ${stderr.slice(-800)}`))));
  });
}

async function lateness(outDir) {
  const [runDir] = (await readdir(outDir)).filter((d) => d.startsWith('r-'));
  const dir = join(outDir, runDir);
  const state = JSON.parse(await readFile(join(dir, 'run-state.json'), 'utf8'));
  const offsets = new Map(state.slots.map((s) => [s.current, s.offsetMs]));
  const sessions = (await readFile(join(dir, 'sessions.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8'));
  return {
    late: sessions.filter((s) => offsets.has(s.sessionId)).map((s) => Date.parse(s.startedAt) - state.startAt - offsets.get(s.sessionId)),
    line: summary.ramp.startLateness,
  };
}

const nearestRank = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const stats = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, min: s[0], p50: nearestRank(s, 50), p99: nearestRank(s, 99), max: s.at(-1) };
};

const load0 = loadavg()[0];
const cells = { alone: [], fleet: [] };
const perRound = [];
for (let r = 1; r <= ROUNDS; r++) {
  const row = { round: r };
  // Alternate which configuration goes first.
  const order = r % 2 === 1 ? ['alone', 'fleet'] : ['fleet', 'alone'];
  for (const cell of order) {
    const outDir = await mkdtemp(join(tmpdir(), 'up-bench-skew-'));
    try {
      await runOnce(cell === 'alone' ? 1 : AGENTS, outDir);
      const got = await lateness(outDir);
      cells[cell].push(...got.late);
      row[cell] = got;
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }
  perRound.push(row);
  process.stderr.write(`round ${r}: alone ${row.alone.late.join(', ')} ms; fleet ${row.fleet.late.join(', ')} ms\n`);
}

const ms = (v) => `${Math.round(v)}`;
const cellRow = (name, label) => {
  const s = stats(cells[name]);
  return `| ${label} | ${s.n} | ${ms(s.min)} | ${ms(s.p50)} | **${ms(s.p99)}** | ${ms(s.max)} |`;
};
const cpu = cpus();
const md = `# Start skew: a synchronized start with real local agents

Command (repository root, after \`npx tsc -b\`):

    node bench/start-skew/run.mjs --rounds ${ROUNDS} --agents ${AGENTS}

Machine: ${cpu.length} × ${cpu[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}; run ${new Date().toISOString().slice(0, 16)}Z, 1-minute load average ${load0.toFixed(1)} at the start.

Each round runs \`controller run --scenario chat-load --ramp-up 0s --no-adaptive-start --messages 1\` twice, order alternating:
**alone** (\`--local-agents 1 --total 1\`) and **fleet** (\`--local-agents ${AGENTS} --total ${AGENTS}\`: ${AGENTS} agent processes, each
with its own Chromium, one session each, all planned for the same instant). Lateness = the session record's start
(controller clock, through each agent's clock offset) − its planned instant. The agents are local: they share this
machine's ${cpu.length} cores with each other, their browsers, the controller and the demo target — a fleet of droplets would not.

| cell | sessions | min (ms) | p50 (ms) | p99 (ms) | max (ms) |
|---|---|---|---|---|---|
${cellRow('alone', 'alone (1 agent)')}
${cellRow('fleet', `fleet (${AGENTS} agents)`)}

Per round (ms; the summary's own p99 in brackets):

| round | alone | fleet |
|---|---|---|
${perRound.map((r) => `| ${r.round} | ${r.alone.late.map(ms).join(', ')} [${ms(r.alone.line.p99)}] | ${r.fleet.late.map(ms).join(', ')} [${ms(r.fleet.line.p99)}] |`).join('\n')}
`;
await writeFile(args.out, md);
process.stdout.write(md);
