// Runs scenario sessions against the bundled demo target in one Chromium, one
// session per request: each line on stdin is a JSON { knobs: KnobsPatch,
// options?: Partial<ScenarioOptions> }; each session's result is one line on
// stdout (prefix RESULT_MARKER). READY_MARKER says the browser is up (and
// warmed). Ends when stdin closes. Spawned by netns.ts inside a network
// namespace of its own; imports the built dist/ (build first: npx tsc -b
// packages/demo-target packages/agent).
//
// Config (JSON in $USERPROBE_HARNESS): {
//   scenario, browser?: 'shell' | 'chromium', warmup?: boolean,
//   options: ScenarioOptions (partial; merged over defaults) }
import { createInterface } from 'node:readline';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { ScenarioOptionsSchema, StepError, describeError, resolveProfile } from '@userprobe/shared';
import { startDemoTarget } from '@userprobe/demo-target';
import { getScenario } from '../../dist/scenarios/index.js';
import { launchPlan } from '../../dist/host/browser-pool.js';
import { soleSeat } from '../../dist/runner/scenario-api.js';

const RESULT_MARKER = 'USERPROBE_HARNESS_RESULT ';
const READY_MARKER = 'USERPROBE_HARNESS_READY';
const BINARIES = { shell: '/usr/lib/chromium/chromium-headless-shell', chromium: '/usr/lib/chromium/chromium' };
// The assignment schema fills every option not named here with its default.
const DEFAULT_OPTIONS = ScenarioOptionsSchema.parse({
  callDurationMs: 0,
  mirrorSamples: 1,
  har: 'off',
  stepTimeoutMs: 60000,
  sessionTimeoutMs: 120000,
  adaptiveStart: false,
});

/** The smallest Recorder: keeps values, notes and the first failure. */
class HarnessRecorder {
  samples = [];
  notes = [];
  failure = null;
  async measure(step, fn) {
    try {
      return await fn();
    } catch (e) {
      this.failure ??=
        e instanceof StepError ? { step: e.step, code: e.code, message: e.message } : { step, code: 'E_STEP_FAILED', message: describeError(e).message };
      throw e;
    }
  }
  value(metric, value, opts) {
    this.samples.push({ metric, value, detail: opts?.detail ?? null });
  }
  note(message, data) {
    this.notes.push({ message, data: data ?? null });
  }
  doing() {}
}

async function session(browser, profile, scenario, n, options) {
  const vctx = await browser.createBrowserContext();
  const actx = await browser.createBrowserContext();
  const recorder = new HarnessRecorder();
  const ac = new AbortController();
  const hard = setTimeout(() => ac.abort(new Error(`session exceeded ${options.sessionTimeoutMs} ms`)), options.sessionTimeoutMs);
  try {
    const [visitor, agent] = await Promise.all([vctx.newPage(), actx.newPage()]);
    await scenario
      .run({
        session: { runId: 'harness', sessionId: `h${n}`, scenario: scenario.name },
        pages: { visitor, agent },
        console: soleSeat,
        profile,
        options,
        recorder,
        signal: ac.signal,
        credential: (ref) => ref.default ?? '',
      })
      .catch((e) => {
        recorder.failure ??= { step: null, code: e?.code ?? 'E_STEP_FAILED', message: describeError(e).message };
      });
  } finally {
    clearTimeout(hard);
    await Promise.all([vctx.close(), actx.close()].map((p) => p.catch(() => undefined)));
  }
  return { samples: recorder.samples, notes: recorder.notes, failure: recorder.failure };
}

async function main() {
  const config = JSON.parse(process.env.USERPROBE_HARNESS ?? '{}');
  const kind = config.browser ?? 'shell';
  const target = await startDemoTarget();
  const { profile } = await resolveProfile('demo', target.vars);
  const userDataDir = await mkdtemp(join(tmpdir(), 'userprobe-netns-'));
  process.stderr.write(`harness: demo target up; launching ${kind}\n`);
  const browser = await puppeteer.launch({
    executablePath: BINARIES[kind],
    headless: kind === 'shell' ? 'shell' : true,
    pipe: true,
    userDataDir,
    // The agent's own flags (fake media devices, loopback ICE, mDNS off, site isolation in the shell).
    args: [...launchPlan(kind, { chromiumPath: BINARIES.chromium, shellPath: BINARIES.shell }).args],
  });
  try {
    const scenario = getScenario(config.scenario);
    const base = { ...DEFAULT_OPTIONS, ...(config.options ?? {}) };
    if (config.warmup) {
      target.knobs.reset();
      // Only to warm caches: bounded well inside the caller's start timeout, and said on stderr (a stuck warm-up is visible, not a silent wait).
      const t0 = Date.now();
      const warm = await session(browser, profile, scenario, 0, { ...base, stepTimeoutMs: 15_000, sessionTimeoutMs: 25_000 });
      process.stderr.write(
        `harness warm-up ${warm.failure ? `failed at ${warm.failure.step ?? '?'}: ${warm.failure.message}` : 'ok'} in ${Date.now() - t0} ms\n`,
      );
    }
    process.stdout.write(`${READY_MARKER}\n`);
    let n = 1;
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      const r = JSON.parse(line);
      target.knobs.reset();
      target.knobs.set(r.knobs ?? {});
      const run = await session(browser, profile, scenario, n++, { ...base, ...(r.options ?? {}) });
      process.stdout.write(`${RESULT_MARKER}${JSON.stringify(run)}\n`);
    }
  } finally {
    await browser.close();
    await rm(userDataDir, { recursive: true, force: true });
    await target.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`harness failed: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
