// Ingest benchmark: the controller's path into MySQL (wire JSON → validate with
// the shared MetricBatchSchema → durable → MySQL, through the MySQL sink) in
// samples/s, next to two ceilings measured in the same run on the same table:
// raw multi-row INSERT and LOAD DATA LOCAL INFILE. The path is measured twice
// per round, order alternating: as the sink ships (group commit, samples by
// LOAD DATA) and as it was before (one transaction per batch, INSERTs).
//
//   npx tsc -b packages/controller && node bench/ingest/run.mjs [--samples 200000] [--rounds 3] [--concurrency 4] [--out bench/ingest/results.md]
//
// Needs MariaDB/MySQL on 127.0.0.1:3306 with root and no password (override:
// BENCH_DB_ADMIN_URL=mysql://user:pw@host:port); creates and drops its own database.
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir, cpus, totalmem, platform, release, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { freshDb } from '../lib/fresh-db.mjs';

const root = new URL('../../', import.meta.url);
const requireCtl = createRequire(new URL('packages/controller/package.json', root));
const pino = requireCtl('pino');
const { createMysqlSink } = await import(new URL('packages/controller/dist/db/index.js', root).href);
const { samplesTsv, SAMPLES_LOAD_SQL, SAMPLE_COLUMNS } = await import(new URL('packages/controller/dist/db/rows.js', root).href);
const { MetricBatchSchema, coreMetrics, BATCH_MAX_SAMPLES } = await import(new URL('packages/shared/dist/index.js', root).href);

const { values: args } = parseArgs({
  options: {
    samples: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    out: { type: 'string', default: 'bench/ingest/results.md' },
  },
});
const TOTAL = Number(args.samples);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const INSERT_ROWS = 1000;
const log = pino({ level: 'silent' });

const db = await freshDb();
const { url: dbUrl, conn: conn0, serverVersion, flush } = db;

