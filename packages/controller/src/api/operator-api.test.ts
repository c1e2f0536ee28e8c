import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorApi, MAX_BODY_BYTES, METRICS_PATH, type OperatorApiDeps, type RunStream } from './operator-api.js';
import { apiJson, apiRequest, apiTarget, readBody, ApiClientError } from './api-client.js';
import { remoteRunCommand, renderStatus } from '../commands/remote-commands.js';
import type { StatusDocument } from './status-document.js';

const TOKEN = 'operator-token-0123456789';
let server: Server;
let base: string;
const aborted: string[] = [];
let stopping = false;
let scrapes = 0;
const EXPOSITION = '# HELP userprobe_agents_connected Agents.\n# TYPE userprobe_agents_connected gauge\nuserprobe_agents_connected{location="ams3"} 2\n';

/** The test server's dependencies: fakes that record what the API asked of them. */
const deps = (): OperatorApiDeps => ({
  token: TOKEN,
  log: pino({ level: 'silent' }),
  metrics: () => {
    scrapes++;
    return Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: EXPOSITION });
  },
  health: () => ({ stopping, agents: 2, checks: 1 }),
  status: () => ({ agents: [], checks: [], runs: [] }),
  abortRun: (id, why) => {
    aborted.push(`${id}: ${why}`);
    return id === 'r-1';
  },
  submitRun: async (flags, stream: RunStream) => {
    if (flags['scenario'] === 'bad') throw Object.assign(new Error('--scenario: "bad" is not accepted'), { code: 'E_CONFIG_INVALID' });
    stream.write({ t: 'err', s: 'plan: 2 session(s)\n' });
    stream.write({ t: 'out', s: 'summary table\n' });
    await new Promise((r) => setTimeout(r, 20));
    stream.write({ t: 'exit', code: 1, runId: 'r-9' });
  },
});

beforeAll(async () => {
  server = createServer(operatorApi(deps()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('operator API', () => {
  it('answers /healthz without a token: 200, then 503 while stopping', async () => {
    expect(await raw('GET', '/healthz')).toMatchObject({ status: 200, body: JSON.stringify({ status: 'ok', agents: 2, checks: 1 }) });
    stopping = true;
    expect((await raw('GET', '/healthz')).status).toBe(503);
    stopping = false;
  });

  it.each([
    ['no token', {}, 'send Authorization: Bearer'],
    ['a wrong token', { authorization: 'Bearer nope' }, "not this controller's"],
    ['the right token with a byte more', { authorization: `Bearer ${TOKEN}x` }, "not this controller's"],
    ['another scheme', { authorization: `Basic ${TOKEN}` }, 'send Authorization: Bearer'],
  ])('refuses %s with 401 and says what to send', async (_n, headers, part) => {
    const r = await raw('GET', '/api/v1/status', headers);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect((JSON.parse(r.body) as { error: { message: string } }).error.message).toContain(part);
  });

  it('routes: status, 404 for unknown paths and runs, 405 for the wrong method, 413 for a large body, 400 for bad JSON', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await raw('GET', '/api/v1/status', auth)).toMatchObject({ status: 200, body: '{"agents":[],"checks":[],"runs":[]}' });
    expect((await raw('GET', '/api/v1/nothing', auth)).status).toBe(404);
    expect((await raw('GET', '/elsewhere')).status).toBe(404);
    expect((await raw('POST', '/api/v1/status', auth)).status).toBe(405);
    expect((await raw('POST', '/api/v1/runs', { ...auth, 'content-type': 'application/json' }, 'x'.repeat(MAX_BODY_BYTES + 1))).status).toBe(413);
    expect((await raw('POST', '/api/v1/runs', auth, '{nope')).status).toBe(400);
    expect((await raw('POST', '/api/v1/runs', auth, '[1]')).status).toBe(400);
    expect(await raw('POST', '/api/v1/runs/r-1/abort', auth)).toMatchObject({ status: 202 });
    const missing = await raw('POST', '/api/v1/runs/r-2/abort', auth);
    expect(missing.status).toBe(404);
    expect((JSON.parse(missing.body) as { error: { message: string } }).error.message).toBe('no run r-2 in progress on this controller');
    expect(aborted).toEqual(['r-1: aborted by an operator (controller abort)', 'r-2: aborted by an operator (controller abort)']);
  });

  it('serves /metrics with the token only: the exposition as text, HEAD, 405 for other methods', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
      const r = await raw('GET', METRICS_PATH, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(scrapes).toBe(0);
    const ok = await raw('GET', METRICS_PATH, auth);
    expect(ok).toMatchObject({ status: 200, body: EXPOSITION });
    expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await raw('GET', `${METRICS_PATH}?x=1`, auth)).toMatchObject({ status: 200, body: EXPOSITION });
    expect(await raw('HEAD', METRICS_PATH, auth)).toMatchObject({ status: 200, body: '' });
    expect((await raw('POST', METRICS_PATH, auth)).status).toBe(405);
    expect((await raw('GET', `${METRICS_PATH}/x`, auth)).status).toBe(404);
    expect(scrapes).toBe(3);
  });

  it('has no /metrics without a metrics source, and says where the API is', async () => {
    const { metrics: _m, ...bare } = deps();
    const s = createServer(operatorApi(bare));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}${METRICS_PATH}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'no such route: /metrics; the API is under /api/v1/ (docs/operator-api.md)',
      );
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('streams a submitted run to the client command: stderr lines, stdout lines, its exit code', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, onInterrupt: () => () => {} };
    const t = await apiTarget({ controller: base, ca: undefined, env: { PROBE_OPERATOR_TOKEN: TOKEN } });
    expect(await remoteRunCommand(t, { scenario: 'chat-load', total: 2 }, io)).toBe(1);
    expect(err.join('')).toBe('plan: 2 session(s)\n');
    expect(out.join('')).toBe('summary table\n');
    err.length = 0;
    expect(await remoteRunCommand(t, { scenario: 'bad', total: 2 }, io)).toBe(3);
    expect(err.join('')).toContain('--scenario: "bad" is not accepted');
  });

  it('the client says what is wrong: no token, a bad URL, nothing listening, a refused token', async () => {
    await expect(apiTarget({ controller: base, ca: undefined, env: {} })).rejects.toThrow('set PROBE_OPERATOR_TOKEN');
    await expect(apiTarget({ controller: 'monitor:7077', ca: undefined, env: { PROBE_OPERATOR_TOKEN: TOKEN } })).rejects.toThrow(
      '--controller: monitor: is not accepted',
    );
    await expect(apiTarget({ controller: 'not a url', ca: undefined, env: { PROBE_OPERATOR_TOKEN: TOKEN } })).rejects.toThrow('is not a URL');
    const closed = await apiTarget({ controller: 'http://127.0.0.1:1', ca: undefined, env: { PROBE_OPERATOR_TOKEN: TOKEN } });
    await expect(apiJson(closed, 'GET', '/api/v1/status')).rejects.toThrow('nothing listens there');
    const wrong = await apiTarget({ controller: base, ca: undefined, env: { PROBE_OPERATOR_TOKEN: 'wrong-token-0000000' } });
    const e = await apiJson(wrong, 'GET', '/api/v1/status').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiClientError);
    expect((e as ApiClientError).message).toContain('refused (401)');
    const res = await apiRequest(wrong, 'GET', '/healthz');
    expect(JSON.parse(await readBody(res))).toMatchObject({ status: 'ok' });
  });
});

