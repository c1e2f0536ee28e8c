import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssignmentSchema, resolveProfile, type AssignmentInput, type RunFinished, type TargetProfile } from '@userprobe/shared';
// The demo target and the controller are dev dependencies of the agent package (the test runs against both).
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import { EvidenceStore, Ingest, ResultsSink, deriveAgentToken, listenHub, readRunResults, summarizeRun, type ListeningHub } from '@userprobe/controller';
import { Agent } from '../agent.js';
import { resolveAgentId } from '../config/agent-id.js';
import { buildConfig } from '../config/config.js';
import type { Scenario } from '../runner/scenario-api.js';
import { chatLoad } from '../scenarios/chat-load.js';
import { captureLog } from '../../test/log-capture.js';
import type { Har, HarEntry, WebSocketMessage } from './har-build.js';

/*
 * Evidence end to end, on real parts over loopback: the demo target, a real
 * agent (Chromium headless shell), the controller's hub + ingest + results
 * sink + evidence store. A failing step must leave, under
 * results/<run>/evidence/<session>/ on the controller: screenshots of both
 * pages, a HAR whose websocket entries hold the CRM frames (checked by their
 * text), and the console errors — referenced from the session record.
 */

/** chat-load in full, then a real 404 and an uncaught page error, then a selector that never appears. */
const failsAfterChat: Scenario = {
  name: 'chat-load',
  async run(ctx) {
    await chatLoad.run(ctx);
    await ctx.pages.visitor.evaluate(() => {
      void fetch('/no-such-page-for-evidence');
      setTimeout(() => {
        throw new Error('page error for evidence');
      }, 0);
    });
    await ctx.recorder.measure('after_chat_check', () => ctx.pages.visitor.waitForSelector('#never-appears', { timeout: 800 }));
  },
};

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('evidence of failed sessions reaches the controller', () => {
  let demo: DemoTarget;
  /** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
  let demoProfile: TargetProfile;
  let hub: ListeningHub;
  let sink: ResultsSink;
  let store: EvidenceStore;
  let agent: Agent;
  let outDir: string;
  let spoolRoot: string;
  const log = captureLog('warn').log;

  beforeAll(async () => {
    demo = await startDemoTarget({});
    demoProfile = (await resolveProfile('demo', demo.vars)).profile;
    outDir = await mkdtemp(join(tmpdir(), 'up-evidence-out-'));
    spoolRoot = await mkdtemp(join(tmpdir(), 'up-evidence-spool-'));
    sink = new ResultsSink({ outDir, log });
    await sink.open();
    store = new EvidenceStore({ outDir, log });
    hub = await listenHub('127.0.0.1', 0, { token: 'test-token', ingest: new Ingest([sink], log), log, evidence: store });
    const config = buildConfig(
      {
        controller: hub.url,
        token: deriveAgentToken('test-token', 'ev-1'),
        id: 'ev-1',
        spool: spoolRoot,
        capacity: ['1'],
        allowHost: ['127.0.0.1', '127.0.0.2'],
        secretEnv: ['DEMO_AGENT_USER', 'DEMO_AGENT_PASSWORD'],
      },
      {},
      { cpus: 2, memMb: 4096, hostname: 'test', platform: 'linux', homeDir: spoolRoot },
    );
    agent = new Agent({ config: await resolveAgentId(config, 'test'), log, env: {}, scenarios: new Map([['chat-load', failsAfterChat]]) });
    const joined = new Promise<void>((resolve) => hub.hub.once('agent:connected', () => resolve()));
    await agent.start();
    await joined;
  }, 60_000);

  afterAll(async () => {
    await agent?.stop('test over');
    await hub?.close();
    await sink?.close();
    await demo?.close();
    for (const d of [outDir, spoolRoot]) if (d) await rm(d, { recursive: true, force: true });
  });

  async function run(runId: string, sessionIds: string[], profile: TargetProfile = demoProfile): Promise<void> {
    const a: AssignmentInput = {
      runId,
      scenario: 'chat-load',
      browser: 'shell',
      profile,
      durationMs: null,
      sessions: sessionIds.map((sessionId, i) => ({ sessionId, startOffsetMs: i * 100 })),
      startAt: Date.now() + 300,
      options: { stepTimeoutMs: 10_000, sessionTimeoutMs: 60_000, adaptiveStart: false },
    };
    const finished = new Promise<RunFinished>((resolve) => {
      const on = (_id: string, f: RunFinished): void => {
        if (f.runId !== runId) return;
        hub.hub.off('finished', on);
        resolve(f);
      };
      hub.hub.on('finished', on);
    });
    expect(await hub.hub.agents()[0]!.assign(AssignmentSchema.parse(a), 10_000)).toEqual({ accepted: true });
    await finished;
    expect(await agent.sender.drained(10_000)).toBe(true);
  }

  it('screenshots, a HAR with the CRM websocket frames, console errors; the budget skips and counts the rest', async () => {
    const runId = 'ev-run';
    store.setBudget(runId, { maxSessions: 2, maxBytes: 200 * 1024 * 1024 });
    const ids = ['ev-a', 'ev-b', 'ev-c'];
    await run(runId, ids);

    const { sessions } = await readRunResults(outDir, runId);
    const records = new Map(sessions.map((s) => [s.sessionId, s]));
    for (const id of ids) expect(records.get(id)).toMatchObject({ status: 'failed', failedStep: 'after_chat_check' });
    // Capacity 1: sessions run one after another, so the first two fill the budget of 2 and the third captures nothing.
    const files = ['visitor.png', 'agent.png', 'session.har', 'console.json'].sort();
    for (const id of ['ev-a', 'ev-b']) {
      expect([...records.get(id)!.artifacts].sort()).toEqual(files.map((f) => `evidence/${id}/${f}`));
      expect((await readdir(join(outDir, runId, 'evidence', id))).sort()).toEqual(files);
    }
    expect(records.get('ev-c')!.artifacts).toEqual([]);
    expect((await readdir(join(outDir, runId, 'evidence'))).sort()).toEqual(['ev-a', 'ev-b']);

    const dir = join(outDir, runId, 'evidence', 'ev-a');
    for (const shot of ['visitor.png', 'agent.png']) {
      const png = await readFile(join(dir, shot));
      expect(png.subarray(0, 4).equals(PNG_MAGIC)).toBe(true);
      expect(png.byteLength).toBeGreaterThan(1_000);
    }

    const har = JSON.parse(await readFile(join(dir, 'session.har'), 'utf8')) as Har;
    expect(har.log.version).toBe('1.2');
    const roles = new Set(har.log.pages.map((p) => p['_role']));
    expect(roles).toEqual(new Set(['visitor', 'agent']));
    for (const p of har.log.pages) expect(p.pageTimings.onContentLoad).toEqual(expect.any(Number));
    const visitorPage = har.log.pages.find((p) => p['_role'] === 'visitor')!;
    expect(visitorPage.pageTimings.onLoad).toBeGreaterThan(0);
    const url = (e: HarEntry): string => (e['request'] as { url: string }).url;
    const status = (e: HarEntry): number => (e['response'] as { status: number }).status;
    // The create request comes from the cross-origin widget frame: captured through the auto-attached child target.
    const create = har.log.entries.find((e) => e['_role'] === 'visitor' && /\/api\/chats(\?|$)/.test(url(e)));
    expect(create && status(create)).toBeGreaterThanOrEqual(200);
    expect(har.log.entries.some((e) => /no-such-page-for-evidence/.test(url(e)) && status(e) === 404)).toBe(true);
    const sockets = har.log.entries.filter((e) => e['_resourceType'] === 'websocket');
    const frames = (role: string): WebSocketMessage[] =>
      sockets.filter((e) => e['_role'] === role).flatMap((e) => e['_webSocketMessages'] as WebSocketMessage[]);
    // The visitor's message reaches the agent console over its CRM socket; the agent's reply reaches the widget over the widget's.
    const probe = frames('agent').find((m) => m.type === 'receive' && m.data.includes('probe ev-a 1 '));
    const reply = frames('visitor').find((m) => m.type === 'receive' && m.data.includes('reply ev-a 1 '));
    expect(probe).toMatchObject({ opcode: 1, time: expect.any(Number) });
    expect(reply).toMatchObject({ opcode: 1 });
    expect(Math.abs(probe!.time * 1000 - Date.now())).toBeLessThan(120_000); // epoch seconds, as DevTools writes them
    expect(sockets.every((e) => status(e) === 101)).toBe(true);

    const consoleDoc = JSON.parse(await readFile(join(dir, 'console.json'), 'utf8')) as { entries: Array<{ page: string; kind: string; text: string }> };
    expect(consoleDoc.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ page: 'visitor', kind: 'console', text: expect.stringContaining('404') }),
        expect.objectContaining({ page: 'visitor', kind: 'pageerror', text: expect.stringContaining('page error for evidence') }),
      ]),
    );

    const usage = await store.usage(runId);
    expect(usage).toMatchObject({ sessions: 2, budget: { maxSessions: 2 } });
    const summary = summarizeRun({
      runId,
      scenario: 'chat-load',
      browser: 'shell',
      expectedSessions: 3,
      agents: [],
      samples: [],
      sessions: sessions.map((s) => ({ agentId: s.agentId, sessionId: s.sessionId, status: s.status, failedStep: s.failedStep })),
      evidence: {
        har: 'failures',
        budget: usage.budget,
        sessions: usage.sessions,
        bytes: usage.bytes,
        skippedFiles: usage.skippedFiles,
        skippedBytes: usage.skippedBytes,
      },
    });
    expect(summary.evidence).toMatchObject({ sessions: 2, skippedSessions: 1 });
    expect(agent.evidence.pending).toBe(0); // nothing left in the agent's evidence spool
  }, 120_000);

  it('an injected HTTP 500 on create: screenshots of both pages and the console error naming the 500', async () => {
    const runId = 'ev-500';
    store.setBudget(runId, { maxSessions: 5, maxBytes: 200 * 1024 * 1024 }); // a run of this controller: it keeps evidence only for those
    demo.knobs.set({ errors: { create: { status: 500, rate: 1 } } });
    try {
      await run(runId, ['ev-500-a']);
    } finally {
      demo.knobs.reset();
    }
    const { sessions } = await readRunResults(outDir, runId);
    expect(sessions).toHaveLength(1);
    const rec = sessions[0]!;
    expect(rec.status).toBe('failed');
    expect(rec.artifacts).toEqual(
      expect.arrayContaining([
        'evidence/ev-500-a/visitor.png',
        'evidence/ev-500-a/agent.png',
        'evidence/ev-500-a/session.har',
        'evidence/ev-500-a/console.json',
      ]),
    );
    const dir = join(outDir, runId, 'evidence', 'ev-500-a');
    const har = JSON.parse(await readFile(join(dir, 'session.har'), 'utf8')) as Har;
    expect(
      har.log.entries.some((e) => /\/api\/chats(\?|$)/.test((e['request'] as { url: string }).url) && (e['response'] as { status: number }).status === 500),
    ).toBe(true);
    const consoleDoc = JSON.parse(await readFile(join(dir, 'console.json'), 'utf8')) as { entries: Array<{ page: string; text: string }> };
    process.stdout.write(
      `failed step ${rec.failedStep}: ${rec.error?.message}\nconsole: ${JSON.stringify(consoleDoc.entries.map((e) => e.text.slice(0, 120)))}\n`,
    );
    expect(consoleDoc.entries.some((e) => e.page === 'visitor' && e.text.includes('500'))).toBe(true);
  }, 120_000);

  it('a visitor page that never loads: its screenshot is a card saying what failed, and the HAR holds the failed request', async () => {
    const runId = 'ev-unreachable';
    store.setBudget(runId, { maxSessions: 5, maxBytes: 200 * 1024 * 1024 });
    // A port nothing listens on (taken, then freed): the connection is refused.
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const profile: TargetProfile = { ...demoProfile, visitor: { ...demoProfile.visitor, url: `http://127.0.0.1:${closed}/shop?apiKey=s3cret` } };
    await run(runId, ['ev-unreachable-a'], profile);
    const { sessions } = await readRunResults(outDir, runId);
    const rec = sessions[0]!;
    expect([rec.status, rec.failedStep]).toEqual(['failed', 'page_load']);
    expect(rec.artifacts).toEqual(expect.arrayContaining(['evidence/ev-unreachable-a/visitor.png', 'evidence/ev-unreachable-a/console.json']));
    const dir = join(outDir, runId, 'evidence', 'ev-unreachable-a');
    const png = await readFile(join(dir, 'visitor.png'));
    expect(png.subarray(0, 4).equals(PNG_MAGIC)).toBe(true);
    const consoleDoc = JSON.parse(await readFile(join(dir, 'console.json'), 'utf8')) as { notes: string[] };
    process.stdout.write(`[figures] unreachable visitor page: ${rec.error?.message}\nnotes: ${JSON.stringify(consoleDoc.notes)}\n`);
    expect(
      consoleDoc.notes.some((n) => /^the visitor page showed (a blank page|the browser's error page): its screenshot is a card saying what failed$/.test(n)),
    ).toBe(true);
    const har = JSON.parse(await readFile(join(dir, 'session.har'), 'utf8')) as Har;
    const urls = har.log.entries.map((e) => (e['request'] as { url: string }).url);
    expect(
      urls.some((u) => u.startsWith(`http://127.0.0.1:${closed}/shop`)),
      JSON.stringify(urls),
    ).toBe(true);
    expect(JSON.stringify(har)).not.toContain('s3cret');
    expect(await readFile(join(dir, 'console.json'), 'utf8')).not.toContain('s3cret');
  }, 120_000);
});
