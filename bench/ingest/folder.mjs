// Results-folder benchmark: many agents' batches arriving at the controller's results folder at
// once (as at the end of a run over thousands of agents), and how long until each is acked
// (its lines and key on disk). Two ways, interleaved in every round, on the same disk:
//
//  - one at a time: each batch written and acked before the next is handed over — the cost of
//    a batch that finds the run's queue empty, and what every queued batch paid before group
//    commit (three fsyncs per batch, in a line);
//  - at once: every batch handed over together (Promise.all), as the hub does when N agents
//    send in the same instant — the group commit writes them in groups of GROUP_MAX_BATCHES.
//
// Reported per way: batches/s, and the ack latency of the batches (p50, p99, max) against the
// agents' ack timeout (BATCH_ACK_TIMEOUT_MS). Exact counts checked: every batch stored once.
//
//   npx tsc -b packages/controller && node bench/ingest/folder.mjs [--agents 5000] [--rounds 3] [--out bench/ingest/folder-results.md]
//
// Results: bench/ingest/folder-results.md (with the figures from before group commit).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const root = new URL('../../', import.meta.url);
const requireCtl = createRequire(new URL('packages/controller/package.json', root));
const pino = requireCtl('pino');
const { ResultsSink, GROUP_MAX_BATCHES } = await import(new URL('packages/controller/dist/results/folder-sink.js', root).href);
const { coreMetrics, BATCH_ACK_TIMEOUT_MS } = await import(new URL('packages/shared/dist/index.js', root).href);

const { values: args } = parseArgs({
  options: {
    agents: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/ingest/folder-results.md' },
  },
});
const AGENTS = Number(args.agents);
const ROUNDS = Number(args.rounds);
const log = pino({ level: 'silent' });

/** One batch per agent: one chat-load session's core metrics and its record. */
function batches(runId) {
  const metrics = coreMetrics('chat-load');
  const t0 = Date.UTC(2030, 0, 1);
  return Array.from({ length: AGENTS }, (_, i) => {
    const sessionId = `s${String(i + 1).padStart(5, '0')}`;
    const agent = { agentId: `agent-${i}`, name: `agent-${i}`, labels: {}, capacity: { 'chat-load': 1, 'video-call': 0, cobrowse: 0 }, location: `r${i % 4}` };
    const batch = {
      runId,
      agentId: agent.agentId,
      seq: 1,
      createdAt: t0,
      samples: metrics.map((metric, k) => ({ sessionId, metric, value: 100 + k, ts: t0 + k })),
      sessions: [
        { sessionId, scenario: 'chat-load', browser: 'shell', status: 'ok', startedAt: t0, endedAt: t0 + 9000, failedStep: null, error: null, artifacts: [] },
      ],
    };
    return { batch, agent };
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function measure(way, round) {
  const dir = await mkdtemp(join(tmpdir(), 'up-bench-folder-'));
  const sink = new ResultsSink({ outDir: dir, log });
  await sink.open();
  const runId = `bench-${way}-${round}`;
  const all = batches(runId);
  const acks = [];
  const t = performance.now();
  const one = async ({ batch, agent }) => {
    const r = await sink.writeBatch(batch, agent);
    if (r !== 'stored') throw new Error(`${batch.agentId}: ${r}`);
    acks.push(performance.now() - t);
  };
  if (way === 'at once') await Promise.all(all.map(one));
  else {
    for (const b of all) {
      const s = performance.now();
      await one(b);
      acks[acks.length - 1] = performance.now() - s; // one at a time: each batch's own write
    }
  }
  const ms = performance.now() - t;
  await sink.close();
  const keys = (await readFile(join(dir, runId, 'batches.jsonl'), 'utf8')).trim().split('\n').length;
  const samples = (await readFile(join(dir, runId, 'samples.jsonl'), 'utf8')).trim().split('\n').length;
  await rm(dir, { recursive: true, force: true });
  if (keys !== AGENTS || samples !== AGENTS * coreMetrics('chat-load').length) throw new Error(`${way}: ${keys} keys, ${samples} samples`);
  acks.sort((a, b) => a - b);
  return { way, round, ms, perSec: (AGENTS / ms) * 1000, p50: pct(acks, 50), p99: pct(acks, 99), max: acks[acks.length - 1] };
}

const started = new Date();
const load = loadavg()[0];
const rows = [];
for (let round = 1; round <= ROUNDS; round++) {
  const ways = round % 2 === 1 ? ['one at a time', 'at once'] : ['at once', 'one at a time'];
  for (const way of ways) {
    const r = await measure(way, round);
    rows.push(r);
    process.stdout.write(
      `round ${round} ${way}: ${r.perSec.toFixed(0)} batches/s, ack p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms\n`,
    );
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const by = (way) => rows.filter((r) => r.way === way);
const ratio = by('at once').map((r) => r.perSec / by('one at a time').find((o) => o.round === r.round).perSec);
const f = (v) => v.toFixed(1);
const md = [
  '# Results-folder benchmark: thousands of agents acking at once',
  '',
  'Command (repository root, after `npx tsc -b packages/controller`):',
  '',
  `    node bench/ingest/folder.mjs --agents ${AGENTS} --rounds ${ROUNDS}`,
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}, results folder under ${tmpdir()}; run ${started.toISOString().slice(0, 16)}Z, 1-minute load average ${load.toFixed(1)} at the start.`,
  '',
  `${AGENTS} batches, one per agent (one chat-load session: ${coreMetrics('chat-load').length} core samples and its session record), into one run's results folder`,
  `(\`ResultsSink.writeBatch\`: lines appended and fsynced, then the key line; resolved once the key is on disk). Both ways in every round, their order alternating:`,
  '',
  "- **one at a time**: each batch handed over after the previous one was acked (ack = that batch's own write). What a lone batch costs, and what each batch in a queue cost before group commit.",
  `- **at once**: all ${AGENTS} handed over together, as the hub does when every agent sends in the same instant; written in groups of up to ${GROUP_MAX_BATCHES} (ack = time from the hand-over to that batch's ack).`,
  '',
  '| round | way | batches/s | ack p50 (ms) | ack p99 (ms) | ack max (ms) |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.round} | ${r.way} | ${r.perSec.toFixed(0)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} |`),
  '',
  `At once / one at a time, batches/s in the same round: ${ratio.map((x) => x.toFixed(1)).join(', ')} (median **${median(ratio).toFixed(1)}×**).`,
  `Last ack with ${AGENTS} at once (median of rounds): **${f(median(by('at once').map((r) => r.max)))} ms**, against the agents' ack timeout of ${BATCH_ACK_TIMEOUT_MS} ms;`,
  `one at a time, the ${AGENTS}th batch in a queue would have waited ${f(median(by('one at a time').map((r) => r.ms)))} ms.`,
  '',
];
await writeFile(args.out, md.join('\n'));
process.stdout.write(`wrote ${args.out}\n`);
