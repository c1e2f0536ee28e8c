#!/usr/bin/env node
// Fidelity benchmark: how far do userprobe's chat-load timings drift from the
// injected truth as concurrency grows, per browser, with the adaptive start
// rate on and off. See results.md for the method and the committed figures.
//
//   node bench/fidelity/run.mjs [--levels 1,10,20,40,60,100,200] [--browsers shell,chromium]
//        [--modes adaptive,fixed] [--messages auto|N] [--think-time 15s-25s] [--input type|insert]
//        [--chats-per-console N] [--tag T]
//        [--table-only] [--out bench/fidelity/results.md]
//
// Build first: npx tsc -b. Each cell is one `controller run` with one local agent
// (one Chromium) on this machine; raw per-cell JSON goes to bench/fidelity/raw/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem, release, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CpuSplit, PROCESS_KINDS } from '../lib/proc-split.mjs';
import { ownCpuSeconds } from '../lib/proc-tree.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const CLI = join(ROOT, 'packages', 'controller', 'dist', 'cli.js');
const RAW = join(HERE, 'raw');
const WORK = join(HERE, '.runs');

/** Injected ground truth (demo target knobs), ms. */
const INJECT = { init: 150, create: 300, addMessage: 200, crmConnect: 200, realtime: 200 };
/** Metric → injected truth (absolute) or the injected delay it carries over a 1-session baseline. */
const TRUTH = {
  api_init: { kind: 'absolute', ms: INJECT.init },
  api_create: { kind: 'absolute', ms: INJECT.create },
  api_add_message: { kind: 'absolute', ms: INJECT.addMessage },
  crm_ws_connect: { kind: 'baseline', ms: INJECT.crmConnect },
  msg_visitor_to_agent: { kind: 'baseline', ms: INJECT.realtime },
  msg_agent_to_visitor: { kind: 'baseline', ms: INJECT.realtime },
};
/** Not injected: shown as inflation over the 1-session baseline, outside the goal. */
const CONTEXT_METRICS = ['page_load', 'widget_load'];
/** Samples count "at level" when at least this share of the run's peak concurrency ran at their instant. */
const AT_LEVEL_SHARE = 0.9;
/** Baseline: this many one-session runs, one after another. */
const BASELINE_RUNS = 3;
const PSS_EVERY_MS = 5_000;
const POLL_MS = 1_000;

function args() {
  const a = process.argv.slice(2);
  const get = (k, d) => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? a[i + 1] : d;
  };
  return {
    levels: get('levels', '1,10,20,40,60,100,200').split(',').map(Number),
    browsers: get('browsers', 'shell,chromium').split(','),
    modes: get('modes', 'adaptive,fixed').split(','),
    messages: get('messages', 'auto'),
    har: get('har', 'failures'),
    // chat pacing (controller run --think-time / --input): none and typed = back-to-back stress
    thinkTime: get('think-time', null),
    input: get('input', 'type'),
    // sessions sharing one agent console (controller run --chats-per-console); 1: a console each
    chatsPerConsole: Number(get('chats-per-console', '1')),
    // appended to the cell id, e.g. to keep a cell of another machine (raw/<id>.json) next to a new one
    tag: get('tag', null),
    perStartS: { shell: Number(get('per-start-shell', '1.0')), chromium: Number(get('per-start-chromium', '2.0')) },
    out: get('out', join(HERE, 'results.md')),
    tableOnly: a.includes('--table-only'),
  };
}

// ---------- /proc sampling ----------
function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}
function allPids() {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}
const TICKS = 100; // USER_HZ
function stat(pid) {
  const s = readProc(pid, 'stat');
  if (!s) return null;
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // fields from 3: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  return { ppid: Number(rest[1]), cpu: (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / TICKS };
}
function pss(pid) {
  const s = readProc(pid, 'smaps_rollup');
  const m = s && /^Pss:\s+(\d+) kB/m.exec(s);
  return m ? Number(m[1]) * 1024 : 0;
}
function findAgent(spoolRoot) {
  for (const pid of allPids()) {
    const c = readProc(pid, 'cmdline');
    if (c && c.includes('packages/agent/dist/cli.js') && c.includes(`--spool=${spoolRoot}`)) return pid;
  }
  return null;
}
function descendants(root) {
  const kids = new Map();
  for (const pid of allPids()) {
    const st = stat(pid);
    if (!st) continue;
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(pid);
  }
  const out = [];
  const walk = (p) => {
    for (const k of kids.get(p) ?? []) {
      out.push(k);
      walk(k);
    }
  };
  walk(root);
  return out;
}

