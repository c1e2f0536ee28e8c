import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser } from 'puppeteer-core';
import {
  BUNDLED_PROFILES,
  ScenarioOptionsSchema,
  StepError,
  coreMetrics,
  describeError,
  METRICS,
  resolveProfile,
  skippedMetrics,
  type MetricName,
  type TargetProfile,
} from '@userprobe/shared';
import { startDemoTarget, type DemoTarget, type KnobsPatch } from '@userprobe/demo-target';
import { expectVerdicts, judgeDelay, runExperiment, type Verdict } from '@userprobe/testkit';
import { DEFAULT_SHELL_PATH } from '../config/config.js';
import { BASE_ARGS, SHELL_EXTRA_ARGS } from '../host/browser-pool.js';
import type { Recorder, ScenarioContext } from '../runner/scenario-api.js';
import { createScenarioProbe } from './scenario-probe.js';
import { chatLoad } from './chat-load.js';
import { soleSeat } from '../runner/scenario-api.js';

/*
 * The example product shapes (profiles/examples/, bundled as demo-socket-chat, demo-nickname,
 * demo-sso) run chat-load end to end on the demo target in those shapes — a full-page chat
 * with messages over the websocket only and Enter to send; a nickname log-in with Enter and
 * auto-assigned chats; a single sign-on console (cookie, no form) replying with Enter — with
 * no dummy field, each measuring exactly the core metrics its profile defines a step for, and
 * each reading an injected delivery delay back (dose response against the same shape at a
 * lower delay, interleaved rounds).
 */

// The agent's own launch flags for the headless shell (browser-pool.ts), the widget out of process as in Chrome.
const ARGS = [...BASE_ARGS, ...SHELL_EXTRA_ARGS];
/** Message relay delay (the demo's `realtime` knob): the low arm, and what the high arm adds. */
const LOW_MS = 100;
const ADDED_MS = 200;
/** How late the slow console (`?render=`) shows what its socket brought. */
const RENDER_MS = 300;
const ROUNDS = 5;
const SHAPES = Object.keys(BUNDLED_PROFILES).filter((n) => n !== 'demo');
/** Functional bounds only: a step that waits this long has failed; no verdict depends on them. */
const FUNCTIONAL_WAIT_MS = 60_000;
const OPTIONS = ScenarioOptionsSchema.parse({
  har: 'off',
  stepTimeoutMs: FUNCTIONAL_WAIT_MS,
  sessionTimeoutMs: 2 * FUNCTIONAL_WAIT_MS,
  adaptiveStart: false,
});

interface Sample {
  readonly metric: MetricName;
  readonly value: number;
  readonly detail: string | undefined;
}
interface SessionResult {
  readonly samples: Sample[];
  readonly failure: StepError | undefined;
}

class TestRecorder implements Recorder {
  readonly samples: Sample[] = [];
  failure: StepError | undefined;
  #doing = '';
  async measure<T>(step: string, fn: () => Promise<T>): Promise<T> {
    this.#doing = '';
    try {
      return await fn();
    } catch (e) {
      const why = this.#doing ? ` (while it was at: ${this.#doing})` : '';
      this.failure ??= new StepError(step, `${describeError(e).message}${why}`, { cause: e });
      throw e;
    }
  }
  value(metric: MetricName, value: number, opts?: { detail?: string }): void {
    this.samples.push({ metric, value, detail: opts?.detail });
  }
  note(): void {}
  doing(action: string): void {
    this.#doing = action;
  }
}

let target: DemoTarget;
let browser: Browser;
let userDataDir = '';
let sessions = 0;
const profiles = new Map<string, TargetProfile>();

async function runSession(shape: string | TargetProfile, knobs: KnobsPatch): Promise<SessionResult> {
  target.knobs.reset();
  target.knobs.set(knobs);
  const visitorCtx = await browser.createBrowserContext();
  const agentCtx = await browser.createBrowserContext();
  const recorder = new TestRecorder();
  try {
    const ctx: ScenarioContext = {
      session: { runId: 'shapes', sessionId: `s${++sessions}`, scenario: 'chat-load' },
      pages: { visitor: await visitorCtx.newPage(), agent: await agentCtx.newPage() },
      console: soleSeat,
      profile: typeof shape === 'string' ? profiles.get(shape)! : shape,
      options: OPTIONS,
      recorder,
      signal: new AbortController().signal,
      credential: (ref) => ref.default ?? '',
      settings: undefined,
      probe: createScenarioProbe({ stepTimeoutMs: 30_000, signal: new AbortController().signal, input: 'insert' }), // built-in scenarios use neither
    };
    await chatLoad.run(ctx).catch(() => undefined); // the failure is in the recorder
  } finally {
    await visitorCtx.close();
    await agentCtx.close();
    target.knobs.reset();
  }
  return { samples: recorder.samples, failure: recorder.failure };
}

const delivery = (ms: number): KnobsPatch => ({ latency: { realtime: ms } });

