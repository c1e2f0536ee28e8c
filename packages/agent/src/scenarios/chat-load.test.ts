import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser } from 'puppeteer-core';
import {
  ERROR_CODES,
  ProbeError,
  ScenarioOptionsSchema,
  StepError,
  coreMetrics,
  describeError,
  METRICS,
  resolveProfile,
  type MetricName,
  type ScenarioOptions,
  type TargetProfile,
} from '@userprobe/shared';
import { CRM_SOCKET_PATH, FEATURES, startDemoTarget, type DemoTarget, type Feature, type FeatureContext, type KnobsPatch } from '@userprobe/demo-target';
import type { Recorder, ScenarioContext } from '../runner/scenario-api.js';
import { createScenarioProbe } from './scenario-probe.js';
import { ReferenceClient, expectVerdicts, judgeDelay, runExperiment, type Verdict } from '@userprobe/testkit';
import { chatLoad } from './chat-load.js';
import { getScenario, SCENARIO_REGISTRY } from './index.js';
import { soleSeat } from '../runner/scenario-api.js';

/*
 * chat-load against the real demo target in real Chromium (headless shell),
 * driven by a minimal harness: a context per page, a Recorder that collects
 * values. Known delays are injected with the demo's knobs and compared with
 * what the scenario measures, against a baseline measured in the same test.
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
  // The shell keeps a cross-site iframe in process unless told otherwise; real Chrome isolates it,
  // so the widget runs as an out-of-process iframe here, as it does for real visitors.
  '--site-per-process',
];
const API_MS = 200;
/** The connect and realtime delay added over LOW_MS (dose response: both arms sleep, so page-load overlap and wake-up latency cancel). */
const CONNECT_MS = 200;
const LOW_MS = 100;
const ACK_MS = 200;
const PAGE_MS = 150;
/** Interleaved rounds of each timing experiment. */
const ROUNDS = 5;

/**
 * Ground truth for the frame round trip: the demo has no knob delaying a
 * Socket.IO ack, so the test mounts the demo's chat feature with its CRM server
 * wrapped: every event a client sends waits `crmEventDelayMs` (server-side
 * Socket.IO middleware) before its handler runs and acks.
 */
let crmEventDelayMs = 0;
function withCrmEventDelay(f: Feature): Feature {
  if (f.name !== 'chat') return f;
  return {
    name: f.name,
    register(ctx) {
      const realtime = Object.create(ctx.realtime) as FeatureContext['realtime'];
      const create: FeatureContext['realtime']['create'] = <L extends object, E extends object, S extends object = object, D = unknown>(
        path: string,
        connectDelayMs: () => number,
        options?: Parameters<FeatureContext['realtime']['create']>[2],
      ) => {
        const io = ctx.realtime.create<L, E, S, D>(path, connectDelayMs, options);
        if (path === CRM_SOCKET_PATH) {
          io.on('connection', (socket) =>
            socket.use((_packet, next) => {
              if (crmEventDelayMs === 0) next();
              else void ctx.delays.wait(crmEventDelayMs).then(() => next());
            }),
          );
        }
        return io;
      };
      Object.defineProperty(realtime, 'create', { value: create });
      f.register({ ...ctx, realtime });
    },
  };
}

/** `at`: when the scenario recorded it (Node's clock), to see the pacing between exchanges. */
interface Sample {
  metric: MetricName;
  value: number;
  detail: string | undefined;
  at: number;
}
interface RunResult {
  samples: Sample[];
  failure: StepError | undefined;
  notes: string[];
  agentKeydowns: number;
}

class TestRecorder implements Recorder {
  readonly samples: Sample[] = [];
  readonly notes: string[] = [];
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
    this.samples.push({ metric, value, detail: opts?.detail, at: performance.now() });
  }
  note(message: string): void {
    this.notes.push(message);
  }
  doing(): void {}
}

