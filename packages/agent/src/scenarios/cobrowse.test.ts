import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser } from 'puppeteer-core';
import {
  ERROR_CODES, StepError, coreMetrics, describeError, expectedSamples, type MetricName, type ScenarioOptions, type TargetProfile,
} from '@userprobe/shared';
// The demo target is not a dependency of the agent package; tests load its source directly.
import { startDemoTarget, type DemoTarget, type KnobsPatch } from '../../../demo-target/src/index.js';
import type { Recorder, ScenarioContext } from '../scenario-api.js';
import { demoLatenessMs } from '../../test/machine-lateness.js';
import { cobrowse, mirrorSampleDetail } from './cobrowse.js';

/**
 * cobrowse against the real demo target in real Chromium (headless shell; no
 * WebRTC, so no network namespace is needed). Known delays are injected with
 * the demo's knobs and compared with a baseline measured in the same test:
 *   cobrowseEvents D delays every relayed cobrowse event once, so
 *   - session established (start → visitor indicator): 1 relay (start)  → +D
 *   - first snapshot (start → mirror rendered): 2 relays (start, snapshot) → +2D
 *   - mirror lag (visitor change → mirror): 1 relay (mutations) → +D
 *   each within ±DIFF_TOLERANCE_MS of the baseline plus that;
 *   cobrowseScript S delays the script response: cobrowse_script_load within 5 ms + 2 % of S
 *   (its baseline is ~1–3 ms).
 */

const SHELL = '/usr/lib/chromium/chromium-headless-shell';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--site-per-process'];
const D = 200;
const SCRIPT_MS = 300;
const SAMPLES = 3;
/** Difference-to-baseline tolerance (page-side stamps on both ends; two runs, each with its own jitter). */
const DIFF_TOLERANCE_MS = 25;
const scriptTolerance = (ms: number): number => 5 + 0.02 * ms;

interface Sample { metric: MetricName; value: number; detail: string | undefined }

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
}

let target: DemoTarget;
let browser: Browser;
let userDataDir = '';
let n = 0;

const OPTIONS: ScenarioOptions = {
  messages: 1, callDurationMs: 0, mirrorSamples: SAMPLES, har: 'off', stepTimeoutMs: 15_000, sessionTimeoutMs: 60_000, adaptiveStart: false,
  thinkTime: { minMs: 0, maxMs: 0 }, input: 'type',
};

async function runSession(knobs: KnobsPatch, profile: TargetProfile = target.profile): Promise<TestRecorder> {
  target.knobs.reset();
  target.knobs.set(knobs);
  const vctx = await browser.createBrowserContext();
  const actx = await browser.createBrowserContext();
  const recorder = new TestRecorder();
  try {
    const ctx: ScenarioContext = {
      session: { runId: 'test', sessionId: `c${++n}`, scenario: 'cobrowse' },
      pages: { visitor: await vctx.newPage(), agent: await actx.newPage() },
      profile, options: OPTIONS, recorder,
      signal: new AbortController().signal,
      credential: (ref) => ref.default ?? '',
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
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

beforeAll(async () => {
  target = await startDemoTarget();
  userDataDir = await mkdtemp(join(tmpdir(), 'cobrowse-test-'));
  browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ARGS, userDataDir });
  await runSession({}); // warm-up: the first session in a fresh browser measures slow
});
afterAll(async () => {
  await browser?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await target?.close();
});

describe('cobrowse scenario on the demo target', () => {
  it(`records every core metric, mirror lag ${SAMPLES} times (expectedSamples), and injected delays show up`, async () => {
    const base = await runSession({});
    const slow = await runSession({ latency: { cobrowseEvents: D, cobrowseScript: SCRIPT_MS } });
    for (const r of [base, slow]) {
      expect(r.failure).toBeUndefined();
      const want = expectedSamples('cobrowse', OPTIONS);
      for (const m of coreMetrics('cobrowse')) expect(values(r, m), m).toHaveLength(want[m] ?? 1);
      expect(r.samples.filter((s) => s.metric === 'cobrowse_mirror_lag').map((s) => s.detail))
        .toEqual(Array.from({ length: SAMPLES }, (_, i) => mirrorSampleDetail(i + 1)));
      for (const s of r.samples) expect(s.value, s.metric).toBeGreaterThanOrEqual(0);
    }
    const rise = (m: MetricName): number => mean(values(slow, m)) - mean(values(base, m));
    expect(Math.abs(rise('cobrowse_session_established') - D), `session established rose ${rise('cobrowse_session_established').toFixed(1)}`).toBeLessThanOrEqual(DIFF_TOLERANCE_MS);
    expect(Math.abs(rise('cobrowse_first_snapshot') - 2 * D), `first snapshot rose ${rise('cobrowse_first_snapshot').toFixed(1)}`).toBeLessThanOrEqual(DIFF_TOLERANCE_MS);
    expect(Math.abs(rise('cobrowse_mirror_lag') - D), `mirror lag rose ${rise('cobrowse_mirror_lag').toFixed(1)}`).toBeLessThanOrEqual(DIFF_TOLERANCE_MS);
    // never below the injected value by more than the bar; above it, also this machine's lateness on a delayed request
    const late = await demoLatenessMs(target, SCRIPT_MS);
    expect(one(slow, 'cobrowse_script_load') - SCRIPT_MS).toBeGreaterThanOrEqual(-scriptTolerance(SCRIPT_MS));
    expect(one(slow, 'cobrowse_script_load') - SCRIPT_MS - late, `script load ${one(slow, 'cobrowse_script_load').toFixed(1)}, machine lateness ${late.toFixed(1)}`)
      .toBeLessThanOrEqual(scriptTolerance(SCRIPT_MS));
    expect(one(base, 'cobrowse_script_load')).toBeLessThan(SCRIPT_MS / 3);
  }, 120_000);

  it('a profile without the cobrowse sections fails step "profile", naming what is missing', async () => {
    const { cobrowse: _v, ...visitor } = target.profile.visitor;
    const profile: TargetProfile = { ...target.profile, visitor };
    const r = await runSession({}, profile);
    expect(r.failure?.step).toBe('profile');
    expect(r.failure?.code).toBe(ERROR_CODES.PROFILE_INVALID);
    expect(r.failure?.message).toContain('visitor.cobrowse');
    expect(r.samples).toEqual([]);
  });

  it('a mirror that never shows the snapshot fails cobrowse_first_snapshot with the selector', async () => {
    const profile: TargetProfile = { ...target.profile, agent: { ...target.profile.agent, cobrowse: { ...target.profile.agent.cobrowse!, snapshotReady: '#never-there' } } };
    const vctxOpts = { ...OPTIONS, stepTimeoutMs: 2_000 };
    target.knobs.reset();
    const vctx = await browser.createBrowserContext();
    const actx = await browser.createBrowserContext();
    const recorder = new TestRecorder();
    try {
      await cobrowse.run({
        session: { runId: 'test', sessionId: `c${++n}`, scenario: 'cobrowse' },
        pages: { visitor: await vctx.newPage(), agent: await actx.newPage() },
        profile, options: vctxOpts, recorder, signal: new AbortController().signal, credential: (ref) => ref.default ?? '',
      }).catch(() => undefined);
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