/** The Debian Chromium package version measuring (both browsers come from it). */
function chromiumVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'chromium'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

// ---------- one cell ----------
function messagesFor(cfg, browser, level) {
  if (cfg.messages !== 'auto') return Number(cfg.messages);
  if (level === 1) return 5;
  const starting = level * cfg.perStartS[browser];
  if (cfg.thinkTime === null) return Math.min(100, 4 + Math.ceil(starting));
  // paced: long enough that sessions still run a minute after the last one started
  const [lo, hi = lo] = cfg.thinkTime.split('-').map(seconds);
  return Math.min(100, 2 + Math.ceil((starting + 60) / ((lo + hi) / 2)));
}

/** `20s`, `1500ms`, `2m` → seconds (the bench's own reading of --think-time, for session lengths). */
function seconds(d) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(d.trim());
  if (!m) throw new Error(`--think-time: "${d}" is not a duration such as 20s or 15s-25s`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60 }[m[2] ?? 'ms'];
}

/** Cell id suffix naming the chat pacing ('' for the default: back to back, typed). */
function pacingSuffix(cfg) {
  return `${cfg.thinkTime === null ? '' : `-think-${cfg.thinkTime}`}${cfg.input === 'type' ? '' : `-${cfg.input}`}`;
}

async function runCell(cfg, browser, mode, level) {
  const cpc = cfg.chatsPerConsole > 1 && level > 1 ? cfg.chatsPerConsole : 1;
  const id = `${browser}-${mode}-${level}${pacingSuffix(cfg)}${cpc > 1 ? `-cpc-${cpc}` : ''}${cfg.har === 'failures' ? '' : `-har-${cfg.har}`}${cfg.tag ? `-${cfg.tag}` : ''}`;
  const messages = messagesFor(cfg, browser, level);
  const runs = [];
  for (let i = 0; i < (level === 1 ? BASELINE_RUNS : 1); i++)
    runs.push(await runOnce(cfg, browser, mode, level, messages, level === 1 ? `${id}-${i + 1}` : id));
  const first = runs[0];
  const cell = {
    ...first,
    id,
    pacing: { thinkTime: cfg.thinkTime, input: cfg.input, suffix: pacingSuffix(cfg) },
    chatsPerConsole: cpc,
    tag: cfg.tag ?? undefined,
    total: runs.reduce((n, r) => n + r.total, 0),
    samples: runs.flatMap((r) => r.samples),
    usage: sumUsage(runs.map((r) => r.usage)),
    cpuSplit: sumSplits(runs.map((r) => r.cpuSplit)),
    controllerCpuS: runs.every((r) => r.controllerCpuS !== null) ? runs.reduce((n, r) => n + r.controllerCpuS, 0) : null,
    sessions: runs.flatMap((r) => r.sessions),
    wallS: runs.reduce((n, r) => n + r.wallS, 0),
    exitCode: Math.max(...runs.map((r) => r.exitCode ?? 9)),
  };
  const d = digest(cell);
  await mkdir(RAW, { recursive: true });
  await writeFile(join(RAW, `${id}.json`), JSON.stringify(d, null, 1));
  return d;
}

/**
 * The CPU of a cell's runs added up (a baseline cell is several one-session runs, and its CPU per session divides by
 * all their sessions); memory from the first run (one session at a time in each).
 */