let target: DemoTarget;
/** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
let demoProfile: TargetProfile;
let browser: Browser;
let reference: ReferenceClient;

interface ChatArm {
  session?: RunResult;
  reference?: { httpMs: number; ackMs: number };
}

/** How referenceRound's httpMs is read in the verdicts. */
const HTTP_REF = `independent Node client's overhead on the same delayed request, median of 3 on a warm connection (elapsed − ${API_MS})`;

/**
 * The reference arm: with the same delays set on the demo, an independent Node
 * client POSTs a chat (create, API_MS; the median of three on a warm connection)
 * and emits one acked CRM event (ACK_MS).
 */
async function referenceRound(): Promise<{ httpMs: number; ackMs: number }> {
  target.knobs.reset();
  target.knobs.set({ latency: { create: API_MS } });
  crmEventDelayMs = ACK_MS;
  try {
    const httpMs = await reference.httpSteady(
      { url: `${target.appUrl}/api/chats`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"reference"}' },
      { warm: { url: `${target.appUrl}/widget/loader.js` }, times: 3 },
    );
    const ackMs = await reference.socketIoAck({
      url: target.appUrl,
      path: CRM_SOCKET_PATH,
      auth: { role: 'visitor' },
      event: 'visitor:join',
      payload: { chatId: 'none', visitorToken: 'none' },
    });
    return { httpMs, ackMs };
  } finally {
    crmEventDelayMs = 0;
    target.knobs.reset();
  }
}
let userDataDir = '';
let sessions = 0;

/**
 * Step and session timeouts of these tests: functional bounds, far above what any step needs even on
 * a saturated machine (a step that waits this long has failed). The timing verdicts never depend on them.
 */
const FUNCTIONAL_WAIT_MS = 60_000;

/** The options agents get (every other one at its default, as an assignment fills them). */
const OPTIONS: ScenarioOptions = ScenarioOptionsSchema.parse({
  callDurationMs: 0,
  mirrorSamples: 1,
  har: 'off',
  stepTimeoutMs: FUNCTIONAL_WAIT_MS,
  sessionTimeoutMs: 2 * FUNCTIONAL_WAIT_MS,
  adaptiveStart: false,
});

async function runSession(
  knobs: KnobsPatch,
  options: Partial<ScenarioOptions> = {},
  on: Browser = browser,
  profile: TargetProfile = demoProfile,
  ackDelayMs = 0,
): Promise<RunResult> {
  target.knobs.reset();
  target.knobs.set(knobs);
  crmEventDelayMs = ackDelayMs;
  const visitorCtx = await on.createBrowserContext();
  const agentCtx = await on.createBrowserContext();
  const recorder = new TestRecorder();
  let agentKeydowns = -1;
  try {
    const ctx: ScenarioContext = {
      session: { runId: 'test', sessionId: `s${++sessions}`, scenario: 'chat-load' },
      pages: { visitor: await visitorCtx.newPage(), agent: await agentCtx.newPage() },
      console: soleSeat,
      profile,
      options: { ...OPTIONS, ...options },
      recorder,
      signal: new AbortController().signal,
      credential: (ref) => ref.default ?? '',
      settings: undefined,
      probe: createScenarioProbe({ stepTimeoutMs: 30_000, signal: new AbortController().signal, input: 'insert' }), // built-in scenarios use neither
    };
    // Key events reaching the console's message input (the agent's reply is entered there).
    await ctx.pages.agent.evaluateOnNewDocument((input: string) => {
      const w = window as unknown as { __keydowns: number };
      w.__keydowns = 0;
      document.addEventListener(
        'keydown',
        (e) => {
          if ((e.target as Element | null)?.matches?.(input)) w.__keydowns++;
        },
        true,
      );
    }, profile.agent.messageInput);
    await chatLoad.run(ctx).catch(() => undefined); // the failure is in the recorder
    agentKeydowns = await ctx.pages.agent.evaluate(() => (window as unknown as { __keydowns?: number }).__keydowns ?? -1);
  } finally {
    await visitorCtx.close();
    await agentCtx.close();
  }
  crmEventDelayMs = 0;
  return { samples: recorder.samples, failure: recorder.failure, notes: recorder.notes, agentKeydowns };
}

