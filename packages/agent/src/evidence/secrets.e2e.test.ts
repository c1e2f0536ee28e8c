import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssignmentSchema, resolveProfile, type AssignmentInput, type RunFinished, type TargetProfile } from '@userprobe/shared';
// The demo target and the controller are dev dependencies of the agent package (the test runs against both).
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import { EvidenceStore, Ingest, ResultsSink, deriveAgentToken, listenHub, readRunResults, type ListeningHub } from '@userprobe/controller';
import { Agent } from '../agent.js';
import { resolveAgentId } from '../config/agent-id.js';
import { buildConfig } from '../config/config.js';
import type { Scenario } from '../runner/scenario-api.js';
import { chatLoad } from '../scenarios/chat-load.js';
import { captureLog } from '../../test/log-capture.js';
import type { Har, HarEntry, WebSocketMessage } from './har-build.js';

/*
 * Secrets never written, end to end on real parts over loopback: the demo
 * target's agent console takes a password that is not the default, given to
 * the agent only through the credential variable the demo profile names
 * (DEMO_AGENT_PASSWORD). The session logs in, chats, then leaks what a real
 * page might: the password in a console error, a URL query and websocket
 * frames; the console's log-in token in a console error and a query; the
 * agent's own controller token in a console error. It then fails, so the
 * agent captures evidence (screenshots, HAR, console log) and sends it to the
 * controller.
 *
 * Every file written — the agent's evidence spool (looked at when it is
 * written, before the controller acknowledges it), the agent's spool, the
 * controller's results folder — is searched for the password, the log-in
 * token and the controller token: none is found. Every file is 0600 and every
 * folder 0700.
 */

const HEX = randomBytes(8).toString('hex');
/** Quotes, a backslash, a non-ASCII letter and URL delimiters: every encoding of it differs from the raw value. */
const PASSWORD = `pw "q" \\ ü+&=${HEX}`;
const CONTROLLER_TOKEN = `ctl-${randomBytes(8).toString('hex')}`;
/** The agent's own token: derived from the controller's master for its id (what it holds and must never leak). */
const AGENT_TOKEN = deriveAgentToken(CONTROLLER_TOKEN, 'sec-1');

/** Every form a secret may take in a file: raw, URL-, form- and JSON-encoded (the random part is in each). */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), new URLSearchParams({ v: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)];
}

interface Written {
  path: string;
  mode: number;
  isDir: boolean;
  data: Buffer | null;
}

async function walk(dir: string): Promise<Written[]> {
  const out: Written[] = [];
  const here = await stat(dir);
  out.push({ path: dir, mode: here.mode & 0o777, isDir: true, data: null });
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push({ path: p, mode: (await stat(p)).mode & 0o777, isDir: false, data: await readFile(p) });
  }
  return out;
}

