import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, PROTOCOL_VERSION, type AuthError, type Hello } from '@userprobe/shared';
import { Connection, authErrorFrom, reconnectDelay } from './connection.js';
import { captureLog } from '../../test/log-capture.js';
import { nextEvent } from '../../test/socket-events.js';
import { startTestController, type TestController } from '../../test/test-controller.js';

const hello: Hello = {
  protocolVersion: PROTOCOL_VERSION,
  token: 'wrong-token',
  agentId: 'agent-c1',
  instanceId: 'agent-c1-i1',
  runs: [],
  name: 'c1',
  labels: {},
  capacity: { 'chat-load': 2, 'video-call': 1, cobrowse: 2 },
  software: 'test',
  host: { cpus: 2, memMb: 1024, platform: 'linux' },
};

describe('reconnectDelay', () => {
  it.each([
    // attempt, random → ms (min 500, max 10 000): doubling, capped, times 0.5..1.5
    [0, 0.5, 500],
    [1, 0.5, 1_000],
    [3, 0.5, 4_000],
    [5, 0.5, 10_000],
    [50, 0.5, 10_000],
    [0, 0, 250],
    [5, 0.999, 14_990],
  ])('attempt %d, random %d → %d ms', (attempt, random, ms) => {
    expect(reconnectDelay(attempt, 500, 10_000, () => random)).toBe(ms);
  });
});

describe('authErrorFrom', () => {
  it.each([
    [{ code: 'E_AUTH_REJECTED', reason: 'wrong token' }, ERROR_CODES.AUTH_REJECTED, 'wrong token'],
    [{ code: 'E_PROTOCOL_MISMATCH', reason: 'protocol 0 is not 1' }, ERROR_CODES.PROTOCOL_MISMATCH, 'protocol 0 is not 1'],
    [{ code: 'E_AGENT_DUPLICATE', reason: 'agent id "x" is already connected' }, ERROR_CODES.AGENT_DUPLICATE, 'agent id "x" is already connected'],
    [undefined, ERROR_CODES.AUTH_REJECTED, 'no reason given'],
  ])('%o', (data, code, reason) => {
    const e = authErrorFrom(data, 'http://c:1');
    expect(e.code).toBe(code);
    expect(e.message).toBe(`controller http://c:1 refused this agent: ${reason}`);
  });
});