function one(r: RunResult, metric: MetricName): number {
  const s = r.samples.filter((x) => x.metric === metric && !(x.detail ?? '').startsWith('msg-'));
  expect(s, metric).toHaveLength(1);
  return s[0]!.value;
}

/** The single sample of `metric` with `detail`. */
function detailed(r: RunResult, metric: MetricName, detail: string): number {
  const s = r.samples.filter((x) => x.metric === metric && x.detail === detail);
  expect(s, `${metric}[${detail}]`).toHaveLength(1);
  return s[0]!.value;
}

/** An extra request pattern with a latency knob of its own: the agent console's log-in call. */
const EXTRA_PATTERN = 'agentLogin';
function withExtraPattern(p: TargetProfile): TargetProfile {
  return { ...p, network: { ...p.network, requests: { ...p.network.requests, [EXTRA_PATTERN]: { url: '/api/agent/login(\\?|$)', method: 'POST' } } } };
}

function show(label: string, r: RunResult): string {
  return `${label}: ${r.samples.map((s) => `${s.metric}${s.detail ? `[${s.detail}]` : ''}=${s.value.toFixed(1)}`).join(' ')}`;
}

beforeAll(async () => {
  target = await startDemoTarget({ features: FEATURES.map(withCrmEventDelay) });
  demoProfile = (await resolveProfile('demo', target.vars)).profile;
  reference = new ReferenceClient();
  userDataDir = await mkdtemp(join(tmpdir(), 'userprobe-chat-load-'));
  browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ARGS, userDataDir });
  // Warm-up: the first sessions in a fresh browser measure slow (PLATFORM.md).
  for (let i = 0; i < 2; i++) {
    const r = await runSession({});
    if (r.failure) throw r.failure;
  }
});

afterAll(async () => {
  reference?.close();
  await browser?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await target?.close();
});