describe("secrets never written: a failed session's evidence, results and spools", () => {
  let demo: DemoTarget;
  /** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
  let demoProfile: TargetProfile;
  let hub: ListeningHub;
  let sink: ResultsSink;
  let store: EvidenceStore;
  let agent: Agent;
  let outDir: string;
  let spoolRoot: string;
  const logs = captureLog('info');
  /** The agent's evidence spool as written, before the controller's ack removes it. */
  const spooled: Written[] = [];
  const seen: { loginToken: string | null } = { loginToken: null };

  const leaky: Scenario = {
    name: 'chat-load',
    async run(ctx) {
      const agentPage = ctx.pages.agent;
      await agentPage.evaluateOnNewDocument(() => {
        window.addEventListener('up:login', (e) => {
          (window as unknown as { upToken: string }).upToken = (e as CustomEvent<{ token: string }>).detail.token;
        });
      });
      await chatLoad.run(ctx);
      const password = ctx.credential(ctx.profile.agent.login!.password!);
      seen.loginToken = await agentPage.evaluate(() => (window as unknown as { upToken: string }).upToken);
      await agentPage.evaluate(
        async (pw, ctl, appUrl) => {
          const token = (window as unknown as { upToken: string }).upToken;
          console.error(`log-in failed with password ${pw}`);
          console.error(JSON.stringify({ token }));
          console.error(`controller token ${ctl}`);
          void fetch(`/no-such-page?note=${encodeURIComponent(pw)}&access_token=${token}`);
          const ws = new WebSocket(`${appUrl.replace(/^http/, 'ws')}/crm/socket.io/?EIO=4&transport=websocket`);
          await new Promise<void>((resolve) => {
            ws.onopen = () => {
              ws.send(`note ${pw}`);
              ws.send(JSON.stringify({ note: pw, password: pw }));
              resolve();
            };
            ws.onerror = () => resolve();
          });
        },
        password,
        AGENT_TOKEN,
        demo.appUrl,
      );
      // A step that quotes what the page said in its error: the session record (results) must not carry the secret either.
      await ctx.recorder.measure('after_chat_check', () =>
        ctx.pages.visitor.waitForSelector('#never-appears', { timeout: 800 }).catch((e: unknown) => {
          throw new Error(`${(e as Error).message}; the console said: log-in failed with password ${password}`);
        }),
      );
    },
  };

  beforeAll(async () => {
    demo = await startDemoTarget({ credentials: { username: 'agent', password: PASSWORD } });
    demoProfile = (await resolveProfile('demo', demo.vars)).profile;
    outDir = await mkdtemp(join(tmpdir(), 'up-secrets-out-'));
    spoolRoot = await mkdtemp(join(tmpdir(), 'up-secrets-spool-'));
    sink = new ResultsSink({ outDir, log: logs.log });
    await sink.open();
    store = new EvidenceStore({ outDir, log: logs.log, secrets: [CONTROLLER_TOKEN], agentSecrets: (id) => [deriveAgentToken(CONTROLLER_TOKEN, id)] });
    hub = await listenHub('127.0.0.1', 0, { token: CONTROLLER_TOKEN, ingest: new Ingest([sink], logs.log), log: logs.log, evidence: store });
    const config = buildConfig(
      {
        controller: hub.url,
        token: AGENT_TOKEN,
        id: 'sec-1',
        spool: spoolRoot,
        capacity: ['1'],
        allowHost: ['127.0.0.1', '127.0.0.2'],
        secretEnv: ['DEMO_AGENT_USER', 'DEMO_AGENT_PASSWORD'],
      },
      {},
      { cpus: 2, memMb: 4096, hostname: 'test', platform: 'linux', homeDir: spoolRoot },
    );
    agent = new Agent({
      config: await resolveAgentId(config, 'test'),
      log: logs.log,
      env: { DEMO_AGENT_PASSWORD: PASSWORD },
      scenarios: new Map([['chat-load', leaky]]),
    });
    const write = agent.evidenceSpool.write.bind(agent.evidenceSpool);
    agent.evidenceSpool.write = async (item) => {
      const key = await write(item);
      spooled.push(...(await walk(agent.evidenceSpool.dir)));
      return key;
    };
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

  it('neither the console password nor the log-in token nor the controller token is in any file; files 0600, folders 0700', async () => {
    const runId = 'sec-run';
    store.setBudget(runId, { maxSessions: 5, maxBytes: 100 * 1024 * 1024 });
    const a: AssignmentInput = {
      runId,
      scenario: 'chat-load',
      browser: 'shell',
      profile: demoProfile,
      durationMs: null,
      sessions: [{ sessionId: 'sec-a', startOffsetMs: 0 }],
      startAt: Date.now() + 300,
      options: { stepTimeoutMs: 10_000, sessionTimeoutMs: 60_000, adaptiveStart: false, har: 'failures' },
    };
    const finished = new Promise<RunFinished>((resolve) => hub.hub.once('finished', (_id, f) => resolve(f)));
    expect(await hub.hub.agents()[0]!.assign(AssignmentSchema.parse(a), 10_000)).toEqual({ accepted: true });
    await finished;
    expect(await agent.sender.drained(10_000)).toBe(true);

    // The session logged in with the password from the variable and chatted, then failed where the test made it fail.
    const { sessions } = await readRunResults(outDir, runId);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      status: 'failed',
      failedStep: 'after_chat_check',
      error: { message: expect.stringContaining('log-in failed with password [redacted]') },
    });
    expect(seen.loginToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const files = ['agent.png', 'console.json', 'session.har', 'visitor.png'];
    expect([...sessions[0]!.artifacts].sort()).toEqual(files.map((f) => `evidence/sec-a/${f}`));

    expect(
      spooled
        .filter((w) => !w.isDir)
        .map((w) => w.path.split('/').pop())
        .sort(),
    ).toEqual([...files, 'manifest.json'].sort());
    const written = [...spooled, ...(await walk(outDir)), ...(await walk(spoolRoot))];
    const needles = [...forms(PASSWORD), HEX, seen.loginToken!, CONTROLLER_TOKEN, AGENT_TOKEN];
    const leaks = written.flatMap((w) =>
      w.data === null ? [] : needles.filter((n) => w.data!.includes(n)).map((n) => `${w.path} holds ${JSON.stringify(n)}`),
    );
    expect(leaks).toEqual([]);
    const open = written.filter((w) => (w.mode & 0o077) !== 0).map((w) => `${w.path} ${w.mode.toString(8)}`);
    expect(open).toEqual([]);
    expect(written.filter((w) => !w.isDir).length).toBeGreaterThan(10);

    // The evidence is still useful: the log-in request is there with its password field redacted; the frames are there.
    const dir = join(outDir, runId, 'evidence', 'sec-a');
    const har = JSON.parse(await readFile(join(dir, 'session.har'), 'utf8')) as Har;
    const url = (e: HarEntry): string => (e['request'] as { url: string }).url;
    const login = har.log.entries.find((e) => /\/api\/agent\/login$/.test(url(e)));
    // chrome-har lists a JSON body's fields as params.
    const post = (login?.['request'] as { postData?: { params?: Array<{ name: string; value: string }> } } | undefined)?.postData;
    expect(post?.params).toEqual([
      { name: 'username', value: 'agent' },
      { name: 'password', value: '[redacted]' },
    ]);
    expect(har.log.entries.some((e) => /no-such-page\?note=\[redacted\]&access_token=\[redacted\]/.test(url(e)))).toBe(true);
    const frames = har.log.entries.filter((e) => e['_resourceType'] === 'websocket').flatMap((e) => e['_webSocketMessages'] as WebSocketMessage[]);
    expect(frames.map((m) => m.data)).toEqual(expect.arrayContaining(['note [redacted]', '{"note":"[redacted]","password":"[redacted]"}']));
    const consoleText = await readFile(join(dir, 'console.json'), 'utf8');
    expect(consoleText).toContain('log-in failed with password [redacted]');
    expect(consoleText).toContain('controller token [redacted]');

    // Nor in the logs of the agent and the controller.
    const logText = JSON.stringify(logs.lines);
    expect(needles.filter((n) => logText.includes(n))).toEqual([]);
  }, 120_000);
});
