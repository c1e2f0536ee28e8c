import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  resolveProfile,
  type AssignReply,
  type AssignmentInput,
  type MetricBatch,
  type SessionRecord,
  type TargetProfile,
} from '@userprobe/shared';
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import { Agent } from '../src/agent.js';
import { resolveAgentId } from '../src/config/agent-id.js';
import { buildConfig, type AgentFlags } from '../src/config/config.js';
import { getScenario } from '../src/scenarios/index.js';
import { NAVIGATION_STEP } from '../src/trust/navigation-guard.js';
import { captureLog } from './log-capture.js';
import { startTestController, type TestController } from './test-controller.js';

/*
 * Issue 11, finding 2: an agent that trusts no one, against a hostile
 * controller (the test controller sends whatever the test says). It refuses a
 * scenario module outside --scenario-dir, a file: URL, a host not allowed, a
 * metadata address; a profile reading a variable not listed with --secret-env
 * fails its session at the login step; a page that sends the browser to
 * file: / a metadata address ends its session with no evidence of it; and a
 * controller whose certificate does not verify is not joined at all.
 */

const MAKE_CA = fileURLToPath(new URL('../../../deploy/tls/make-ca.sh', import.meta.url));
const MACHINE = { cpus: 2, memMb: 4096, hostname: 'test', platform: 'linux', homeDir: tmpdir() };
const SECRET = 'hunter2-not-for-controllers';