describe('chat-load on the demo target', () => {
  it('records one sample per core metric and reads injected delays back: API (core and extra pattern), connect, frame round trip, delivery', async () => {
    const profile = withExtraPattern(demoProfile);
    const dose = (ms: number): KnobsPatch => ({ latency: { crmConnect: ms, realtime: ms } });
    const exp = await runExperiment<ChatArm>(
      [
        { name: 'low', run: async () => ({ session: await runSession(dose(LOW_MS), {}, browser, profile) }) },
        { name: 'high', run: async () => ({ session: await runSession(dose(LOW_MS + CONNECT_MS), {}, browser, profile) }) },
        {
          name: 'api',
          run: async () => ({
            session: await runSession({ latency: { init: API_MS, create: API_MS, addMessage: API_MS, login: API_MS } }, {}, browser, profile, ACK_MS),
          }),
        },
        { name: 'reference', run: async () => ({ reference: await referenceRound() }) },
      ],
      { rounds: ROUNDS },
    );
    for (const round of exp.all) {
      for (const arm of ['low', 'high', 'api'] as const) {
        const r = round.results[arm]!.session!;
        console.info(`[figures] round ${round.index + 1} ${show(arm, r)}`);
        expect(r.failure, `${arm} round ${round.index + 1}`).toBeUndefined();
        const core = r.samples.filter((s) => METRICS[s.metric].kind === 'core');
        expect(core.map((s) => s.metric).sort()).toEqual([...coreMetrics('chat-load')].sort());
        expect(r.samples.find((s) => s.metric === 'crm_ws_connect')?.detail).toMatch(/^(polling|websocket)$/);
        expect(r.samples.find((s) => s.metric === 'widget_load')?.detail).toBe('selector');
        for (const s of core) expect(s.value).toBeGreaterThan(0);
        // At least one acked frame per session on the demo (the widget's visitor:join).
        expect(r.samples.filter((s) => s.metric === 'crm_ws_frame_rtt').length).toBeGreaterThanOrEqual(1);
        expect(r.samples.filter((s) => s.metric === 'crm_ws_reconnects').map((s) => s.value)).toEqual([0]);
        expect(r.samples.filter((s) => s.metric === 'crm_ws_closes').map((s) => s.value)).toEqual([0]);
        // The extra pattern (the console's login call, on the agent page) and every server wait.
        expect(r.samples.filter((s) => s.metric === 'api_request').map((s) => s.detail)).toEqual([EXTRA_PATTERN]);
        expect(
          r.samples
            .filter((s) => s.metric === 'api_server_wait')
            .map((s) => s.detail)
            .sort(),
        ).toEqual(['addMessage', 'agentLogin', 'create', 'init']);
        // The demo's widget is usable only after init answered and then the socket connected.
        expect(one(r, 'widget_load')).toBeGreaterThan(one(r, 'api_init') + one(r, 'crm_ws_connect'));
      }
    }
    const arm = (name: string, pick: (r: RunResult) => number): number[] => exp.values(name, (v) => (v.session ? pick(v.session) : undefined));
    const refHttp = exp.values('reference', (v) => v.reference && v.reference.httpMs - API_MS);
    const refAck = exp.values('reference', (v) => v.reference && v.reference.ackMs - ACK_MS);
    const verdicts: Verdict[] = [];
    // Absolute timings: against an independent client timing the same delayed request at the same moment.
    for (const m of ['api_init', 'api_create', 'api_add_message'] as const) {
      verdicts.push(
        judgeDelay({ metric: m, injectedMs: API_MS, measured: arm('api', (r) => one(r, m)), reference: refHttp, referenceIs: HTTP_REF, floorMs: API_MS }),
      );
    }
    verdicts.push(
      judgeDelay({
        metric: `api_request[${EXTRA_PATTERN}]`,
        injectedMs: API_MS,
        measured: arm('api', (r) => detailed(r, 'api_request', EXTRA_PATTERN)),
        reference: refHttp,
        referenceIs: HTTP_REF,
        floorMs: API_MS,
      }),
    );
    for (const pattern of ['init', 'create', 'addMessage', EXTRA_PATTERN]) {
      verdicts.push(
        judgeDelay({
          metric: `api_server_wait[${pattern}]`,
          injectedMs: API_MS,
          measured: arm('api', (r) => detailed(r, 'api_server_wait', pattern)),
          reference: refHttp,
          referenceIs: HTTP_REF,
        }),
      );
    }
    // Frame round trip: the server delays every CRM event before its handler acks; the reference client emits one acked event through the same delay.
    verdicts.push(
      judgeDelay({
        metric: 'crm_ws_frame_rtt',
        injectedMs: ACK_MS,
        measured: arm('api', (r) => detailed(r, 'crm_ws_frame_rtt', 'ack-0')),
        reference: refAck,
        referenceIs: `independent Node socket.io client's acked emit through the same delay (elapsed − ${ACK_MS})`,
        floorMs: ACK_MS,
      }),
    );
    // Connect and delivery: dose response, the same metric at LOW_MS + D against LOW_MS.
    for (const m of ['crm_ws_connect', 'msg_visitor_to_agent', 'msg_agent_to_visitor'] as const) {
      verdicts.push(
        judgeDelay({
          metric: m,
          injectedMs: CONNECT_MS,
          measured: arm('high', (r) => one(r, m)),
          reference: arm('low', (r) => one(r, m)),
          referenceIs: `same metric with ${LOW_MS} ms injected`,
          floorMs: LOW_MS + CONNECT_MS,
        }),
      );
    }
    expectVerdicts('chat-load accuracy at one session (api, frame round trip, connect, delivery)', exp, verdicts);
  }, 240_000);

  it('records the navigation breakdown and web vitals of the visitor page and the agent console', async () => {
    const r = await runSession({ latency: { page: PAGE_MS } });
    console.info(`[figures] ${show(`page=${PAGE_MS}`, r)}`);
    expect(r.failure).toBeUndefined();
    for (const role of ['visitor', 'agent'] as const) {
      const v = (part: string): number => one(r, `nav_${part}_${role}` as MetricName);
      for (const part of ['dns', 'tcp']) expect(v(part), `${part} ${role}`).toBeGreaterThanOrEqual(0);
      expect(
        r.samples.some((s) => s.metric === `nav_tls_${role}`),
        'no TLS over http://',
      ).toBe(false);
      expect(v('ttfb')).toBeGreaterThan(0);
      expect(v('ttfb')).toBeGreaterThanOrEqual(v('dns') + v('tcp'));
      expect(v('dcl')).toBeGreaterThanOrEqual(v('ttfb'));
      expect(v('load')).toBeGreaterThanOrEqual(v('dcl'));
      const fcp = one(r, `web_fcp_${role}` as MetricName);
      expect(fcp).toBeGreaterThan(v('ttfb'));
      expect(one(r, `web_lcp_${role}` as MetricName)).toBeGreaterThanOrEqual(fcp);
      expect(one(r, `web_cls_${role}` as MetricName)).toBeGreaterThanOrEqual(0);
      // Both pages had input: the visitor clicked and typed in the widget frame, the agent in the console.
      expect(one(r, `web_inp_${role}` as MetricName)).toBeGreaterThan(0);
    }
    // The site's page waits PAGE_MS before answering: the visitor's first byte cannot come sooner.
    expect(one(r, 'nav_ttfb_visitor')).toBeGreaterThanOrEqual(PAGE_MS);
    expect(one(r, 'nav_load_visitor')).toBe(one(r, 'page_load'));
  });

  it("widget usable by request: the named pattern finished, against the page's navigation start", async () => {
    const profile: TargetProfile = {
      ...demoProfile,
      visitor: { ...demoProfile.visitor, widget: { ...demoProfile.visitor.widget, usable: { request: 'init' } } },
    };
    const base = await runSession({}, {}, browser, profile);
    const slow = await runSession({ latency: { init: API_MS } }, {}, browser, profile);
    console.info(`[figures] ${show('usable by request, baseline', base)}`);
    console.info(`[figures] ${show(`usable by request, init=${API_MS}`, slow)}`);
    for (const r of [base, slow]) {
      expect(r.failure).toBeUndefined();
      expect(r.samples.find((s) => s.metric === 'widget_load')?.detail).toBe('request');
      // widget_load − api_init = when init was sent, after the page, the loader and the frame loaded.
      expect(one(r, 'widget_load') - one(r, 'api_init')).toBeGreaterThan(0);
      expect(one(r, 'widget_load') - one(r, 'api_init')).toBeLessThan(one(r, 'page_load') + 1_000);
    }
    // The injected init delay is inside widget_load (the clock alignment itself is checked
    // against a page-side mark in collectors.test.ts).
    expect(one(slow, 'api_init')).toBeGreaterThanOrEqual(API_MS);
    expect(one(slow, 'widget_load')).toBeGreaterThan(one(slow, 'api_init'));
  });

  it('sends with a key where the product has no send button (sendKey: NumpadEnter for the visitor, Enter for the agent) and reads the relay delay back', async () => {
    const { sendButton: _v, ...widget } = demoProfile.visitor.widget;
    const { sendButton: _a, ...agentSide } = demoProfile.agent;
    const byEnter: TargetProfile = {
      ...demoProfile,
      visitor: { ...demoProfile.visitor, widget: { ...widget, sendKey: 'NumpadEnter' } },
      agent: { ...agentSide, sendKey: 'Enter' },
    };
    const dose = (ms: number): KnobsPatch => ({ latency: { realtime: ms } });
    const exp = await runExperiment<ChatArm>(
      [
        { name: 'low', run: async () => ({ session: await runSession(dose(LOW_MS), { input: 'insert' }, browser, byEnter) }) },
        { name: 'high', run: async () => ({ session: await runSession(dose(LOW_MS + CONNECT_MS), { input: 'insert' }, browser, byEnter) }) },
      ],
      { rounds: ROUNDS },
    );
    for (const round of exp.all) {
      for (const arm of ['low', 'high'] as const) {
        const r = round.results[arm]!.session!;
        expect(r.failure, `${arm} round ${round.index + 1}`).toBeUndefined();
        for (const m of coreMetrics('chat-load')) one(r, m);
        // Text inserted in one input event; the only key the console's input saw is the Enter that sent the reply.
        expect(r.agentKeydowns).toBe(1);
      }
    }
    const arm = (name: 'low' | 'high', m: MetricName): number[] => exp.values(name, (v) => one(v.session!, m));
    expectVerdicts(
      'chat-load sending by key (sendKey: NumpadEnter / Enter), delivery',
      exp,
      (['msg_visitor_to_agent', 'msg_agent_to_visitor'] as const).map((m) =>
        judgeDelay({
          metric: m,
          injectedMs: CONNECT_MS,
          measured: arm('high', m),
          reference: arm('low', m),
          referenceIs: `same metric with ${LOW_MS} ms injected`,
          floorMs: LOW_MS + CONNECT_MS,
        }),
      ),
    );
  }, 240_000);

  it('records later exchanges with a msg-<n> detail, leaving one core sample each', async () => {
    const r = await runSession({}, { messages: 3 });
    expect(r.failure).toBeUndefined();
    for (const m of ['api_add_message', 'msg_visitor_to_agent', 'msg_agent_to_visitor'] as const) {
      expect(r.samples.filter((s) => s.metric === m).map((s) => s.detail)).toEqual([undefined, 'msg-2', 'msg-3']);
    }
    for (const m of coreMetrics('chat-load')) one(r, m);
  });

  it('inserts message text as one input event and thinks between exchanges, outside every timing', async () => {
    const THINK_MS = 800;
    const REALTIME = 150;
    const r = await runSession({ latency: { realtime: REALTIME } }, { messages: 3, input: 'insert', thinkTime: { minMs: THINK_MS, maxMs: THINK_MS } });
    expect(r.failure).toBeUndefined();
    // The exact texts arrived (each delivery watch waits for its whole text), in the widget frame and in the console.
    const at = (m: MetricName, d: string | undefined): Sample => r.samples.find((x) => x.metric === m && x.detail === d)!;
    for (const [prev, next] of [
      [undefined, 'msg-2'],
      ['msg-2', 'msg-3'],
    ] as const) {
      // reply n delivered → think → message n+1 sent and delivered: at least the think time apart
      const gap = at('msg_visitor_to_agent', next).at - at('msg_agent_to_visitor', prev).at;
      expect(gap).toBeGreaterThanOrEqual(THINK_MS + REALTIME);
      // and no timing carries the pause
      expect(at('msg_visitor_to_agent', next).value).toBeLessThan(REALTIME + 0.5 * THINK_MS);
      expect(at('api_add_message', next).value).toBeLessThan(0.5 * THINK_MS);
    }
    for (const m of coreMetrics('chat-load')) one(r, m);
    // inserted, not typed: no key event reached the console's input, where typing sends one per character
    expect(r.agentKeydowns).toBe(0);
    const typed = await runSession({}, { input: 'type' });
    expect(typed.failure).toBeUndefined();
    expect(typed.agentKeydowns).toBeGreaterThanOrEqual('reply s1 1 0123abcd'.length); // one per character
  });

  it('fails the step, naming the element, when it cannot take focus or does not take inserted text', async () => {
    const p = demoProfile;
    const messageList = p.agent.messageList!; // the demo profile names it (a list: it takes no focus)
    const list = await runSession({}, { input: 'insert' }, browser, { ...p, agent: { ...p.agent, messageInput: messageList } });
    expect(list.failure?.step).toBe('agent_reply');
    expect(list.failure?.message).toContain(`'${messageList}' did not take keyboard focus`);
    // a button takes focus, but no text
    const button = await runSession({}, { input: 'insert' }, browser, { ...p, agent: { ...p.agent, messageInput: p.agent.sendButton! } });
    expect(button.failure?.step).toBe('agent_reply');
    expect(button.failure?.message).toContain(`'${p.agent.sendButton!}' did not take the inserted text`);
    expect(button.failure?.message).toContain('use --input type');
  });

  it('records an unreachable visitor site as page_load TARGET_UNREACHABLE', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r)); // a port nobody listens on
    const profile = { ...demoProfile, visitor: { ...demoProfile.visitor, url: `http://127.0.0.1:${port}/?token=secret` } };
    const r = await runSession({}, {}, browser, profile);
    expect(r.failure?.step).toBe('page_load');
    expect(r.failure?.code).toBe(ERROR_CODES.TARGET_UNREACHABLE);
    expect(r.failure?.message).toContain(`http://127.0.0.1:${port}/: net::ERR_CONNECTION_REFUSED`);
    expect(r.failure?.message).not.toContain('secret');
    expect(r.samples).toEqual([]);
  });

  it('records a failed create as the api_create step with the HTTP status', async () => {
    const r = await runSession({ errors: { create: { status: 503 } } });
    expect(r.failure?.step).toBe('api_create');
    expect(r.failure?.message).toMatch(/'create'.*HTTP 503/);
    expect(r.failure?.detail).toMatchObject({ pattern: 'create', status: 503 });
    expect(r.samples.map((s) => s.metric)).not.toContain('api_create');
  });
});

