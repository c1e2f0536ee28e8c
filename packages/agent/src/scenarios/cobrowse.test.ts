import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser } from 'puppeteer-core';
import {
  ERROR_CODES,
  ScenarioOptionsSchema,
  StepError,
  coreMetrics,
  describeError,
  expectedSamples,
  resolveProfile,
  type MetricName,
  type TargetProfile,
} from '@userprobe/shared';
import { startDemoTarget, type DemoTarget, type KnobsPatch } from '@userprobe/demo-target';
import type { Recorder, ScenarioContext } from '../runner/scenario-api.js';
import { createScenarioProbe } from './scenario-probe.js';
import { ReferenceClient, expectVerdicts, judgeDelay, median, runExperiment, type Verdict } from '@userprobe/testkit';
import { cobrowse, mirrorSampleDetail } from './cobrowse.js';
import { soleSeat } from '../runner/scenario-api.js';

/*
 * cobrowse against the real demo target in real Chromium (headless shell; no
 * WebRTC, so no network namespace is needed). Known delays are injected with
 * the demo's knobs and compared with a baseline measured in the same test:
 *   cobrowseEvents D delays every relayed cobrowse event once, so
 *   - session established (start → visitor indicator): 1 relay (start)  → +D
 *   - first snapshot (start → mirror rendered): 2 relays (start, snapshot) → +2D
 *   - mirror lag (visitor change → mirror): 1 relay (mutations) → +D
 *   judged as a dose response (LOW_MS + D against LOW_MS per relay, interleaved rounds);
 *   cobrowseScript S delays the script response: cobrowse_script_load against an
 *   independent Node client loading the same delayed script. Bars: the stated accuracy
 *   plus the noise the rounds show (@userprobe/testkit).
 */

const SHELL = '/usr/lib/chromium/chromium-headless-shell';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--site-per-process',
];
/** The relay delay added over LOW_MS (dose response: both arms sleep, so the page's own work and wake-up latency cancel). */
const D = 200;
const LOW_MS = 200;
const SCRIPT_MS = 200;
const SAMPLES = 3;
const ROUNDS = 5;

interface Sample {
  metric: MetricName;
  value: number;
  detail: string | undefined;
}

class TestRecorder implements Recorder {
  readonly samples: Sample[] = [];
  failure: StepError | undefined;
  async measure<T>(step: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      this.failure ??= e instanceof StepError ? e : new StepError(step, describeError(e).message, { cause: e });
      throw e;
    }
  }
  value(metric: MetricName, value: number, opts?: { detail?: string }): void {
    this.samples.push({ metric, value, detail: opts?.detail });
  }
  note(): void {}
  doing(): void {}
}

let target: DemoTarget;
/** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
let demoProfile: TargetProfile;
let browser: Browser;
let reference: ReferenceClient;
let userDataDir = '';
let n = 0;

/**
 * Step and session timeouts of these tests: functional bounds, far above what any step needs even on
 * a saturated machine (a step that waits this long has failed). The timing verdicts never depend on them.
 */
const FUNCTIONAL_WAIT_MS = 60_000;

/** The options agents get (every other one at its default, as an assignment fills them). */
const OPTIONS = ScenarioOptionsSchema.parse({
  callDurationMs: 0,
  mirrorSamples: SAMPLES,
  har: 'off',
  stepTimeoutMs: FUNCTIONAL_WAIT_MS,
  sessionTimeoutMs: 2 * FUNCTIONAL_WAIT_MS,
  adaptiveStart: false,
});

async function runSession(knobs: KnobsPatch, profile: TargetProfile = demoProfile): Promise<TestRecorder> {
  target.knobs.reset();
  target.knobs.set(knobs);
  const vctx = await browser.createBrowserContext();
  const actx = await browser.createBrowserContext();
  const recorder = new TestRecorder();
  try {
    const ctx: ScenarioContext = {
      session: { runId: 'test', sessionId: `c${++n}`, scenario: 'cobrowse' },
      pages: { visitor: await vctx.newPage(), agent: await actx.newPage() },
      console: soleSeat,
      profile,
      options: OPTIONS,
      recorder,
      signal: new AbortController().signal,
      credential: (ref) => ref.default ?? '',
      settings: undefined,
      probe: createScenarioProbe({ stepTimeoutMs: 30_000, signal: new AbortController().signal, input: 'insert' }), // built-in scenarios use neither
    };
    await cobrowse.run(ctx).catch(() => undefined);
  } finally {
    await vctx.close();
    await actx.close();
  }
  return recorder;
}

const values = (r: TestRecorder, m: MetricName): number[] => r.samples.filter((s) => s.metric === m).map((s) => s.value);
const one = (r: TestRecorder, m: MetricName): number => {
  const v = values(r, m);
  expect(v, m).toHaveLength(1);
  return v[0]!;
};

/** The reference arm: an independent Node client loads the cobrowse script with the same delay set (the median of three on a warm connection). */
async function referenceScriptLoad(): Promise<number> {
  target.knobs.reset();
  target.knobs.set({ latency: { cobrowseScript: SCRIPT_MS } });
  try {
    return await reference.httpSteady({ url: `${target.appUrl}/cobrowse/cobrowse.js` }, { warm: { url: `${target.appUrl}/widget/loader.js` }, times: 3 });
  } finally {
    target.knobs.reset();
  }
}