describe('renderStatus', () => {
  it('prints agents, checks with their last rounds, and runs', () => {
    const doc: StatusDocument = {
      controller: { startedAt: '2026-11-29T20:00:00.000Z', config: '/etc/userprobe/monitor.yaml', loadTests: 'keep' },
      agents: [
        {
          agentId: 'ams3-1',
          name: 'ams3-1',
          location: 'ams3',
          labels: { region: 'ams3' },
          capacity: { 'chat-load': 4, 'video-call': 1, cobrowse: 2 },
          busy: { 'chat-load': 1, 'video-call': 0, cobrowse: 0 },
          connected: true,
          connectedAt: '2026-11-29T20:00:01.000Z',
          lastSeenAt: '2026-11-29T20:09:50.000Z',
          disconnectReason: null,
        },
      ],
      checks: [
        {
          name: 'chat',
          scenario: 'chat-load',
          intervalMs: 300_000,
          locations: ['ams3', 'nyc1'],
          nextRoundAt: '2026-11-29T20:12:30.000Z',
          running: [],
          counts: { ok: 3, failed: 0, gap: 2, skipped: 0, missed: 0, 'not-run': 0 },
          lastRounds: [
            {
              location: 'nyc1',
              slotAt: '2026-11-29T20:07:30.000Z',
              status: 'gap',
              runId: null,
              reason: 'no agent in nyc1',
              sessions: { planned: 0, ok: 0, failed: 0 },
            },
          ],
        },
      ],
      runs: [{ runId: 'r-1', kind: 'load-test', startedAt: '2026-11-29T20:09:00.000Z', detail: '200 cobrowse session(s)' }],
      alerts: [
        {
          check: 'chat',
          location: 'nyc1',
          kind: 'dark',
          metric: null,
          state: 'firing',
          severity: 'degraded',
          since: '2026-11-29T20:07:30.000Z',
          detail: 'no agent in nyc1',
        },
      ],
    };
    const text = renderStatus(doc, Date.parse('2026-11-29T20:10:00.000Z'));
    for (const part of [
      'agents (1 connected of 1 seen):',
      'ams3-1',
      'connected, last seen 10s ago; busy/capacity: chat-load 1/4, video-call 0/1, cobrowse 0/2',
      'chat (chat-load, every 5m): next round 20:12:30Z; ok 3, gap 2',
      'nyc1       last 20:07:30Z gap: no agent in nyc1',
      'alerts (1 firing, 0 pending or just resolved):',
      'firing   degraded chat nyc1 dark since 20:07:30Z: no agent in nyc1',
      'runs in progress (1):',
      'r-1 load-test since 1m ago: 200 cobrowse session(s)',
    ])
      expect(text).toContain(part);
  });
});