describe("chat-load with the shell's default flags (widget frame in process)", () => {
  it('records every core metric and reads the create delay back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'userprobe-chat-load-'));
    const shell = await puppeteer.launch({
      executablePath: SHELL,
      headless: 'shell',
      pipe: true,
      args: ARGS.filter((a) => a !== '--site-per-process'),
      userDataDir: dir,
    });
    try {
      await runSession({}, {}, shell); // warm-up
      const exp = await runExperiment<ChatArm>(
        [
          { name: 'session', run: async () => ({ session: await runSession({ latency: { create: API_MS } }, {}, shell) }) },
          { name: 'reference', run: async () => ({ reference: await referenceRound() }) },
        ],
        { rounds: 3 },
      );
      for (const round of exp.all) {
        const r = round.results['session']!.session!;
        console.info(`[figures] ${show(`in-process frame, create=${API_MS}`, r)}`);
        expect(r.failure).toBeUndefined();
        for (const m of coreMetrics('chat-load')) one(r, m);
      }
      expectVerdicts('chat-load, widget frame in process', exp, [
        judgeDelay({
          metric: 'api_create',
          injectedMs: API_MS,
          floorMs: API_MS,
          measured: exp.values('session', (v) => v.session && one(v.session, 'api_create')),
          reference: exp.values('reference', (v) => v.reference && v.reference.httpMs - API_MS),
          referenceIs: HTTP_REF,
        }),
      ]);
    } finally {
      await shell.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('scenario registry', () => {
  it('finds chat-load and refuses unknown names, listing the accepted ones', () => {
    expect(getScenario('chat-load')).toBe(chatLoad);
    expect([...SCENARIO_REGISTRY.keys()]).toContain('chat-load');
    const err = (() => {
      try {
        getScenario('chat-lod');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProbeError);
    expect((err as ProbeError).code).toBe(ERROR_CODES.SCENARIO_UNKNOWN);
    expect((err as ProbeError).message).toMatch(/'chat-lod'.*chat-load/);
  });
});