function one(r: SessionResult, metric: MetricName): number {
  const s = r.samples.filter((x) => x.metric === metric && x.detail === undefined);
  expect(s, metric).toHaveLength(1);
  return s[0]!.value;
}

beforeAll(async () => {
  target = await startDemoTarget({});
  for (const shape of SHAPES) profiles.set(shape, (await resolveProfile(shape, target.vars)).profile);
  userDataDir = await mkdtemp(join(tmpdir(), 'userprobe-shapes-'));
  browser = await puppeteer.launch({ executablePath: DEFAULT_SHELL_PATH, headless: 'shell', pipe: true, args: ARGS, userDataDir });
  // Warm-up: the first sessions in a fresh browser measure slow (PLATFORM.md).
  for (const shape of SHAPES) {
    const r = await runSession(shape, {});
    if (r.failure) throw r.failure;
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await target?.close();
});

describe('chat-load on the example product shapes', () => {
  it('each shape measures exactly the core metrics its profile defines a step for, and reads an injected delivery delay back', async () => {
    const exp = await runExperiment<SessionResult>(
      SHAPES.flatMap((shape) => [
        { name: `${shape} low`, run: () => runSession(shape, delivery(LOW_MS)) },
        { name: `${shape} high`, run: () => runSession(shape, delivery(LOW_MS + ADDED_MS)) },
      ]),
      { rounds: ROUNDS },
    );
    const verdicts: Verdict[] = [];
    for (const shape of SHAPES) {
      const profile = profiles.get(shape)!;
      const skipped = skippedMetrics('chat-load', profile).map((k) => k.metric);
      const expected = coreMetrics('chat-load').filter((m) => !skipped.includes(m));
      for (const round of exp.all) {
        for (const arm of ['low', 'high']) {
          const r = round.results[`${shape} ${arm}`]!;
          expect(r.failure, `${shape} ${arm} round ${round.index + 1}`).toBeUndefined();
          const core = r.samples.filter((s) => METRICS[s.metric].kind === 'core' && !(s.detail ?? '').startsWith('msg-'));
          expect(core.map((s) => s.metric).sort(), shape).toEqual([...expected].sort());
        }
      }
      for (const m of ['msg_visitor_to_agent', 'msg_agent_to_visitor'] as const) {
        verdicts.push(
          judgeDelay({
            metric: `${shape} ${m}`,
            injectedMs: ADDED_MS,
            measured: exp.values(`${shape} high`, (r) => one(r, m)),
            reference: exp.values(`${shape} low`, (r) => one(r, m)),
            referenceIs: `the same shape with ${LOW_MS} ms injected`,
            floorMs: LOW_MS + ADDED_MS,
          }),
        );
      }
    }
    // What each shape skips, as the summary will say it.
    expect(Object.fromEntries(SHAPES.map((s) => [s, skippedMetrics('chat-load', profiles.get(s)!).map((k) => k.metric)]))).toEqual({
      'demo-socket-chat': ['api_create', 'api_add_message'],
      'demo-nickname': [],
      'demo-sso': [],
    });
    expectVerdicts('example product shapes: delivery accuracy', exp, verdicts);
  }, 300_000);

  it('delivery by frame times the message on the wire: on a console that shows messages 300 ms late, the DOM reading is 300 ms above the frame reading', async () => {
    // demo-socket-chat counts visitor → agent by the console socket's frame; the same profile by the DOM is the other arm.
    const byFrame = profiles.get('demo-socket-chat')!;
    expect(byFrame.delivery?.toAgent).toEqual({ frame: 'crm' });
    const slow = `${byFrame.agent.url}${byFrame.agent.url.includes('?') ? '&' : '?'}render=${RENDER_MS}`;
    const frame: TargetProfile = { ...byFrame, agent: { ...byFrame.agent, url: slow } };
    const dom: TargetProfile = { ...frame, delivery: { toAgent: 'dom', toVisitor: 'dom' } };
    const exp = await runExperiment<SessionResult>(
      [
        { name: 'frame', run: () => runSession(frame, delivery(LOW_MS)) },
        { name: 'dom', run: () => runSession(dom, delivery(LOW_MS)) },
      ],
      { rounds: ROUNDS },
    );
    for (const round of exp.all) for (const arm of ['frame', 'dom']) expect(round.results[arm]!.failure, `${arm} round ${round.index + 1}`).toBeUndefined();
    expectVerdicts('delivery by frame against the DOM on a slow console', exp, [
      judgeDelay({
        metric: 'msg_visitor_to_agent, DOM − frame',
        injectedMs: RENDER_MS,
        measured: exp.values('dom', (r) => one(r, 'msg_visitor_to_agent')),
        reference: exp.values('frame', (r) => one(r, 'msg_visitor_to_agent')),
        referenceIs: "the same session counted by the console socket's frame",
        floorMs: LOW_MS + RENDER_MS,
      }),
    ]);
    // The frame reading is the relay's delay, not the render's.
    for (const v of exp.values('frame', (r) => one(r, 'msg_visitor_to_agent'))) expect(v).toBeLessThan(LOW_MS + RENDER_MS);
  }, 300_000);
});
