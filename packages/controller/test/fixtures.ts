import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { deriveAgentToken } from '../src/trust/agent-token.js';
import { PROTOCOL_VERSION, type AgentToController, type ControllerToAgent, type Hello, type MetricBatch, type Sample } from '@userprobe/shared';

/** Every folder and file under `dir` (itself included) that its group or others may use: `path mode`. Expected: none. */
export async function notPrivate(dir: string): Promise<string[]> {
  const out: string[] = [];
  const mode = (await stat(dir)).mode & 0o777;
  if (mode & 0o077) out.push(`${dir} ${mode.toString(8)}`);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await notPrivate(p)));
    else if ((await stat(p)).mode & 0o077) out.push(`${p} ${((await stat(p)).mode & 0o777).toString(8)}`);
  }
  return out;
}

/** A pino logger whose JSON lines are kept for assertions. */
export function captureLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write: (s: string) => {
        out.push(s);
      },
    },
  );
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export async function tempDir(prefix = 'userprobe-controller-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The master secret of the tests' controllers (hub.test's TOKEN). */
export const FIXTURE_MASTER = 'secret-token';

/** The token of `agentId` under `master` (what `controller agent-token` prints). */
export const agentToken = (agentId: string, master = FIXTURE_MASTER): string => deriveAgentToken(master, agentId);

/** The flags an agent needs to run the demo target's sessions: its two hosts and its two credential variables. */
export const DEMO_AGENT_TRUST: readonly string[] = [
  '--allow-host=127.0.0.1',
  '--allow-host=127.0.0.2',
  '--secret-env=DEMO_AGENT_USER',
  '--secret-env=DEMO_AGENT_PASSWORD',
];

/**
 * A good hello: its token is the one derived for its agent id from `master`
 * (default FIXTURE_MASTER), unless `token` is given.
 */
export function hello(over: Partial<Hello> & { master?: string } = {}): Hello {
  const { master, ...rest } = over;
  const agentId = rest.agentId ?? 'agent-1';
  return {
    protocolVersion: PROTOCOL_VERSION,
    token: agentToken(agentId, master),
    agentId,
    instanceId: 'instance-1',
    runs: [],
    name: 'fake-1',
    labels: {},
    capacity: { 'chat-load': 4, 'video-call': 1, cobrowse: 2 },
    software: 'fake-agent/0',
    host: { cpus: 2, memMb: 1024, platform: 'linux' },
    ...rest,
  };
}

export type FakeAgent = Socket<ControllerToAgent, AgentToController>;

/** A fake agent: a real socket.io-client that does not reconnect. Resolves once connected. */
export function connectAgent(url: string, auth: unknown): Promise<FakeAgent> {
  const socket: FakeAgent = connect(url, { auth: auth as Record<string, unknown>, reconnection: false, transports: ['websocket'], forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => {
      socket.close();
      reject(e);
    });
  });
}

/** Connect and expect a refusal; resolves with the error socket.io-client reports. */
export async function refusedWith(url: string, auth: unknown): Promise<Error & { data?: { code: string; reason: string } }> {
  try {
    const s = await connectAgent(url, auth);
    s.close();
  } catch (e) {
    return e as Error & { data?: { code: string; reason: string } };
  }
  throw new Error('expected the controller to refuse the connection');
}

export function sample(sessionId: string, metric: Sample['metric'], value: number, ts = Date.UTC(2025, 0, 1, 12)): Sample {
  return { sessionId, metric, value, ts };
}

export function batch(over: Partial<MetricBatch> = {}): MetricBatch {
  return {
    runId: 'run-1',
    agentId: 'agent-1',
    seq: 1,
    createdAt: Date.UTC(2025, 0, 1, 12),
    samples: [sample('s0001', 'page_load', 120), sample('s0001', 'api_init', 40), sample('s0001', 'api_create', 300)],
    sessions: [],
    ...over,
  };
}

export async function lineCount(path: string): Promise<number> {
  try {
    const t = await readFile(path, 'utf8');
    return t.split('\n').filter((l) => l.trim()).length;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
