// Scale benchmark: one controller (`controller serve`, as deployed) and a fleet of simulated
// agents (bench/scale/swarm.mjs: real socket.io connections speaking the agent protocol, no
// browser) in separate processes on this machine; per fleet size:
//
//  - idle: the controller's CPU (share of one core) and PSS with every agent connected and
//    sending agent:status every 5 s;
//  - a load test over the whole fleet (`controller run --controller URL --scenario chat-load
//    --total N --ramp-up 0`: one session per agent, all at the same agreed start):
//    - the assignment round: from the request to the first assignment an agent received, and
//      to the last assignment ack (each agent makes its clock-sync round trips first, as the
//      real agent does), against the agreed start (a start in the past is late for everyone);
//    - start lateness: each session's actual start against its planned instant;
//    - ingest: every agent sends its batch in the same instant; ack time, resends (no ack
//      within the agents' 5 s ack timeout), and exact counts (every batch stored once);
//    - the controller's CPU over the run, the run's wall time and its exit code.
//
// With --db the controller also writes to MySQL (a fresh database per invocation, migrated
// here and dropped at the end; reached as BENCH_DB_ADMIN_URL, default mysql://root@127.0.0.1:3306,
// and handed to the controller in PROBE_DB_URL, never on a command line): the batches it acks
// are then acked only once MySQL has them too, and the counts add what MySQL holds for the run.
//
//   npx tsc -b && node bench/scale/run.mjs [--levels 1000,2500,5000] [--swarms 4] [--clock connect|assign] [--db] [--cpu-prof DIR] [--out FILE]
//
// Results: bench/scale/results.md.
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../lib/free-port.mjs';
import { freshDb } from '../lib/fresh-db.mjs';
import { ownCpuSeconds, ownPssMb } from '../lib/proc-tree.mjs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = new URL('../../', import.meta.url);
const CLI = new URL('packages/controller/dist/cli.js', root).pathname;
const SWARM = new URL('swarm.mjs', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    levels: { type: 'string', default: '1000,2500,5000' },
    swarms: { type: 'string', default: '4' },
    'idle-seconds': { type: 'string', default: '20' },
    // one table per invocation; bench/scale/results.md puts a before and an after side by side
    out: { type: 'string', default: join(tmpdir(), 'userprobe-bench-scale.md') },
    clock: { type: 'string', default: 'connect' },
    // a V8 CPU profile of the controller per level, written into this folder (node --cpu-prof)
    'cpu-prof': { type: 'string' },
    // results to MySQL as well as the results folder
    db: { type: 'boolean', default: false },
  },
});
const LEVELS = args.levels.split(',').map(Number);
const SWARMS = Number(args.swarms);
const IDLE_S = Number(args['idle-seconds']);

// --db: a fresh database (bench/lib/fresh-db.mjs), dropped at the end.
const db = args.db ? await freshDb() : null;

/** What MySQL holds of a run: batch keys, session records, sample rows. */
async function storedInMysql(conn, runId) {
  const count = async (table) => Number((await conn.query(`SELECT COUNT(*) AS n FROM ${table} WHERE run_id = ?`, [runId]))[0][0].n);
  return { batches: await count('ingested_batches'), sessions: await count('sessions'), samples: await count('samples') };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN;
};