function makeCa(dir: string): void {
  const r = spawnSync('bash', [MAKE_CA, '-o', dir, 'localhost'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-ca.sh failed: ${r.stderr}`);
}

async function startAgent(ctl: TestController, spoolRoot: string, flags: AgentFlags, id: string, launchBrowserAtStart = true): Promise<Agent> {
  const config = buildConfig(
    { controller: ctl.url, token: 'test-token', id, spool: spoolRoot, capacity: ['2'], ...flags },
    {},
    { ...MACHINE, homeDir: spoolRoot },
  );
  const agent = new Agent({
    config: await resolveAgentId(config, 'test'),
    log: captureLog('warn').log,
    env: { UNLISTED_SECRET: SECRET },
    scenarios: new Map([['chat-load', getScenario('chat-load')]]),
    runner: { evidenceWaitMs: 2_000 },
    launchBrowserAtStart,
  });
  await agent.start();
  return agent;
}

describe('a locked-down agent against a hostile controller', () => {
  let dir: string;
  let demo: DemoTarget;
  /** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
  let demoProfile: TargetProfile;
  let ctl: TestController;
  let agent: Agent;
  let hostile: Server;
  let hostileUrl: string;
  let run = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'up-trust-'));
    makeCa(join(dir, 'tls'));
    makeCa(join(dir, 'tls-other'));
    await mkdir(join(dir, 'scenarios'));
    await mkdir(join(dir, 'elsewhere'));
    demo = await startDemoTarget();
    demoProfile = (await resolveProfile('demo', demo.vars)).profile;
    // Pages that send the browser where the agent does not go.
    hostile = createServer((req, res) => {
      if (req.url === '/to-metadata') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        return;
      }
      if (req.url === '/302-file') {
        res.writeHead(302, { location: 'file:///etc/hostname' }).end();
        return;
      }
      const target = req.url === '/to-file' ? 'file:///etc/hostname' : req.url === '/to-chrome' ? 'chrome://version' : null;
      if (target === null) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>x</title><script>location.href = ${JSON.stringify(target)};</script>`);
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    const tls = { cert: await readFile(join(dir, 'tls', 'server.crt')), key: await readFile(join(dir, 'tls', 'server.key')) };
    ctl = await startTestController({ tls });
    const joined = ctl.waitFor('agent');
    agent = await startAgent(
      ctl,
      join(dir, 'spool'),
      {
        ca: join(dir, 'tls', 'ca.crt'),
        allowHost: ['127.0.0.1', '127.0.0.2'],
        scenarioDir: [join(dir, 'scenarios')],
        secretEnv: ['DEMO_AGENT_USER', 'DEMO_AGENT_PASSWORD'],
      },
      'locked-1',
    );
    await joined;
  });
  afterAll(async () => {
    await agent?.stop('test over');
    await ctl?.close();
    await demo?.close();
    await new Promise((r) => hostile?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const assignment = (profile: TargetProfile, over: Partial<AssignmentInput> = {}): AssignmentInput => ({
    runId: `trust-${++run}`,
    scenario: 'chat-load',
    browser: 'shell',
    profile,
    sessions: [{ sessionId: 's1', startOffsetMs: 0 }],
    startAt: ctl.now() + 300,
    durationMs: null,
    options: { stepTimeoutMs: 10_000, sessionTimeoutMs: 30_000 },
    ...over,
  });
  const assign = async (a: AssignmentInput): Promise<AssignReply> =>
    await ctl.sockets
      .at(-1)!
      .timeout(15_000)
      .emitWithAck('run:assign', a as never);
  const withUrls = (visitor: string, agentUrl = demoProfile.agent.url): TargetProfile => ({
    ...demoProfile,
    visitor: { ...demoProfile.visitor, url: visitor },
    agent: { ...demoProfile.agent, url: agentUrl },
  });
  /** The session record of a run, once its agent finished it. */
  const recordOf = async (runId: string): Promise<SessionRecord> => {
    await ctl.waitFor('finished', (f: { runId: string }) => f.runId === runId);
    await agent.sender.drained(10_000);
    const r = [...ctl.stored.values()].filter((b: MetricBatch) => b.runId === runId).flatMap((b) => b.sessions)[0];
    expect(r).toBeDefined();
    return r!;
  };

  it('joins a controller over HTTPS whose certificate verifies against the pinned CA', async () => {
    expect(ctl.url).toMatch(/^https:/);
    const socket = agent.connection.socket;
    if (!socket.connected) await new Promise((r) => socket.once('connect', () => r(undefined)));
    expect(socket.connected).toBe(true);
    expect(ctl.sockets).toHaveLength(1);
  });

  it('refuses a scenario module outside --scenario-dir (also through a symbolic link), without importing it', async () => {
    const marker = join(dir, 'imported');
    const evil = join(dir, 'elsewhere', 'evil.mjs');
    await writeFile(
      evil,
      `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); export default { name: 'evil', run: async () => {} };`,
    );
    await symlink(evil, join(dir, 'scenarios', 'link.mjs'));
    const outside = await assign(assignment(demoProfile, { scenarioModule: evil }));
    expect(outside).toEqual({
      accepted: false,
      code: ERROR_CODES.NOT_ALLOWED,
      reason: expect.stringMatching(/is outside the folders this agent loads scenario modules from \(.*scenarios; --scenario-dir\)/),
    });
    const linked = await assign(assignment(demoProfile, { scenarioModule: join(dir, 'scenarios', 'link.mjs') }));
    expect(linked).toMatchObject({
      accepted: false,
      code: ERROR_CODES.NOT_ALLOWED,
      reason: expect.stringMatching(/\(really .*elsewhere\/evil\.mjs\) is outside/),
    });
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a file: URL, a host not allowed and a metadata address in the profile, naming the flag', async () => {
    expect(await assign(assignment(withUrls('file:///etc/hostname')))).toEqual({
      accepted: false,
      code: ERROR_CODES.NOT_ALLOWED,
      reason: "the target profile's visitor.url: file: URLs are never opened (file:///etc/hostname); this agent opens http: and https: only",
    });
    expect(await assign(assignment(withUrls(demoProfile.visitor.url, 'https://attacker.example/console')))).toEqual({
      accepted: false,
      code: ERROR_CODES.NOT_ALLOWED,
      reason:
        "the target profile's agent.url: host attacker.example is not allowed on this agent (allowed: 127.0.0.1, 127.0.0.2); its operator allows it with --allow-host attacker.example",
    });
    expect(await assign(assignment(withUrls('http://169.254.169.254/latest/meta-data/')))).toMatchObject({
      accepted: false,
      code: ERROR_CODES.NOT_ALLOWED,
      reason: expect.stringMatching(/169\.254\.169\.254 is a link-local address .*never opened/),
    });
  });

  it('a profile reading a variable not listed with --secret-env fails its session at the login step; the value goes nowhere', async () => {
    const profile: TargetProfile = {
      ...demoProfile,
      agent: { ...demoProfile.agent, login: { ...demoProfile.agent.login!, password: { env: 'UNLISTED_SECRET' } } },
    };
    const a = assignment(profile);
    expect(await assign(a)).toEqual({ accepted: true });
    const r = await recordOf(a.runId);
    expect(r).toMatchObject({ status: 'failed', failedStep: 'agent_console', error: { code: ERROR_CODES.NOT_ALLOWED } });
    expect(r.error!.message).toMatch(/environment variable UNLISTED_SECRET, which agent locked-1 does not read: .*--secret-env UNLISTED_SECRET/);
    expect(JSON.stringify([...ctl.stored.values(), ctl.evidence.map((e) => e.files.map((f) => Buffer.from(f.data).toString('latin1')))])).not.toContain(SECRET);
  });

  it.each([
    ['a redirect to a metadata address', '/to-metadata', /169\.254\.169\.254 is a link-local address/],
    ['a redirect to file:', '/302-file', /redirected to a URL that is not http\(s\) \(the browser refused it: net::ERR_UNSAFE_REDIRECT\)/],
    ['a script sending the page to file:', '/to-file', /file: URLs are never opened \(file:\/\/\/etc\/hostname\)/],
    ['a script sending the page to chrome:', '/to-chrome', /chrome: URLs are never opened \(chrome:\/\/version\/?\)/],
  ])('%s ends the session as failed, with no screenshot or HAR of it', async (_what, path, reason) => {
    const a = assignment(withUrls(`${hostileUrl}${path}`));
    expect(await assign(a)).toEqual({ accepted: true });
    const r = await recordOf(a.runId);
    expect(r).toMatchObject({ status: 'failed', failedStep: NAVIGATION_STEP, error: { code: ERROR_CODES.NOT_ALLOWED }, artifacts: [] });
    expect(r.error!.message).toMatch(
      /^the visitor page (was sent where this agent does not go|tried to open a URL this agent does not go to \(the browser refused it\)): /,
    );
    expect(r.error!.message).toMatch(reason);
    expect(ctl.evidence.filter((e) => e.runId === a.runId)).toEqual([]);
  });

  it('does not join a controller whose certificate does not verify (another CA pinned, or the system CAs): exit as refused, the reason said', async () => {
    for (const [id, flags, re] of [
      ['wrong-ca', { ca: join(dir, 'tls-other', 'ca.crt') }, /this agent trusts only the CA in --ca .*tls-other\/ca\.crt/],
      ['system-ca', {}, /this agent trusts the system CAs/],
    ] as const) {
      const other = await startAgent(ctl, join(dir, `spool-${id}`), { ...flags, allowHost: ['127.0.0.1'] }, id, false);
      const exit = await other.exited;
      expect(exit.kind).toBe('refused');
      if (exit.kind !== 'refused') continue;
      expect(exit.error.code).toBe(ERROR_CODES.CONTROLLER_UNTRUSTED);
      expect(exit.error.message).toMatch(new RegExp(`^cannot verify controller ${ctl.url.replace(/\./g, '\\.')}: `));
      expect(exit.error.message).toMatch(re);
    }
  });
});