try {
  // Batches as agents send them: 500 samples each (BATCH_MAX_SAMPLES), chat-load sessions of 8 core metrics.
  const metrics = coreMetrics('chat-load');
  const perBatchSessions = Math.floor(BATCH_MAX_SAMPLES / metrics.length);
  const t0 = Date.UTC(2030, 0, 1);
  const agents = Array.from({ length: CONCURRENCY }, (_, i) => ({
    agentId: `agent-${i}`,
    name: `agent-${i}`,
    labels: { region: `r${i % 2}` },
    capacity: { 'chat-load': 50, 'video-call': 2, cobrowse: 10 },
    location: `r${i % 2}`,
  }));
  function makeBatches(runId) {
    const wire = [];
    let n = 0;
    let seq = 0;
    let t = t0;
    while (n < TOTAL) {
      const a = agents[seq % agents.length];
      seq += 1;
      const samples = [];
      const sessions = [];
      for (let s = 0; s < perBatchSessions && n < TOTAL; s++) {
        const sessionId = `${a.agentId}-${seq}-${s}`;
        const start = t;
        for (const metric of metrics) {
          if (n >= TOTAL) break;
          samples.push({ sessionId, metric, value: 100 + ((n * 7919) % 1000) / 10, ts: t++ });
          n += 1;
        }
        sessions.push({
          sessionId,
          scenario: 'chat-load',
          browser: 'shell',
          status: 'ok',
          startedAt: start,
          endedAt: t,
          failedStep: null,
          error: null,
          artifacts: [],
        });
      }
      wire.push({ agent: a, json: JSON.stringify({ runId, agentId: a.agentId, seq, createdAt: t, samples, sessions }) });
    }
    return wire;
  }

  async function truncate() {
    for (const t of ['samples', 'sessions', 'ingested_batches', 'rollup_dirty', 'runs', 'run_agents']) await conn0.query(`TRUNCATE TABLE ${t}`);
  }

  async function countSamples() {
    const [[{ n }]] = await conn0.query('SELECT COUNT(*) AS n FROM samples');
    return Number(n);
  }

  /** How the sink writes: as shipped, or each batch in its own transaction with INSERTs (the sink before group commit). */
  const SINK_WAYS = { shipped: {}, before: { groupMaxBatches: 1, samplesVia: 'insert' } };

  /** The controller path: parse + validate each wire batch, then sink.writeBatch (commit = durable), CONCURRENCY batches in flight. */
  async function ingestPath(round, way) {
    const runId = `bench-${round}-${way}`;
    const wire = makeBatches(runId);
    const spoolDir = await mkdtemp(join(tmpdir(), 'up-bench-spool-'));
    const sink = createMysqlSink({ url: dbUrl, spoolDir, log, poolSize: Math.max(CONCURRENCY, 4), ...SINK_WAYS[way] });
    await sink.open();
    await sink.runStarted({ runId, scenario: 'chat-load', browser: 'shell', total: TOTAL, targetName: 'bench', startedAt: t0, params: {} }, agents);
    let next = 0;
    let validateMs = 0;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const i = next++;
          if (i >= wire.length) return;
          const v0 = performance.now();
          const batch = MetricBatchSchema.parse(JSON.parse(wire[i].json));
          validateMs += performance.now() - v0;
          const out = await sink.writeBatch(batch, wire[i].agent);
          if (out !== 'stored') throw new Error(`batch ${i}: ${out}`);
        }
      }),
    );
    const ms = performance.now() - t;
    const stats = sink.stats();
    await sink.close();
    await rm(spoolDir, { recursive: true, force: true });
    if (stats.spooled !== 0) throw new Error('the bench spooled batches: MySQL was unreachable');
    return { ms, validateMs, batches: wire.length, perCommit: stats.stored / stats.commits };
  }

  function sampleRows(round) {
    const metricsLen = metrics.length;
    const rows = [];
    for (let n = 0; n < TOTAL; n++) {
      rows.push([
        `raw-${round}`,
        `s-${Math.floor(n / metricsLen)}`,
        'agent-0',
        'chat-load',
        metrics[n % metricsLen],
        100 + ((n * 7919) % 1000) / 10,
        new Date(t0 + n),
        'r0',
        'shell',
        0,
        null,
      ]);
    }
    return rows;
  }
  const COLS = SAMPLE_COLUMNS.join(', ');

  /** Ceiling 1: multi-row INSERTs of 1000 rows, one transaction per 5000 rows, one connection. */
  async function multiRowInsert(round) {
    const rows = sampleRows(round);
    const c = await db.connect();
    const t = performance.now();
    for (let i = 0; i < rows.length; i += 5 * INSERT_ROWS) {
      await c.beginTransaction();
      for (let j = i; j < Math.min(rows.length, i + 5 * INSERT_ROWS); j += INSERT_ROWS) {
        await c.query(`INSERT INTO samples (${COLS}) VALUES ?`, [rows.slice(j, j + INSERT_ROWS)]);
      }
      await c.commit();
    }
    const ms = performance.now() - t;
    await c.end();
    return { ms };
  }

  /** Ceiling 2: LOAD DATA LOCAL INFILE of the same rows as TSV, one statement. */
  async function loadData(round) {
    const rows = sampleRows(`ld${round}`);
    const c = await db.connect();
    const t = performance.now();
    // Building the file is part of the cost, as it is for the sink (the sink's own formatter and statement).
    const chunks = [];
    for (let i = 0; i < rows.length; i += 10_000) chunks.push(samplesTsv(rows.slice(i, i + 10_000)));
    await c.query({ sql: SAMPLES_LOAD_SQL, infileStreamFactory: () => Readable.from(chunks) });
    const ms = performance.now() - t;
    await c.end();
    return { ms };
  }

  const load0 = loadavg()[0];
  const results = { path: [], before: [], insert: [], load: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const way of round % 2 === 1 ? ['before', 'shipped'] : ['shipped', 'before']) {
      await truncate();
      const p = await ingestPath(round, way);
      if ((await countSamples()) !== TOTAL) throw new Error(`ingest path (${way}) stored a wrong number of samples`);
      (way === 'shipped' ? results.path : results.before).push({
        rate: TOTAL / (p.ms / 1000),
        validateShare: p.validateMs / p.ms,
        batches: p.batches,
        perCommit: p.perCommit,
      });
    }
    await truncate();
    const m = await multiRowInsert(round);
    if ((await countSamples()) !== TOTAL) throw new Error('multi-row insert stored a wrong number of samples');
    results.insert.push({ rate: TOTAL / (m.ms / 1000) });
    await truncate();
    const l = await loadData(round);
    if ((await countSamples()) !== TOTAL) throw new Error('LOAD DATA stored a wrong number of samples');
    results.load.push({ rate: TOTAL / (l.ms / 1000) });
    process.stdout.write(
      `round ${round}: path ${Math.round(results.path.at(-1).rate)}/s (before ${Math.round(results.before.at(-1).rate)}/s), multi-row INSERT ${Math.round(results.insert.at(-1).rate)}/s, LOAD DATA ${Math.round(results.load.at(-1).rate)}/s\n`,
    );
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const med = {
    path: median(results.path.map((r) => r.rate)),
    before: median(results.before.map((r) => r.rate)),
    insert: median(results.insert.map((r) => r.rate)),
    load: median(results.load.map((r) => r.rate)),
  };
  const k = (x) => `${(x / 1000).toFixed(1)} k`;
  const cpu = cpus();
  const md = `# Ingest benchmark: controller → MySQL

Command (repository root, after \`npx tsc -b packages/controller\`):

    node bench/ingest/run.mjs --samples ${TOTAL} --rounds ${ROUNDS} --concurrency ${CONCURRENCY}

Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}, ${serverVersion} on 127.0.0.1 (innodb_flush_log_at_trx_commit = ${flush}: each COMMIT is on disk), run ${new Date().toISOString().slice(0, 16)}Z.
The machine is shared with other work (1-minute load average ${load0.toFixed(1)} on ${cpu.length} cores when the run started): figures vary between rounds, so each round measures all three back to back and the same-round ratio is shown too.

What is measured, ${TOTAL} samples each, into the same \`samples\` table (indexes included), emptied between measurements:

- **controller ingest path**: wire JSON of ${results.path[0].batches} batches of ≤ ${BATCH_MAX_SAMPLES} samples (chat-load sessions × ${metrics.length} core metrics) →
  \`JSON.parse\` → \`MetricBatchSchema.parse\` (validation) → \`MysqlSink.writeBatch\`, resolved after COMMIT (durable);
  ${CONCURRENCY} batches in flight (as ${CONCURRENCY} agents would send), pool of ${Math.max(CONCURRENCY, 4)} connections. Two ways, order alternating by round:
  - **shipped**: group commit — batches that arrive while 3 groups are being written go together in one transaction
    (keys in one INSERT, samples in one \`LOAD DATA LOCAL INFILE\` from memory checked for warnings, sessions, rollup buckets once);
    ${median(results.path.map((r) => r.perCommit)).toFixed(1)} batches per COMMIT (median);
  - **before**: as the sink was before group commit: one transaction per batch, samples in multi-row INSERTs of ≤ ${INSERT_ROWS}.
- **multi-row INSERT ceiling**: the same number of rows, prebuilt, \`INSERT … VALUES ?\` of ${INSERT_ROWS} rows, a commit every ${5 * INSERT_ROWS}, one connection.
- **LOAD DATA ceiling**: the same rows formatted as TSV by the sink's own \`samplesTsv\` (included in the time) and sent with the sink's \`LOAD DATA LOCAL INFILE\` statement (mysql2 \`infileStreamFactory\`), one statement.

The ceilings write sample rows only; the path also writes each batch's idempotency key, its session records (one per
8 samples, upserted) and its rollup buckets, in a transaction per group — work the ceilings leave out.

| round | path, shipped (samples/s) | path, before | validation share (shipped) | multi-row INSERT (rows/s) | LOAD DATA LOCAL INFILE (rows/s) | shipped / LOAD DATA (same round) | before / LOAD DATA (same round) |
|---|---|---|---|---|---|---|---|
${results.path.map((p, i) => `| ${i + 1} | ${Math.round(p.rate)} | ${Math.round(results.before[i].rate)} | ${(100 * p.validateShare).toFixed(0)} % | ${Math.round(results.insert[i].rate)} | ${Math.round(results.load[i].rate)} | ${(p.rate / results.load[i].rate).toFixed(2)} | ${(results.before[i].rate / results.load[i].rate).toFixed(2)} |`).join('\n')}
| **median** | **${k(med.path)}/s** | ${k(med.before)}/s | | **${k(med.insert)}/s** | **${k(med.load)}/s** | **${median(results.path.map((p, i) => p.rate / results.load[i].rate)).toFixed(2)}** | ${median(results.before.map((p, i) => p.rate / results.load[i].rate)).toFixed(2)} |

Ratios (medians of the rates): path shipped / LOAD DATA = **${(med.path / med.load).toFixed(2)}** (before: ${(med.before / med.load).toFixed(2)}); shipped / before = ${(med.path / med.before).toFixed(2)}; path shipped / multi-row INSERT = ${(med.path / med.insert).toFixed(2)}; LOAD DATA / multi-row INSERT = ${(med.load / med.insert).toFixed(2)}.

For scale: a monitoring controller ingests a few samples per second; a load test of 1 000 chat-load sessions
produces ${1000 * metrics.length} core samples in total.
`;
  await writeFile(new URL(args.out, root), md);
  process.stdout.write(`\n${md}`);
} finally {
  await db.drop();
}