/** Polls the controller's /metrics until its MySQL spool is empty (60 s at most); the largest spool size seen. */
async function spoolDrained(url, operatorToken) {
  let max = 0;
  for (let i = 0; i < 600; i++) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${operatorToken}` } })).text();
    const m = /^userprobe_mysql_spool_entries (\d+)/m.exec(text);
    const n = m ? Number(m[1]) : NaN;
    if (!Number.isFinite(n)) throw new Error(`no userprobe_mysql_spool_entries in /metrics:\n${text.slice(0, 500)}`);
    max = Math.max(max, n);
    if (n === 0) return max;
    await sleep(100);
  }
  throw new Error('the MySQL spool did not drain within 60 s');
}

function lines(stream, onLine) {
  let buf = '';
  stream.on('data', (b) => {
    buf += String(b);
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      onLine(buf.slice(0, nl), Date.now());
      buf = buf.slice(nl + 1);
    }
  });
}

async function level(n) {
  const dir = await mkdtemp(join(tmpdir(), 'up-bench-scale-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, PROBE_TOKEN: randomBytes(24).toString('base64url'), PROBE_OPERATOR_TOKEN: randomBytes(24).toString('base64url') };
  delete env.PROBE_DB_URL;
  if (db) env.PROBE_DB_URL = db.url;
  const prof = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof'], '--cpu-prof-name', `controller-${n}.cpuprofile`] : [];
  const ctl = spawn('node', [...prof, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--out', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ctlLog = [];
  lines(ctl.stdout, (l) => ctlLog.push(l));
  lines(ctl.stderr, (l) => ctlLog.push(l));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 200) throw new Error(`controller did not come up:\n${ctlLog.join('\n')}`);
    await sleep(100);
  }
  const swarms = Array.from({ length: SWARMS }, (_, k) => {
    const count = Math.floor(n / SWARMS) + (k < n % SWARMS ? 1 : 0);
    const from = Array.from({ length: k }, (_, j) => Math.floor(n / SWARMS) + (j < n % SWARMS ? 1 : 0)).reduce((a, b) => a + b, 0);
    return fork(SWARM, ['--url', url, '--from', String(from), '--count', String(count), '--clock', args.clock], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  });
  const connectStart = Date.now();
  await Promise.all(
    swarms.map(
      (s) =>
        new Promise((resolve, reject) => {
          s.once('message', (m) => (m.kind === 'connected' ? resolve() : reject(new Error(JSON.stringify(m)))));
          s.once('exit', (code) => reject(new Error(`a swarm exited with ${code}`)));
        }),
    ),
  );
  const connectS = (Date.now() - connectStart) / 1000;
  await sleep(5_000); // let the connect burst settle
  const c0 = ownCpuSeconds(ctl.pid);
  await sleep(IDLE_S * 1000);
  const idleCpu = (ownCpuSeconds(ctl.pid) - c0) / IDLE_S;
  const idlePss = ownPssMb(ctl.pid);

  const r0 = ownCpuSeconds(ctl.pid);
  const submitted = Date.now();
  const run = spawn(
    'node',
    [CLI, 'run', '--controller', url, '--scenario', 'chat-load', '--total', String(n), '--ramp-up', '0', '--expect-agents', String(n)],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const runOut = [];
  lines(run.stdout, (l, at) => runOut.push([at, l]));
  lines(run.stderr, (l, at) => runOut.push([at, l]));
  const exitCode = await new Promise((r) => run.once('exit', (code) => r(code)));
  const ended = Date.now();
  const runCpu = ownCpuSeconds(ctl.pid) - r0;
  const runPss = ownPssMb(ctl.pid);

  const reports = await Promise.all(
    swarms.map(
      (s) =>
        new Promise((resolve) => {
          s.once('message', resolve);
          s.send({ kind: 'report' });
        }),
    ),
  );
  const all = (k) => reports.flatMap((r) => r[k]);
  const sum = (k) => reports.reduce((a, r) => a + r[k], 0);
  const assigned = all('assigned');
  const startAt = assigned[0]?.[2];
  const firstAssign = Math.min(...assigned.map((a) => a[0]));
  const lastAck = Math.max(...assigned.map((a) => a[1]));
  const runId = (await readdir(dir, { withFileTypes: true })).find((e) => e.isDirectory() && !e.name.startsWith('.'))?.name ?? '';
  const runDir = join(dir, runId);
  const keys = (await readFile(join(runDir, 'batches.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const distinct = new Set(keys.map((k) => `${k.agentId}#${k.seq}`)).size;
  const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
  // What MySQL holds once the controller's MySQL spool (batches acked while MySQL lagged) is empty.
  const spooledMax = db ? await spoolDrained(url, env.PROBE_OPERATOR_TOKEN) : null;
  const inMysql = db ? { ...(await storedInMysql(db.conn, runId)), spooledMax } : null;

  for (const s of swarms) s.send({ kind: 'stop' });
  ctl.kill('SIGTERM');
  await new Promise((r) => ctl.once('exit', r));
  await rm(dir, { recursive: true, force: true });
  const planLine = runOut.find(([, l]) => l.startsWith('plan:'));
  return {
    n,
    connectS,
    idleCpu,
    idlePss,
    planMs: planLine ? planLine[0] - submitted : NaN,
    firstAssignMs: firstAssign - submitted,
    lastAckMs: lastAck - submitted,
    roundMs: lastAck - firstAssign,
    leadMs: startAt - lastAck,
    assignedAgents: assigned.length,
    lateness: { p50: pct(all('lateness'), 50), p99: pct(all('lateness'), 99), max: Math.max(...all('lateness')) },
    batchAck: { p50: pct(all('batchAckMs'), 50), p99: pct(all('batchAckMs'), 99), max: Math.max(...all('batchAckMs')) },
    resends: sum('resends'),
    clockRoundsLost: sum('clockRoundsLost'),
    duplicates: sum('duplicates'),
    refused: sum('refused'),
    finished: sum('finished'),
    errors: reports.flatMap((r) => r.errors).slice(0, 5),
    stored: keys.length,
    distinct,
    recorded: summary.sessions?.recorded,
    inMysql,
    ok: summary.sessions?.ok,
    exitCode,
    runS: (ended - submitted) / 1000,
    runCpu,
    runPss,
    tail: runOut.slice(-3).map(([, l]) => l),
  };
}