function sumUsage(usages) {
  if (usages.some((u) => u.baseCpu === null)) return usages[0];
  return {
    ...usages[0],
    baseCpu: 0,
    endCpu: usages.reduce((n, u) => n + (u.endCpu - u.baseCpu), 0),
    agentCpu0: 0,
    agentCpu1: usages.reduce((n, u) => n + (u.agentCpu1 - u.agentCpu0), 0),
  };
}

/** The CPU splits of a cell's runs added up (null when a run has none). */
function sumSplits(splits) {
  if (splits.some((s) => s === null)) return null;
  const byKind = Object.fromEntries(PROCESS_KINDS.map((k) => [k, splits.reduce((n, s) => n + s.byKind[k], 0)]));
  const tree = splits.reduce((n, s) => n + s.tree, 0);
  const total = Object.values(byKind).reduce((a, b) => a + b, 0);
  return { byKind, tree, coverage: tree > 0 ? total / tree : null, processes: splits.reduce((n, s) => n + s.processes, 0) };
}

async function runOnce(cfg, browser, mode, level, messages, id) {
  const out = join(WORK, id);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const total = level;
  const capacity = level;
  const argv = [
    CLI,
    'run',
    '--scenario',
    'chat-load',
    '--total',
    String(total),
    '--local-agents',
    '1',
    `--capacity=${capacity}`,
    '--har',
    cfg.har,
    '--browser',
    browser,
    '--ramp-up',
    '0',
    '--messages',
    String(messages),
    '--out',
    out,
    '--run-id',
    id,
    '--json',
    '--session-timeout',
    '20m',
    '--step-timeout',
    '90s',
    '--drain-timeout',
    '60s',
    '--agent-wait',
    '120s',
    ...Object.entries(INJECT).map(([k, v]) => `--demo-latency=${k}=${v}`),
  ];
  if (mode === 'fixed') argv.push('--no-adaptive-start');
  if (cfg.thinkTime !== null) argv.push('--think-time', cfg.thinkTime);
  argv.push('--input', cfg.input);
  // a one-session baseline has a console of its own whatever is asked
  if (cfg.chatsPerConsole > 1 && level > 1) argv.push('--chats-per-console', String(cfg.chatsPerConsole));
  const t0 = Date.now();
  const load1 = loadavg()[0];
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    process.stderr.write(`  [${id}] ${d}`.replace(/\n(?=.)/g, `\n  [${id}] `));
  });
  const spoolRoot = join(out, '.spool');
  const usage = { basePss: null, peakPss: 0, agentPss: 0, baseCpu: null, endCpu: 0, agentCpu0: null, agentCpu1: 0, chromium: 0 };
  let lastPss = 0;
  // where the agent side's CPU goes (agent node, browser, GPU, renderers, utility), and the controller process's own
  // CPU: it runs the demo target (launchDemo starts it in-process), which a real tenant's servers would not share
  let split = null;
  const controllerCpu = { first: null, last: null };
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done) {
    const agent = findAgent(spoolRoot);
    if (agent !== null) {
      const tree = descendants(agent);
      const ast = stat(agent);
      if (tree.length && ast) {
        // from the same instant as the figures below: once the browser is up (the agent's own start is not a session's)
        split ??= new CpuSplit(agent);
        split.poll();
        const c = ownCpuSeconds(child.pid);
        if (c > 0) {
          controllerCpu.first ??= c;
          controllerCpu.last = c;
        }
        const cpu = tree.reduce((n, p) => n + (stat(p)?.cpu ?? 0), 0);
        if (usage.baseCpu === null) {
          usage.baseCpu = cpu;
          usage.agentCpu0 = ast.cpu;
        }
        usage.endCpu = Math.max(usage.endCpu, cpu);
        usage.agentCpu1 = Math.max(usage.agentCpu1, ast.cpu);
        if (usage.basePss === null || Date.now() - lastPss >= PSS_EVERY_MS) {
          lastPss = Date.now();
          const sum = tree.reduce((n, p) => n + pss(p), 0);
          if (usage.basePss === null) usage.basePss = sum;
          usage.peakPss = Math.max(usage.peakPss, sum);
          usage.agentPss = Math.max(usage.agentPss, pss(agent));
          usage.chromium = Math.max(usage.chromium, tree.length);
        }
      }
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, POLL_MS))]);
  }
  const code = await exited;
  const wallS = (Date.now() - t0) / 1000;
  const dir = join(out, id);
  const lines = async (f) =>
    (await readFile(join(dir, f), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const samples = await lines('samples.jsonl');
  const sessions = await lines('sessions.jsonl');
  let summary = null;
  try {
    summary = JSON.parse(stdout.trim().split('\n').at(-1)).summary;
  } catch {
    /* not-run */
  }
  await rm(out, { recursive: true, force: true });
  return {
    id,
    browser,
    mode,
    level,
    total,
    messages,
    exitCode: code,
    wallS,
    usage,
    cpuSplit: split?.result() ?? null,
    controllerCpuS: controllerCpu.first === null ? null : controllerCpu.last - controllerCpu.first,
    samples,
    sessions,
    summary,
    load1,
    stderrTail: stderr.slice(-2000),
    argv: argv.slice(1).map((a) => a.replace(ROOT + '/', '')),
  };
}

// ---------- analysis ----------
function pct(sorted, q) {
  if (!sorted.length) return null;
  const i = Math.max(0, Math.ceil(q * sorted.length) - 1);
  return sorted[i];
}
function concurrencyAt(sessions) {
  const iv = sessions.map((s) => [Date.parse(s.startedAt), Date.parse(s.endedAt)]);
  return (t) => iv.reduce((n, [a, b]) => n + (a <= t && t <= b ? 1 : 0), 0);
}
function peakConcurrency(sessions) {
  const ev = sessions
    .flatMap((s) => [
      [Date.parse(s.startedAt), 1],
      [Date.parse(s.endedAt), -1],
    ])
    .sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let n = 0;
  let peak = 0;
  let at = null;
  for (const [t, d] of ev) {
    n += d;
    if (n > peak) {
      peak = n;
      at = t;
    }
  }
  return { peak, at };
}

/** Keep what the table needs (the raw samples of a 200-session run are large). */
function digest(cell) {
  const { sessions, samples } = cell;
  const conc = concurrencyAt(sessions);
  const { peak, at: peakAt } = peakConcurrency(sessions);
  const first = Math.min(...sessions.map((s) => Date.parse(s.startedAt)));
  const lastStart = Math.max(...sessions.map((s) => Date.parse(s.startedAt)));
  const floor = cell.level === 1 ? 0 : Math.ceil(AT_LEVEL_SHARE * peak);
  const metrics = {};
  for (const m of [...Object.keys(TRUTH), ...CONTEXT_METRICS]) {
    const all = samples.filter((s) => s.metric === m);
    const at = all.filter((s) => conc(Date.parse(s.ts)) >= floor);
    metrics[m] = {
      n: all.length,
      nAtLevel: at.length,
      values: at.map((s) => s.value).sort((a, b) => a - b),
      saturated: all.filter((s) => s.saturated).length,
    };
  }
  const u = cell.usage;
  return {
    id: cell.id,
    browser: cell.browser,
    mode: cell.mode,
    level: cell.level,
    total: cell.total,
    messages: cell.messages,
    pacing: cell.pacing,
    ...(cell.chatsPerConsole > 1 ? { chatsPerConsole: cell.chatsPerConsole } : {}),
    tag: cell.tag,
    command: cell.argv ? `node ${cell.argv.join(' ')}` : undefined,
    exitCode: cell.exitCode,
    wallS: cell.wallS,
    loadAvg1AtStart: cell.load1,
    machine: { cpu: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, chromium: chromiumVersion() },
    sessions: {
      ok: sessions.filter((s) => s.status === 'ok').length,
      failed: sessions.filter((s) => s.status !== 'ok').length,
      failedSteps: Object.entries(sessions.filter((s) => s.status !== 'ok').reduce((o, s) => ({ ...o, [s.failedStep]: (o[s.failedStep] ?? 0) + 1 }), {})),
    },
    peakConcurrent: peak,
    fullConcurrencyS: sessions.length ? (Math.min(peakAt ?? lastStart, lastStart) - first) / 1000 : null,
    lastStartS: sessions.length ? (lastStart - first) / 1000 : null,
    agentRampS: cell.summary?.ramp ? cell.summary.ramp.fullConcurrencyMs / 1000 : null,
    saturatedSamples: samples.filter((s) => s.saturated).length,
    samples: samples.length,
    cpuPerSessionS: u.baseCpu === null ? null : (u.endCpu - u.baseCpu) / cell.total,
    agentCpuPerSessionS: u.agentCpu0 === null ? null : (u.agentCpu1 - u.agentCpu0) / cell.total,
    // per session: CPU-s by process kind (agent side) and the controller process's (the demo target's, mostly)
    cpuSplitPerSessionS: cell.cpuSplit
      ? {
          ...Object.fromEntries(PROCESS_KINDS.map((k) => [k, cell.cpuSplit.byKind[k] / cell.total])),
          tree: cell.cpuSplit.tree / cell.total,
          coverage: cell.cpuSplit.coverage,
        }
      : null,
    demoCpuPerSessionS: cell.controllerCpuS === null || cell.controllerCpuS === undefined ? null : cell.controllerCpuS / cell.total,
    pssPerSessionMB: u.basePss === null || peak === 0 ? null : (u.peakPss - u.basePss) / peak / 1_048_576,
    browserBasePssMB: u.basePss === null ? null : u.basePss / 1_048_576,
    agentPssMB: u.agentPss / 1_048_576,
    metrics,
    stderrTail: cell.exitCode === 0 || cell.exitCode === 1 ? undefined : cell.stderrTail,
  };
}

function errors(cell, baseline) {
  const out = {};
  for (const [m, t] of Object.entries(TRUTH)) {
    const v = cell.metrics[m]?.values ?? [];
    const p50 = pct(v, 0.5);
    const p95 = pct(v, 0.95);
    let ref = t.ms;
    if (t.kind === 'baseline') {
      const b = pct(baseline?.metrics[m]?.values ?? [], 0.5);
      if (b === null || p50 === null) {
        out[m] = null;
        continue;
      }
      // the measured value minus the 1-session baseline, relative to the injected delay
      out[m] = { p50: (p50 - b) / t.ms, p95: (p95 - b) / t.ms, n: v.length };
      continue;
    }
    out[m] = p50 === null ? null : { p50: (p50 - ref) / ref, p95: (p95 - ref) / ref, n: v.length };
  }
  for (const m of CONTEXT_METRICS) {
    const v = cell.metrics[m]?.values ?? [];
    const b = pct(baseline?.metrics[m]?.values ?? [], 0.5);
    out[m] = b === null || !v.length ? null : { p50: (pct(v, 0.5) - b) / b, p95: (pct(v, 0.95) - b) / b, n: v.length };
  }
  return out;
}

const pc = (x) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(x !== 0 && Math.abs(x) < 0.1 ? 1 : 0)} %`);
const num = (x, d = 1) => (x === null || x === undefined ? '–' : x.toFixed(d));

function views(cells) {
  const byKey = new Map(cells.map((c) => [c.id, c]));
  const label = (c) => (c.id.includes('-har-') ? `${c.mode}, har ${c.id.split('-har-')[1]}` : c.mode);
  // cells from before the machine was recorded ran on the 2-core AMD EPYC of the first session (results.md)
  const machineOf = (c) => (c.machine?.cpu ?? 'AMD EPYC').replace(/^.*?(EPYC|Xeon).*$/, '$1');
  const suffixOf = (c) => c.pacing?.suffix ?? '';
  const chat = (c) =>
    `${c.pacing?.thinkTime ? `think ${c.pacing.thinkTime}` : 'back to back'}, ${c.pacing?.input === 'insert' ? 'inserted' : 'typed'}` +
    `${(c.chatsPerConsole ?? 1) > 1 ? `, ${c.chatsPerConsole} per console` : ''}`;
  // the 1-session baseline of the same browser: measured on the same machine with the same pacing if there
  // is one, else on the same machine, else with the same pacing, else any (the machine matters most); among
  // equals, one of the same sitting
  const baselineOf = (c) => {
    const ones = cells.filter((b) => b.level === 1 && b.browser === c.browser);
    // cells of one sitting (--tag s1201, s1201-a …: the part before the first dash) share their baseline
    const sitting = (x) => x.tag?.split('-')[0] ?? null;
    const rank = (b) =>
      (machineOf(b) === machineOf(c) ? 0 : 2) +
      (suffixOf(b) === suffixOf(c) ? 0 : 1) +
      (b.mode === 'adaptive' ? 0 : 0.5) +
      (sitting(b) === sitting(c) ? 0 : 0.25);
    return ones.sort((x, y) => rank(x) - rank(y))[0];
  };
  return { byKey, label, machineOf, suffixOf, chat, baselineOf };
}

const SHORT = {
  api_init: 'init',
  api_create: 'create',
  api_add_message: 'add-msg',
  crm_ws_connect: 'connect*',
  msg_visitor_to_agent: 'v→a*',
  msg_agent_to_visitor: 'a→v*',
  page_load: 'page†',
  widget_load: 'widget†',
};
const sortCells = (cells, v) =>
  [...cells].sort(
    (a, b) =>
      a.browser.localeCompare(b.browser) ||
      v.suffixOf(a).localeCompare(v.suffixOf(b)) ||
      a.mode.localeCompare(b.mode) ||
      a.level - b.level ||
      (a.chatsPerConsole ?? 1) - (b.chatsPerConsole ?? 1),
  );

/** The columns that name a cell: machine, browser, chat, start, level, peak concurrency. */
const CELL_HEAD = ['machine', 'browser', 'chat', 'start', 'level', 'peak conc.'];
function cellColumns(c, v) {
  return [v.machineOf(c), c.browser, v.chat(c), v.label(c), c.level === 1 ? `1 (${c.total} runs)` : String(c.level), String(c.peakConcurrent)];
}
const markdown = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function table(cells) {
  const v = views(cells);
  const { suffixOf, baselineOf } = v;
  const metrics = [...Object.keys(TRUTH), ...CONTEXT_METRICS];
  const short = SHORT;
  const head = [
    ...CELL_HEAD,
    'peak reached (s)',
    'all started (s)',
    'ok/failed',
    ...metrics.map((m) => `${short[m]} p50 / p95`),
    'CPU-s /session',
    'PSS MB /session',
    'agent PSS MB',
    'saturated samples',
    'load avg',
    'goal met',
  ];
  const rows = [];
  for (const c of sortCells(cells, { suffixOf })) {
    const e = errors(c, baselineOf(c));
    const goal = Object.keys(TRUTH).every((m) => e[m] && Math.abs(e[m].p50) <= 0.05 && Math.abs(e[m].p95) <= 0.1) && c.sessions.failed === 0;
    rows.push([
      ...cellColumns(c, v),
      c.level === 1 ? '–' : num(c.fullConcurrencyS),
      c.level === 1 ? '–' : num(c.lastStartS),
      `${c.sessions.ok}/${c.sessions.failed}`,
      ...metrics.map((m) => (e[m] ? `${pc(e[m].p50)} / ${pc(e[m].p95)}` : '–')),
      num(c.cpuPerSessionS, 2),
      num(c.pssPerSessionMB),
      num(c.agentPssMB, 0),
      `${c.saturatedSamples}/${c.samples}`,
      num(c.loadAvg1AtStart),
      goal ? 'yes' : 'no',
    ]);
  }
  return markdown(head, rows);
}

/**
 * What concurrency adds: each level's p50 and p95 over the p50 and p95 of the 1-session
 * baseline of the same browser (same machine and pacing where there is one), for every
 * metric. Separates the drift the level causes from what one session already shows
 * against the injected truth (the target's and the machine's own lateness).
 */
function driftTable(cells) {
  const { label, machineOf, chat, baselineOf, suffixOf } = views(cells);
  const metrics = [...Object.keys(TRUTH), ...CONTEXT_METRICS];
  const head = ['machine', 'browser', 'chat', 'start', 'level', 'peak conc.', ...metrics.map((m) => `${SHORT[m].replace(/[*†]$/, '')} p50 / p95`), 'baseline'];
  const rows = [];
  for (const c of sortCells(cells, { suffixOf }).filter((x) => x.level > 1)) {
    const b = baselineOf(c);
    if (!b) continue;
    const cellsOf = metrics.map((m) => {
      const v = c.metrics[m]?.values ?? [];
      const bv = b.metrics[m]?.values ?? [];
      if (!v.length || !bv.length) return '–';
      return `${pc(pct(v, 0.5) / pct(bv, 0.5) - 1)} / ${pc(pct(v, 0.95) / pct(bv, 0.95) - 1)}`;
    });
    rows.push([machineOf(c), c.browser, chat(c), label(c), String(c.level), String(c.peakConcurrent), ...cellsOf, b.id]);
  }
  return markdown(head, rows);
}

/**
 * Where a session's CPU goes, per cell: CPU-s per session by process kind on the agent side (its Node process,
 * Chromium's browser, GPU, renderer and utility processes), the share of the agent tree's time those cover (a
 * process that exited between two polls loses up to a second), the agent side's total, and the controller process —
 * the demo target runs in it, on the same two cores; a real tenant's servers would not — beside it, not in it.
 */
function cpuTable(cells) {
  const v = views(cells);
  const head = [...CELL_HEAD, ...PROCESS_KINDS, 'covered', 'agent side', 'demo + controller'];
  const rows = [];
  for (const c of sortCells(cells, v).filter((x) => x.cpuSplitPerSessionS)) {
    const s = c.cpuSplitPerSessionS;
    rows.push([
      ...cellColumns(c, v),
      ...PROCESS_KINDS.map((k) => num(s[k], 2)),
      s.coverage === null ? '–' : `${(s.coverage * 100).toFixed(0)} %`,
      num(s.tree, 2),
      num(c.demoCpuPerSessionS, 2),
    ]);
  }
  return markdown(head, rows);
}

async function loadCells() {
  if (!existsSync(RAW)) return [];
  const out = [];
  for (const f of (await readdir(RAW)).filter((f) => f.endsWith('.json'))) out.push(JSON.parse(await readFile(join(RAW, f), 'utf8')));
  return out;
}

async function main() {
  const cfg = args();
  if (!existsSync(CLI)) throw new Error(`build first: npx tsc -b (missing ${CLI})`);
  if (!cfg.tableOnly) {
    for (const browser of cfg.browsers) {
      for (const mode of cfg.modes) {
        for (const level of cfg.levels) {
          process.stderr.write(`\n=== ${browser} ${mode} level ${level} (${new Date().toISOString()}) ===\n`);
          const c = await runCell(cfg, browser, mode, level);
          process.stderr.write(
            `=== ${c.id}: exit ${c.exitCode}, ${c.sessions.ok} ok / ${c.sessions.failed} failed, peak ${c.peakConcurrent}, ${c.wallS.toFixed(0)} s\n`,
          );
        }
      }
    }
  }
  const cells = await loadCells();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, linux ${release()}, Node ${process.version}`;
  const md =
    `<!-- generated by bench/fidelity/run.mjs; edit the prose in run.mjs's template or below the table by hand -->\n\n` +
    `Table generated ${new Date().toISOString()} on ${machine}, from ${cells.length} cell(s) in bench/fidelity/raw/; the machine column says where each row was measured ` +
    `(2 cores and 24 GiB each; connect and delivery errors are against the 1-session baseline of the same machine where there is one).\n\n${table(cells)}\n`;
  await writeFile(join(HERE, 'table.md'), md);
  await writeFile(join(HERE, 'drift.md'), `<!-- generated by bench/fidelity/run.mjs -->\n\n${driftTable(cells)}\n`);
  await writeFile(join(HERE, 'cpu.md'), `<!-- generated by bench/fidelity/run.mjs -->\n\n${cpuTable(cells)}\n`);
  process.stdout.write(md);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