beforeAll(async () => {
  target = await startDemoTarget();
  demoProfile = (await resolveProfile('demo', target.vars)).profile;
  reference = new ReferenceClient();
  userDataDir = await mkdtemp(join(tmpdir(), 'cobrowse-test-'));
  browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ARGS, userDataDir });
  await runSession({}); // warm-up: the first session in a fresh browser measures slow
});
afterAll(async () => {
  reference?.close();
  await browser?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await target?.close();
});

describe('cobrowse scenario on the demo target', () => {
  it(`records every core metric, mirror lag ${SAMPLES} times (expectedSamples), and injected delays show up`, async () => {
    const events = (ms: number): KnobsPatch => ({ latency: { cobrowseEvents: ms, cobrowseScript: SCRIPT_MS } });
    const exp = await runExperiment<{ session?: TestRecorder; referenceMs?: number }>(
      [
        { name: 'low', run: async () => ({ session: await runSession(events(LOW_MS)) }) },
        { name: 'high', run: async () => ({ session: await runSession(events(LOW_MS + D)) }) },
        { name: 'reference', run: async () => ({ referenceMs: await referenceScriptLoad() }) },
      ],
      { rounds: ROUNDS },
    );
    const want = expectedSamples('cobrowse', OPTIONS);
    for (const round of exp.all) {
      for (const arm of ['low', 'high'] as const) {
        const r = round.results[arm]!.session!;
        expect(r.failure, `${arm} round ${round.index + 1}`).toBeUndefined();
        for (const m of coreMetrics('cobrowse')) expect(values(r, m), m).toHaveLength(want[m] ?? 1);
        expect(r.samples.filter((s) => s.metric === 'cobrowse_mirror_lag').map((s) => s.detail)).toEqual(
          Array.from({ length: SAMPLES }, (_, i) => mirrorSampleDetail(i + 1)),
        );
        for (const s of r.samples) expect(s.value, s.metric).toBeGreaterThanOrEqual(0);
      }
    }
    const arm = (name: string, pick: (r: TestRecorder) => number): number[] => exp.values(name, (v) => v.session && pick(v.session));
    const dose = (metric: MetricName, relays: number, pick: (r: TestRecorder) => number): Verdict =>
      judgeDelay({
        metric: relays === 1 ? metric : `${metric} (${relays} relays)`,
        injectedMs: relays * D,
        measured: arm('high', pick),
        reference: arm('low', pick),
        referenceIs: `same metric with ${LOW_MS} ms per relay`,
        floorMs: relays * (LOW_MS + D),
      });
    expectVerdicts('cobrowse accuracy at one session', exp, [
      dose('cobrowse_session_established', 1, (r) => one(r, 'cobrowse_session_established')),
      dose('cobrowse_first_snapshot', 2, (r) => one(r, 'cobrowse_first_snapshot')),
      // the median of each session's mirror-lag samples: one value per session, as for the other metrics
      dose('cobrowse_mirror_lag', 1, (r) => median(values(r, 'cobrowse_mirror_lag'))),
      judgeDelay({
        metric: 'cobrowse_script_load',
        injectedMs: SCRIPT_MS,
        floorMs: SCRIPT_MS,
        measured: [...arm('low', (r) => one(r, 'cobrowse_script_load')), ...arm('high', (r) => one(r, 'cobrowse_script_load'))],
        reference: exp.values('reference', (v) => (v.referenceMs === undefined ? undefined : v.referenceMs - SCRIPT_MS)),
        referenceIs: `independent Node client's overhead on the same delayed script, median of 3 on a warm connection (elapsed − ${SCRIPT_MS})`,
      }),
    ]);
  }, 240_000);

  it('a profile without the cobrowse sections fails step "profile", naming what is missing', async () => {
    const { cobrowse: _v, ...visitor } = demoProfile.visitor;
    const profile: TargetProfile = { ...demoProfile, visitor };
    const r = await runSession({}, profile);
    expect(r.failure?.step).toBe('profile');
    expect(r.failure?.code).toBe(ERROR_CODES.PROFILE_INVALID);
    expect(r.failure?.message).toContain('visitor.cobrowse');
    expect(r.samples).toEqual([]);
  });

  it('a mirror that never shows the snapshot fails cobrowse_first_snapshot with the selector', async () => {
    const profile: TargetProfile = {
      ...demoProfile,
      agent: { ...demoProfile.agent, cobrowse: { ...demoProfile.agent.cobrowse!, snapshotReady: '#never-there' } },
    };
    const vctxOpts = { ...OPTIONS, stepTimeoutMs: 2_000 };
    target.knobs.reset();
    const vctx = await browser.createBrowserContext();
    const actx = await browser.createBrowserContext();
    const recorder = new TestRecorder();
    try {
      await cobrowse
        .run({
          session: { runId: 'test', sessionId: `c${++n}`, scenario: 'cobrowse' },
          pages: { visitor: await vctx.newPage(), agent: await actx.newPage() },
          console: soleSeat,
          profile,
          options: vctxOpts,
          recorder,
          signal: new AbortController().signal,
          credential: (ref) => ref.default ?? '',
          settings: undefined,
          probe: createScenarioProbe({ stepTimeoutMs: 30_000, signal: new AbortController().signal, input: 'insert' }), // built-in scenarios use neither
        })
        .catch(() => undefined);
    } finally {
      await vctx.close();
      await actx.close();
    }
    expect(recorder.failure?.step).toBe('cobrowse_first_snapshot');
    expect(recorder.failure?.code).toBe(ERROR_CODES.STEP_TIMEOUT);
    expect(recorder.failure?.message).toContain("'#never-there' did not appear in the mirror");
    expect(values(recorder, 'cobrowse_session_established')).toHaveLength(1);
  });
});
