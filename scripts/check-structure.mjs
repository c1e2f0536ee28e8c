#!/usr/bin/env node
// The source layout, checked (run by `pnpm test`, so by CI):
//  - the controller's and the agent's src/ have at most 12 entries at top level, each one
//    listed below with its job; a new top-level file or folder is a decision, made here;
//  - a folder imports only from the folders its job allows (the arrows below), so a file
//    that sits in the wrong folder shows up as an import the layout does not allow;
//  - the demo target is a third party: no import from packages/demo-target to
//    @userprobe/shared (or any probe package), and none the other way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_TOP_LEVEL = 12;

/** Each package's top-level entries: job, and the folders it may import from ('.' = the package's top-level files). */
const LAYOUT = {
  controller: {
    'cli.ts': { job: 'the command line: flags to commands', uses: ['*'] },
    'index.ts': { job: 'the package API', uses: ['*'] },
    'logger.ts': { job: 'pino set-up', uses: ['config'] },
    commands: { job: 'one file per command (run, serve, reconcile, migrate, retention, agent-token) and what they share', uses: ['*'] },
    config: { job: 'flags and files to one validated, frozen config', uses: ['trust', 'run'] },
    run: { job: 'one run: plan, ramp, follow (run machine), progress, summary, run state', uses: ['.', 'config', 'hub', 'results', 'trust'] },
    hub: { job: 'agents in: the Socket.IO hub, handshake, agent pool, ingest', uses: ['.', 'results', 'run', 'trust'] },
    trust: { job: 'who may connect: agent tokens, revocation, TLS files', uses: ['config', 'hub'] },
    results: { job: 'where batches become durable: sinks, the results folder, evidence', uses: ['.', 'run'] },
    db: { job: 'MySQL only: migrations, the MySQL sink and its spool, retention', uses: ['.', 'results'] },
    monitor: {
      job: 'the monitoring daemon: monitor config, schedules, rotation over the standing fleet, rounds',
      uses: ['.', 'config', 'db', 'hub', 'results', 'run'],
    },
    api: { job: 'the operator API: routes, status, submitted load tests, and its client', uses: ['.', 'config', 'hub', 'monitor', 'results', 'run'] },
  },
  agent: {
    'cli.ts': { job: 'the command line', uses: ['*'] },
    'index.ts': { job: 'the package API', uses: ['*'] },
    'agent.ts': { job: 'the agent: connection, runs, shutdown', uses: ['*'] },
    'logger.ts': { job: 'pino set-up', uses: ['config'] },
    config: { job: 'flags to one validated config, agent id, limits', uses: ['delivery', 'trust'] },
    delivery: { job: 'the controller link: connection, clock sync, batches, spool, sender', uses: ['config', 'host', 'trust'] },
    runner: {
      job: 'running an assignment: sessions, recorder, start rate, scenario loading',
      uses: ['.', 'config', 'delivery', 'evidence', 'host', 'scenarios', 'trust'],
    },
    host: { job: 'the machine: one Chromium, CPU monitor, process tree, pid and profile folders', uses: ['config'] },
    collectors: { job: 'what a page measures: network, sockets, navigation, web vitals', uses: ['runner'] },
    evidence: { job: 'HAR, console and screenshots: recorded, redacted, spooled, sent', uses: ['collectors', 'config', 'delivery'] },
    scenarios: { job: 'the built-in scenarios', uses: ['collectors', 'runner'] },
    trust: { job: 'what the operator allows: controller trust, hosts, navigation guard', uses: [] },
  },
};

const problems = [];
const walk = (dir) => readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? walk(join(dir, e)) : [join(dir, e)]));
const importsOf = (file) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);

for (const [pkg, layout] of Object.entries(LAYOUT)) {
  const src = join(ROOT, 'packages', pkg, 'src');
  const entries = readdirSync(src);
  if (entries.length > MAX_TOP_LEVEL) problems.push(`${pkg}/src has ${entries.length} top-level entries (at most ${MAX_TOP_LEVEL})`);
  for (const e of entries)
    if (!(e in layout)) problems.push(`${pkg}/src/${e} is not in the layout (scripts/check-structure.mjs says what each top-level entry is for)`);
  const top = (file) => {
    const r = relative(src, file).split('/');
    return r.length === 1 ? '.' : r[0];
  };
  // Tests may reach for test helpers; the layout binds the shipped code.
  for (const file of walk(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const from = top(file);
    const allowed = from === '.' ? layout[relative(src, file)]?.uses : layout[from]?.uses;
    if (!allowed || allowed.includes('*')) continue;
    for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
      const to = top(resolve(dirname(file), spec));
      if (to !== from && !allowed.includes(to))
        problems.push(
          `${relative(ROOT, file)} imports ${spec}: ${from === '.' ? relative(src, file) : from + '/'} may use ${allowed.length ? allowed.join(', ') : 'nothing else in the package'}`,
        );
    }
  }
}

// The demo's own tests may use the test kit (an independent reference client), nothing else of ours.
const PROBE_PACKAGES = /^@userprobe\/(?!demo-target$)/;
const isTest = (f) => f.endsWith('.test.ts');
const DEMO = join(ROOT, 'packages', 'demo-target');
for (const file of walk(DEMO).filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.includes('node_modules') && !f.includes('/dist/'))) {
  for (const spec of importsOf(file)) {
    if (PROBE_PACKAGES.test(spec) && !(isTest(file) && spec === '@userprobe/testkit'))
      problems.push(`${relative(ROOT, file)} imports ${spec}: the demo target stands in for a third-party product and must not know the probe`);
    if (spec.startsWith('.') && !resolve(dirname(file), spec).startsWith(DEMO))
      problems.push(`${relative(ROOT, file)} imports ${spec}, outside the demo target`);
  }
}
for (const pkg of ['shared', 'agent', 'controller', 'testkit', 'dashboards']) {
  const dir = join(ROOT, 'packages', pkg);
  for (const file of walk(dir).filter((f) => f.endsWith('.ts') && !f.includes('node_modules') && !f.includes('/dist/'))) {
    for (const spec of importsOf(file)) {
      const outside = spec.startsWith('.') && !resolve(dirname(file), spec).startsWith(dir + '/');
      if (outside) problems.push(`${relative(ROOT, file)} imports ${spec}: another package's files are used by its package name (@userprobe/…), not by path`);
      if (pkg === 'shared' && spec === '@userprobe/demo-target') problems.push(`${relative(ROOT, file)} imports the demo target: shared must not know it`);
    }
  }
}

if (problems.length > 0) {
  process.stderr.write(`structure check: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}\n`).join('')}`);
  process.exit(1);
}
const count = (pkg) => readdirSync(join(ROOT, 'packages', pkg, 'src')).length;
process.stdout.write(
  `structure check: ok (controller/src ${count('controller')} entries, agent/src ${count('agent')}, at most ${MAX_TOP_LEVEL}; imports follow the layout; the demo target knows no probe package)\n`,
);