const started = new Date();
const load0 = loadavg()[0];
const rows = [];
try {
  for (const n of LEVELS) {
    const r = await level(n);
    rows.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
} finally {
  await db?.drop();
}
const f0 = (v) => (Number.isFinite(v) ? v.toFixed(0) : '-');
const md = [
  '# Scale benchmark: one controller, thousands of agents',
  '',
  'Command (repository root, after `npx tsc -b`):',
  '',
  `    node bench/scale/run.mjs --levels ${LEVELS.join(',')} --swarms ${SWARMS}${db ? ' --db' : ''}`,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}; run ${started.toISOString().slice(0, 16)}Z, 1-minute load average ${load0.toFixed(1)} at the start.`,
  `The controller (\`controller serve\`, ${db ? `results folder and MySQL, a fresh database, innodb_flush_log_at_trx_commit = ${db.flush}` : 'results folder only'}) and ${SWARMS} swarm processes of simulated agents (\`bench/scale/swarm.mjs\`) share these cores:`,
  'every figure includes the swarm competing for the CPU, as a fleet on other machines would not.',
  '',
  'A simulated agent speaks the real protocol over its own socket.io connection: Hello with its own derived token, `agent:status` every 5 s,',
  `on \`run:assign\` its clock-sync round trips, then the ack; at the agreed start its session: progress, one batch of the chat-load core metrics`,
  "(resent when no ack came within 5 s, as the agent's outbox does), progress, then `run:finished`.",
  '',
  `| agents | connect (s) | idle CPU (% of a core) | idle PSS (MB) | request → plan (ms) | request → first assignment (ms) | request → last ack (ms) | assignment round (ms) | agreed start − last ack (ms) | start lateness p50 / p99 / max (ms) | batch ack p50 / p99 / max (ms) | resends | clock round trips lost | stored / distinct / recorded |${db ? ' MySQL batches / sessions / samples (spool after the run, largest) |' : ''} exit | run (s) | run CPU (s) | PSS after (MB) |`,
  `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|${db ? '---|' : ''}---|---|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.n} | ${r.connectS.toFixed(1)} | ${(r.idleCpu * 100).toFixed(1)} | ${f0(r.idlePss)} | ${f0(r.planMs)} | ${f0(r.firstAssignMs)} | ${f0(r.lastAckMs)} | ${f0(r.roundMs)} | ${f0(r.leadMs)} | ${f0(r.lateness.p50)} / ${f0(r.lateness.p99)} / ${f0(r.lateness.max)} | ${f0(r.batchAck.p50)} / ${f0(r.batchAck.p99)} / ${f0(r.batchAck.max)} | ${r.resends} | ${r.clockRoundsLost} | ${r.stored} / ${r.distinct} / ${r.recorded} |${r.inMysql ? ` ${r.inMysql.batches} / ${r.inMysql.sessions} / ${r.inMysql.samples} (${r.inMysql.spooledMax}) |` : ''} ${r.exitCode} | ${r.runS.toFixed(1)} | ${r.runCpu.toFixed(1)} | ${f0(r.runPss)} |`,
  ),
  '',
];
await writeFile(args.out, md.join('\n'));
process.stdout.write(`wrote ${args.out}\n`);
