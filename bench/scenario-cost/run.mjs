// Per-session cost of a scenario on this machine: N sessions of <scenario>
// started together in ONE Chromium (a context per page, as the agent runs
// them), against the bundled demo target. Reports the browser tree's CPU
// seconds per session (utime+stime, all descendants, before → after) and its
// PSS per session (peak while the N sessions are live, minus the warm base).
//
//   node bench/scenario-cost/run.mjs <scenario> <N> [shell|chromium]   (prints one JSON line)
//   CALL_MS=0 node … video-call 2   (call length; default 5000)
//   bench/scenario-cost/run.sh                                         (all scenarios, inside a netns)
//
// Build first: npx tsc -b packages/demo-target packages/agent
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from '../../packages/agent/node_modules/puppeteer-core/lib/esm/puppeteer/puppeteer-core.js';
import { ScenarioOptionsSchema } from '../../packages/shared/dist/index.js';
import { startDemoTarget } from '../../packages/demo-target/dist/index.js';
import { getScenario } from '../../packages/agent/dist/scenarios/index.js';
import { launchPlan } from '../../packages/agent/dist/host/browser-pool.js';
import { resolveProfile } from '../../packages/shared/dist/index.js';
import { cpuSeconds, pssMb } from '../lib/proc-tree.mjs';

const [scenarioName = 'cobrowse', nArg = '4', kind = 'shell'] = process.argv.slice(2);
const N = Number(nArg);
const PSS_SAMPLE_MS = 200;
// The assignment schema fills every option not named here with its default.
const OPTIONS = ScenarioOptionsSchema.parse({
  callDurationMs: Number(process.env.CALL_MS ?? 5000),
  har: 'off',
  stepTimeoutMs: 30000,
  sessionTimeoutMs: 120000,
  adaptiveStart: false,
});
const BIN = { shell: '/usr/lib/chromium/chromium-headless-shell', chromium: '/usr/lib/chromium/chromium' };
// The agent's browser pool flags, exactly (since 2026-11-29 they include --site-per-process for the shell and
// WebRtcHideLocalIpsWithMdns in the one --disable-features list; results.md says which figures predate that).
const ARGS = [...launchPlan(kind, { chromiumPath: BIN.chromium, shellPath: BIN.shell }).args];

class Rec {
  samples = 0;
  failure = null;
  async measure(step, fn) {
    try {
      return await fn();
    } catch (e) {
      this.failure ??= `${step}: ${e.message}`;
      throw e;
    }
  }
  value() {
    this.samples += 1;
  }
  note() {}
}

async function session(browser, profile, scenario, id) {
  const vctx = await browser.createBrowserContext();
  const actx = await browser.createBrowserContext();
  const rec = new Rec();
  try {
    const [visitor, agent] = await Promise.all([vctx.newPage(), actx.newPage()]);
    await scenario
      .run({
        session: { runId: 'bench', sessionId: id, scenario: scenario.name },
        pages: { visitor, agent },
        profile,
        options: OPTIONS,
        recorder: rec,
        signal: new AbortController().signal,
        credential: (r) => r.default ?? '',
      })
      .catch(() => undefined);
  } finally {
    await Promise.all([vctx.close(), actx.close()]);
  }
  return rec;
}

const target = await startDemoTarget();
const { profile } = await resolveProfile('demo', target.vars);
const userDataDir = await mkdtemp(join(tmpdir(), 'scenario-cost-'));
const browser = await puppeteer.launch({ executablePath: BIN[kind], headless: kind === 'shell' ? 'shell' : true, pipe: true, userDataDir, args: ARGS });
const pid = browser.process().pid;
try {
  const scenario = getScenario(scenarioName);
  await session(browser, profile, scenario, 'warm'); // the first session in a fresh browser measures slow
  await new Promise((r) => setTimeout(r, 1000));
  const base = { cpu: cpuSeconds(pid), pss: pssMb(pid) };
  let peak = base.pss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, pssMb(pid));
  }, PSS_SAMPLE_MS);
  const t0 = performance.now();
  const recs = await Promise.all(Array.from({ length: N }, (_, i) => session(browser, profile, scenario, `b${i}`)));
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const cpu = cpuSeconds(pid) - base.cpu;
  const failed = recs.filter((r) => r.failure).map((r) => r.failure);
  process.stdout.write(
    `${JSON.stringify({
      scenario: scenarioName,
      browser: kind,
      sessions: N,
      failed,
      wallS: +wallS.toFixed(1),
      cpuS: +cpu.toFixed(2),
      cpuSPerSession: +(cpu / N).toFixed(2),
      basePssMb: +base.pss.toFixed(0),
      peakPssMb: +peak.toFixed(0),
      pssMbPerSession: +((peak - base.pss) / N).toFixed(1),
      samplesPerSession: recs.map((r) => r.samples),
    })}\n`,
  );
} finally {
  await browser.close();
  await rm(userDataDir, { recursive: true, force: true });
  await target.close();
}
