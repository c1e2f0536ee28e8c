import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreMetrics, resolveProfile, type AssignmentInput, type RunFinished, type TargetProfile } from '@userprobe/shared';
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import { Agent } from '../src/agent.js';
import { resolveAgentId } from '../src/config/agent-id.js';
import { buildConfig } from '../src/config/config.js';
import { getScenario } from '../src/scenarios/index.js';
import { captureLog } from './log-capture.js';
import { startTestController, type TestController } from './test-controller.js';

/** The whole agent (CLI composition minus argv) running the real chat-load scenario against the demo target. */
describe('agent runs chat-load against the demo target', () => {
  let demo: DemoTarget;
  /** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
  let demoProfile: TargetProfile;
  let ctl: TestController;
  let agent: Agent;
  let spoolRoot: string;
  const CREATE_MS = 300;

  beforeAll(async () => {
    demo = await startDemoTarget({ knobs: { latency: { create: CREATE_MS } } });
    demoProfile = (await resolveProfile('demo', demo.vars)).profile;
    ctl = await startTestController();
    spoolRoot = await mkdtemp(join(tmpdir(), 'up-e2e-'));
    const config = buildConfig(
      {
        controller: ctl.url,
        token: 'test-token',
        id: 'e2e-1',
        spool: spoolRoot,
        capacity: ['2'],
        allowHost: ['127.0.0.1', '127.0.0.2'],
        secretEnv: ['DEMO_AGENT_USER', 'DEMO_AGENT_PASSWORD', 'DEMO_AGENT_SESSION'],
      },
      {},
      { cpus: 2, memMb: 4096, hostname: 'test', platform: 'linux', homeDir: spoolRoot },
    );
    agent = new Agent({
      config: await resolveAgentId(config, 'test'),
      log: captureLog('warn').log,
      env: {},
      scenarios: new Map([['chat-load', getScenario('chat-load')]]),
    });
    const joined = ctl.waitFor('agent');
    await agent.start();
    await joined;
  });
  afterAll(async () => {
    await agent?.stop('test over');
    await ctl?.close();
    await demo?.close();
    if (spoolRoot) await rm(spoolRoot, { recursive: true, force: true });
  });

  /** Assign a chat-load run to the agent and wait for its end and for every batch to be stored. */
  /** The session records the controller stored for a run. */
  const recordsOf = (runId: string) => [...ctl.stored.values()].filter((b) => b.runId === runId).flatMap((b) => b.sessions);

  async function runToEnd(runId: string, profile: TargetProfile, sessions: AssignmentInput['sessions'], stepTimeoutMs: number): Promise<RunFinished> {
    const a: AssignmentInput = {
      runId,
      scenario: 'chat-load',
      browser: 'shell',
      profile,
      sessions,
      startAt: ctl.now() + 500,
      durationMs: null,
      options: { stepTimeoutMs, sessionTimeoutMs: 60_000 },
    };
    const finished = ctl.waitFor<RunFinished>('finished', (f) => f.runId === runId);
    expect(
      await ctl.sockets
        .at(-1)!
        .timeout(10_000)
        .emitWithAck('run:assign', a as never),
    ).toEqual({ accepted: true });
    const f = await finished;
    expect(await agent.sender.drained(10_000)).toBe(true);
    return f;
  }

  it('every core metric once per session, all sessions ok, everything delivered', async () => {
    const runId = 'e2e-run';
    const sessions = ['e1', 'e2', 'e3', 'e4'].map((sessionId, i) => ({ sessionId, startOffsetMs: i * 500 }));
    const f = await runToEnd(runId, demoProfile, sessions, 15_000);
    const batches = [...ctl.stored.values()].filter((b) => b.runId === runId);
    const records = batches.flatMap((b) => b.sessions);
    const failed = records.filter((r) => r.status !== 'ok').map((r) => `${r.sessionId}: ${r.failedStep} ${r.error?.message}`);
    expect(failed).toEqual([]);
    expect(f).toMatchObject({ runId, lastSeq: batches.length, ok: 4, failed: 0 }); // plus rampMs, peakConcurrent
    const samples = batches.flatMap((b) => b.samples).filter((s) => s.detail === undefined || !s.detail.startsWith('msg-'));
    for (const { sessionId } of sessions) {
      const core = samples
        .filter((s) => s.sessionId === sessionId && (coreMetrics('chat-load') as string[]).includes(s.metric))
        .map((s) => s.metric)
        .sort();
      expect(core).toEqual([...coreMetrics('chat-load')].sort());
    }
    const creates = samples.filter((s) => s.metric === 'api_create').map((s) => s.value);
    process.stdout.write(`api_create with ${CREATE_MS} ms injected: ${creates.map((v) => v.toFixed(1)).join(', ')} ms\n`);
    // Accuracy is the scenario's own experiment (chat-load.test.ts); here only the composition is
    // checked: the injected delay reached every session's sample, which contains all of it.
    for (const v of creates) expect(v).toBeGreaterThanOrEqual(CREATE_MS);
  });

  it('a step that waits for a selector the page never shows fails naming the step, the profile field and the selector', async () => {
    const runId = 'e2e-bad-selector';
    const profile: TargetProfile = { ...demoProfile, agent: { ...demoProfile.agent, ready: '#no-such-ready' } };
    await runToEnd(runId, profile, [{ sessionId: 'b1', startOffsetMs: 0 }], 2_000);
    const [record] = recordsOf(runId);
    expect(record).toMatchObject({ status: 'failed', failedStep: 'agent_console' });
    // Whichever gives up first (the step's timer or Puppeteer's wait), the message says what the step was at.
    expect(record!.error!.message).toContain("agent.ready '#no-such-ready'");
    expect(record!.error!.message).toMatch(/^step "agent_console" (did not finish within 2000 ms while it was at|failed: .*\(at): wait for agent\.ready/);
  });

  it("a console that keeps its session in localStorage: agent.login.storage sets it on the console's origin before the first load, and the session passes", async () => {
    const runId = 'e2e-storage-login';
    const url = demoProfile.agent.url.replace(/\/console\/.*$/, '/console/?login=storage');
    const stored: TargetProfile = {
      ...demoProfile,
      agent: {
        ...demoProfile.agent,
        url,
        login: { storage: [{ key: 'up_agent_session', value: { env: 'DEMO_AGENT_SESSION', default: 'demo-sso-session' } }] },
      },
    };
    await runToEnd(runId, stored, [{ sessionId: 'k1', startOffsetMs: 0 }], 20_000);
    const [ok] = recordsOf(runId);
    expect(ok, JSON.stringify(ok?.error)).toMatchObject({ status: 'ok' });
    // Without it the same console stays logged out: the entry is what logged it in.
    const bare: TargetProfile = { ...stored, agent: { ...stored.agent, login: undefined } };
    await runToEnd(`${runId}-none`, bare, [{ sessionId: 'k2', startOffsetMs: 0 }], 3_000);
    const [failed] = recordsOf(`${runId}-none`);
    expect(failed).toMatchObject({ status: 'failed', failedStep: 'agent_console' });
    // It got as far as the console's page: what never came is the logged-in console (the demo answered 401 to no session).
    expect(failed!.error!.message).toMatch(/agent\.ready '#console-ready'/);
  });

  it('a chat URL the console never routes to fails agent_open_chat naming agent.chatUrl and the URL it is at; one it routes to passes', async () => {
    const runId = 'e2e-chat-url';
    const never: TargetProfile = { ...demoProfile, agent: { ...demoProfile.agent, chatUrl: '#inbox/never$' } };
    await runToEnd(runId, never, [{ sessionId: 'u1', startOffsetMs: 0 }], 4_000);
    const [record] = recordsOf(runId);
    expect(record).toMatchObject({ status: 'failed', failedStep: 'agent_open_chat' });
    expect(record!.error!.message).toMatch(/agent\.chatUrl \/#inbox\/never\$\//);
    // Whichever gives up first (the step's timer or the URL wait, which also says where the console is), the pattern is named.
    expect(record!.error!.message).toMatch(
      /^step "agent_open_chat" (did not finish within 4000 ms while it was at: wait for|failed: the console's URL did not match)/,
    );

    const runs = 'e2e-chat-url-ok';
    const routed: TargetProfile = { ...demoProfile, agent: { ...demoProfile.agent, chatUrl: '#chat/[^/]+$' } };
    await runToEnd(runs, routed, [{ sessionId: 'u2', startOffsetMs: 0 }], 20_000);
    const [ok] = recordsOf(runs);
    expect(ok).toMatchObject({ status: 'ok' });
  });
});