describe('Connection', () => {
  const controllers: TestController[] = [];
  afterEach(async () => {
    await Promise.all(controllers.splice(0).map((c) => c.close()));
  });

  function connect(ctl: TestController, h: Hello) {
    const { log, lines } = captureLog();
    let fatal: (e: AuthError) => void = () => undefined;
    const failed = new Promise<AuthError>((resolve) => {
      fatal = resolve;
    });
    const conn = new Connection({
      url: ctl.url,
      hello: () => h,
      log,
      reconnectDelayMinMs: 50,
      reconnectDelayMaxMs: 100,
      handlers: { onAssign: async () => ({ accepted: true }), onAbort: () => undefined, onResume: () => ({ revoked: [], alreadyStarted: [] }), onFatal: fatal },
    });
    conn.connect();
    return { conn, failed, lines };
  }

  it("a wrong token is fatal: AUTH_REJECTED with the controller's reason, logged, no retry", async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const { conn, failed, lines } = connect(ctl, hello);
    const e = await failed;
    expect(e.code).toBe(ERROR_CODES.AUTH_REJECTED);
    expect(e.message).toContain('wrong token');
    const line = lines.find((l) => l['level'] === 60);
    expect(line).toMatchObject({ err: { code: 'E_AUTH_REJECTED', message: expect.stringContaining('wrong token') } });
    expect(JSON.stringify(lines)).not.toContain('wrong-token'); // the token itself is never logged
    expect(conn.socket.active).toBe(false);
    conn.close();
  });

  it('a protocol mismatch is fatal with PROTOCOL_MISMATCH', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const { conn, failed } = connect(ctl, { ...hello, token: 'test-token', protocolVersion: PROTOCOL_VERSION + 1 });
    expect((await failed).code).toBe(ERROR_CODES.PROTOCOL_MISMATCH);
    conn.close();
  });

  it('nacks an invalid run:assign naming the bad fields, and keeps the connection', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const agentSocket = ctl.waitFor<TestController['sockets'][number]>('agent');
    const { conn, lines } = connect(ctl, { ...hello, token: 'test-token' });
    const s = await agentSocket;
    const reply = await s.timeout(30_000).emitWithAck('run:assign', { runId: 'r1' } as never);
    expect(reply).toMatchObject({
      accepted: false,
      code: ERROR_CODES.MESSAGE_INVALID,
      reason: expect.stringContaining('invalid "run:assign" message: scenario'),
    });
    s.emit('run:abort', { nope: 1 } as never);
    const reply2 = await s.timeout(30_000).emitWithAck('run:assign', 'junk' as never);
    expect(reply2.accepted).toBe(false);
    expect(lines.filter((l) => l['msg'] === 'invalid message from the controller dropped').map((l) => l['event'])).toEqual([
      'run:assign',
      'run:abort',
      'run:assign',
    ]);
    expect(conn.socket.connected).toBe(true);
    conn.close();
  });

  it('comes back after every kind of disconnect: the controller closing the socket, and the controller restarting on the same port (finding 1)', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const first = ctl.waitFor<TestController['sockets'][number]>('agent');
    const { conn } = connect(ctl, { ...hello, token: 'test-token' });
    const s1 = await first;
    // The server closes the connection ("io server disconnect"): socket.io would not come back by itself.
    const second = ctl.waitFor<TestController['sockets'][number]>('agent', (s) => s !== s1);
    const back = nextEvent(conn.socket, 'connect');
    s1.disconnect(true);
    await Promise.all([second, back]);
    // Closing the socket closed its transport too: socket.io's own reconnect of the transport may cut in once more.
    while (!conn.socket.connected) await nextEvent(conn.socket, 'connect');
    expect(conn.socket.connected).toBe(true);
    // The controller goes away and a new one starts on the same port, as after a run ends and the next begins.
    const port = ctl.port;
    await ctl.close();
    const backAgain = nextEvent(conn.socket, 'connect');
    const ctl2 = await startTestController({ port });
    controllers.push(ctl2);
    await Promise.all([ctl2.waitFor('agent'), backAgain]);
    while (!conn.socket.connected) await nextEvent(conn.socket, 'connect');
    expect(conn.socket.connected).toBe(true);
    conn.close();
  });

  it('answers a liveness probe with its instance', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const joined = ctl.waitFor<TestController['sockets'][number]>('agent');
    const { conn } = connect(ctl, { ...hello, token: 'test-token' });
    const s = await joined;
    expect(await s.timeout(30_000).emitWithAck('agent:probe', { at: Date.now() })).toEqual({ instanceId: hello.instanceId });
    conn.close();
  });

  it("the agent CLI exits 2 with the controller's reason on a wrong token", async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const spool = await mkdtemp(join(tmpdir(), 'up-cli-'));
    const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    const child = spawn(process.execPath, [cli, '--controller', ctl.url, '--id', 'cli-1', '--spool', spool, '--log-level', 'warn'], {
      env: { ...process.env, PROBE_TOKEN: 'wrong-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = (await once(child, 'exit')) as [number];
    await rm(spool, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(stderr).toContain(`agent: controller ${ctl.url} refused this agent: wrong token`);
    expect(stderr).not.toContain('wrong-token');
  });

  it('the agent CLI joins with the right token and exits 0 on SIGTERM, keeping its id', async () => {
    const ctl = await startTestController();
    controllers.push(ctl);
    const spool = await mkdtemp(join(tmpdir(), 'up-cli-'));
    const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    const runOnce = async (): Promise<{ code: number; agentId: string }> => {
      const joined = ctl.waitFor<TestController['sockets'][number]>('agent');
      const child = spawn(
        process.execPath,
        [cli, '--controller', ctl.url, '--spool', spool, '--labels', 'region=test', '--capacity', '3', '--log-level', 'warn'],
        {
          env: { ...process.env, PROBE_TOKEN: 'test-token' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const s = await joined;
      const auth = s.handshake.auth as Hello;
      expect(auth).toMatchObject({ labels: { region: 'test' }, capacity: { 'chat-load': 3, cobrowse: 3 }, protocolVersion: PROTOCOL_VERSION });
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      return { code, agentId: auth.agentId };
    };
    const first = await runOnce();
    const second = await runOnce();
    await rm(spool, { recursive: true, force: true });
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.agentId).toBe(first.agentId); // persisted in the spool root
  });
});
