import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { io as connectIo, type Socket } from 'socket.io-client';
import { doseResponse, expectVerdicts, judgeDelay, runExperiment } from '@userprobe/testkit';
import { startDemoTarget, type DemoTarget } from './index.js';

/*
 * Real servers on loopback. A knob's delay D is judged as a dose response:
 * the same call with D and without, interleaved rounds, the difference of
 * medians within the stated accuracy plus the noise the rounds show
 * (@userprobe/testkit), and every delayed call at least D.
 */

let target: DemoTarget;
const sockets: Socket[] = [];

beforeAll(async () => {
  target = await startDemoTarget();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await target.close();
});
beforeEach(() => {
  target.knobs.reset();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${target.appUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body: json, ms: performance.now() - t0 };
}

async function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t0 };
}

function socket(auth: Record<string, string>): Socket {
  const s = connectIo(target.appUrl, { path: '/crm/socket.io/', auth, reconnectionDelay: 50, reconnectionDelayMax: 100 });
  sockets.push(s);
  return s;
}

function once<T>(s: Socket, event: string): Promise<T> {
  return new Promise((resolve) => s.once(event, (v: T) => resolve(v)));
}

async function login(): Promise<string> {
  const r = await post('/api/agent/login', { username: 'agent', password: 'demo' });
  expect(r.status).toBe(200);
  return r.body['token'] as string;
}

describe('knobs over HTTP', () => {
  it('GET returns the knobs; PUT merges and returns them', async () => {
    const res = await fetch(`${target.appUrl}/__knobs`, {
      method: 'PUT',
      body: JSON.stringify({ latency: { init: 7 }, errors: { create: { status: 502, rate: 0.5 } } }),
    });
    expect(res.status).toBe(200);
    const got = (await (await fetch(`${target.appUrl}/__knobs`)).json()) as { latency: Record<string, number>; errors: unknown };
    expect(got.latency['init']).toBe(7);
    expect(got.errors).toEqual({ create: { status: 502, rate: 0.5 } });
    expect(target.knobs.get().latency.init).toBe(7);
  });

  it.each([
    ['{"latency":{"create":-1}}', /latency\.create: a latency is a whole number of milliseconds, 0\.\.600000/],
    ['{"latency":{"creat":1}}', /Unrecognized key: "creat".*latency knobs: page, widgetScript/],
    ['{"errors":{"init":{"status":200}}}', /errors\.init\.status: an injected status is 400\.\.599/],
    ['not json', /not valid JSON.*Accepted: a JSON object/],
  ])('PUT %s → 400 saying what is accepted', async (body, message) => {
    const res = await fetch(`${target.appUrl}/__knobs`, { method: 'PUT', body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { message: string };
    expect(json.message).toMatch(message);
    expect(target.knobs.get().latency.create).toBe(0);
  });

  it('knobs.set from Node refuses bad input too', () => {
    expect(() => target.knobs.set({ latency: { create: -1 } })).toThrow(/0\.\.600000/);
  });
});

/** How late a bare `setTimeout(ms)` fires in this process now, ms (the scheduler's share of a delayed response). */
async function timerLateness(ms: number): Promise<number> {
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Math.max(0, performance.now() - t0 - ms);
}

describe('latency knobs (measured from Node fetch)', () => {
  it.each([
    ['create', 300, () => post('/api/chats', { name: 'Ann' })],
    ['init', 150, () => post('/api/widget/init', {})],
    [
      'addMessage',
      120,
      async () => {
        const c = await post('/api/chats', { name: 'Bo' });
        return post(`/api/chats/${c.body['chatId'] as string}/messages`, { text: 'hi', visitorToken: c.body['visitorToken'] });
      },
    ],
    ['login', 100, () => post('/api/agent/login', { username: 'agent', password: 'demo' })],
    ['page', 200, () => timedGet(`${target.siteUrl}/`)],
    ['widgetScript', 80, () => timedGet(`${target.appUrl}/widget/loader.js`)],
  ] as const)('%s=%d ms', async (knob, ms, call) => {
    await call(); // warm the connection
    const timed = async (delay: number): Promise<number> => {
      target.knobs.set({ latency: { [knob]: delay } });
      const r = await call();
      expect(r.status).toBeLessThan(300);
      return r.ms;
    };
    // The delay is a timer in this process: on a saturated machine its wake-up comes late by the
    // scheduler, which no server avoids. A bare timer of the same length, timed in the same round,
    // measures that lateness; the reference is the undelayed operation plus it, so a knob that
    // delays by more than it says (a constant added, too) still fails.
    const experiment = await runExperiment<number>(
      [
        { name: 'low', run: () => timed(0) },
        { name: 'high', run: () => timed(ms) },
        { name: 'timer', run: async () => await timerLateness(ms) },
      ],
      { rounds: 3 },
    );
    const lows = experiment.values('low', (v) => v);
    const lateness = experiment.values('timer', (v) => v);
    const verdict = judgeDelay({
      metric: `${knob} knob`,
      injectedMs: ms,
      floorMs: ms,
      measured: experiment.values('high', (v) => v),
      reference: lows.map((v, i) => v + lateness[i]!),
      referenceIs: `same operation undelayed, plus a bare ${ms} ms timer's lateness in the same round`,
    });
    expectVerdicts(`demo latency knob ${knob}`, experiment, [verdict]);
  });

  it('frame.html waits widgetScript too; widget.js does not', async () => {
    target.knobs.set({ latency: { widgetScript: 150 } });
    // frame.html against widget.js, both asked with the knob set: only the frame carries the delay.
    const { experiment, verdict } = await doseResponse({
      metric: 'frame.html − widget.js with widgetScript=150',
      injectedMs: 150,
      lowMs: 0, // the low arm is the script itself, which the knob does not delay
      rounds: 3,
      measure: async (delay) => (await timedGet(`${target.appUrl}/widget/${delay === 0 ? 'widget.js' : 'frame.html'}`)).ms,
    });
    expectVerdicts('demo widgetScript knob: the frame waits, the script does not', experiment, [verdict]);
  });
});

describe('error injection', () => {
  it('answers the injected status after the latency, at the given rate, and clears', async () => {
    target.knobs.set({ latency: { create: 100 }, errors: { create: { status: 503 } } });
    const failed = await post('/api/chats', { name: 'Ann' });
    expect(failed.status).toBe(503);
    expect(failed.body['error']).toBe('injected');
    expect(failed.ms).toBeGreaterThanOrEqual(100);

    target.knobs.set({ errors: { create: { status: 503, rate: 0 } } });
    expect((await post('/api/chats', { name: 'Ann' })).status).toBe(201);

    target.knobs.set({ errors: { init: { status: 500 }, create: null } });
    expect((await post('/api/widget/init', {})).status).toBe(500);
    expect((await post('/api/chats', { name: 'Ann' })).status).toBe(201);
  });

  it('a rate of 0.5 fails some and passes some', async () => {
    target.knobs.set({ errors: { init: { status: 500, rate: 0.5 } } });
    const statuses = await Promise.all(Array.from({ length: 60 }, () => post('/api/widget/init', {}).then((r) => r.status)));
    const failed = statuses.filter((s) => s === 500).length;
    // P(outside 10..50 of 60 at p=0.5) < 1e-7.
    expect(failed).toBeGreaterThan(10);
    expect(failed).toBeLessThan(50);
  });

  it('login can be made to fail', async () => {
    target.knobs.set({ errors: { login: { status: 500 } } });
    expect((await post('/api/agent/login', { username: 'agent', password: 'demo' })).status).toBe(500);
  });
});

describe('API', () => {
  it('login: right credentials give a token, wrong ones 401', async () => {
    expect(typeof (await login())).toBe('string');
    const bad = await post('/api/agent/login', { username: 'agent', password: 'nope' });
    expect(bad.status).toBe(401);
    expect(bad.body['message']).toBe('wrong username or password');
  });

  it('bad bodies get 400 with what is accepted; unknown chat 404', async () => {
    const noName = await post('/api/chats', {});
    expect(noName.status).toBe(400);
    expect(noName.body['message']).toMatch(/send \{"name": "\.\.\."\}/);
    const bad = await fetch(`${target.appUrl}/api/chats`, { method: 'POST', body: '{' });
    expect(bad.status).toBe(400);
    const unknown = await post('/api/chats/nope/messages', { text: 'x', visitorToken: 'y' });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${target.appUrl}/api/chats`)).status).toBe(405);
    expect((await fetch(`${target.appUrl}/nothing`)).status).toBe(404);
  });

  it('init returns the widget config naming the CRM socket path', async () => {
    const r = await post('/api/widget/init', { pageUrl: target.siteUrl });
    expect(r.body).toMatchObject({ realtime: { path: '/crm/socket.io/' } });
  });

  it('the site embeds the loader from the app origin; vars name both origins', async () => {
    const html = await (await fetch(`${target.siteUrl}/`)).text();
    expect(html).toContain(`<script src="${target.appUrl}/widget/loader.js" async></script>`);
    expect(target.siteUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(target.appUrl).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    expect(target.vars).toEqual({ DEMO_SITE_URL: target.siteUrl, DEMO_APP_URL: target.appUrl });
  });
});

describe('CRM realtime', () => {
  it('crmConnect delays the handshake', async () => {
    const { experiment, verdict } = await doseResponse({
      metric: 'CRM connect with crmConnect=250',
      injectedMs: 250,
      rounds: 3,
      measure: async (delay) => {
        target.knobs.set({ latency: { crmConnect: delay } });
        const t0 = performance.now();
        const s = socket({ role: 'visitor' });
        await once(s, 'connect');
        const ms = performance.now() - t0;
        s.close();
        return ms;
      },
    });
    expectVerdicts('demo crmConnect knob', experiment, [verdict]);
  });

  it('refuses a bad agent token and malformed auth', async () => {
    const s = socket({ role: 'agent', token: 'forged' });
    const err = await once<Error>(s, 'connect_error');
    expect(err.message).toMatch(/unknown agent token/);
    s.close();
    const t = socket({ role: 'boss' });
    expect((await once<Error>(t, 'connect_error')).message).toMatch(/bad auth/);
    t.close();
  });

  it('routes as products do: a chat goes to every agent until one opens it, then to that agent only, also after a reconnect', async () => {
    target.knobs.set({ latency: { realtime: 0 } });
    const a = socket({ role: 'agent', token: await login() });
    const b = socket({ role: 'agent', token: await login() });
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);
    const seen = { a: [] as string[], b: [] as string[] };
    a.on('chat:message', (e: { message: { text: string } }) => seen.a.push(e.message.text));
    b.on('chat:message', (e: { message: { text: string } }) => seen.b.push(e.message.text));
    const chat = await post('/api/chats', { name: 'Dana' });
    const chatId = chat.body['chatId'] as string;
    const visitorToken = chat.body['visitorToken'] as string;
    /**
     * Post a visitor message, then a new chat named after it: the server emits that chat:created after any
     * relay of the message, on the same socket, so once each agent has seen it, it has seen the relay too.
     * (Waiting for any chat:created could take a late one from an earlier chat.)
     */
    let marker = 0;
    const createdNamed = (s: Socket, name: string): Promise<void> =>
      new Promise((resolve) => {
        const on = (c: { visitorName: string }): void => {
          if (c.visitorName !== name) return;
          s.off('chat:created', on);
          resolve();
        };
        s.on('chat:created', on);
      });
    const say = async (text: string): Promise<void> => {
      const name = `marker ${++marker}`;
      const marks = Promise.all([createdNamed(a, name), createdNamed(b, name)]);
      await post(`/api/chats/${chatId}/messages`, { text, visitorToken });
      await post('/api/chats', { name });
      await marks;
    };
    await say('offered to all');
    expect([seen.a, seen.b]).toEqual([['offered to all'], ['offered to all']]);

    const opened = (await a.emitWithAck('agent:history', { chatId })) as { ok: boolean };
    expect(opened.ok).toBe(true);
    await say('for the agent who opened it');
    expect([seen.a, seen.b]).toEqual([['offered to all', 'for the agent who opened it'], ['offered to all']]);

    const reconnected = Promise.all([once(a, 'connect'), once(b, 'connect')]);
    await fetch(`${target.appUrl}/__knobs/drop-sockets`, { method: 'POST' });
    await reconnected;
    await say('still routed after a reconnect');
    expect(seen.a.at(-1)).toBe('still routed after a reconnect');
    expect(seen.b).toEqual(['offered to all']);
  });

  it('relays both ways after the realtime delay, survives drop-sockets, and counts', async () => {
    const D = 200;
    const agent = socket({ role: 'agent', token: await login() });
    const visitor = socket({ role: 'visitor' });
    await Promise.all([once(agent, 'connect'), once(visitor, 'connect')]);
    expect(target.stats().sockets).toBeGreaterThanOrEqual(2);

    const chat = await post('/api/chats', { name: 'Cleo' });
    const chatId = chat.body['chatId'] as string;
    const visitorToken = chat.body['visitorToken'] as string;
    const joined = (await visitor.emitWithAck('visitor:join', { chatId, visitorToken })) as { ok: boolean };
    expect(joined.ok).toBe(true);
    visitor.auth = { role: 'visitor', chatId, visitorToken };

    let n = 0;
    const visitorToAgent = await doseResponse({
      metric: 'visitor → agent relay with realtime=200',
      injectedMs: D,
      rounds: 3,
      measure: async (delay) => {
        target.knobs.set({ latency: { realtime: delay } });
        const text = `hello agent ${++n}`;
        const toAgent = once<{ chatId: string; message: { text: string; from: string } }>(agent, 'chat:message');
        const t0 = performance.now();
        await post(`/api/chats/${chatId}/messages`, { text, visitorToken });
        const got = await toAgent;
        const ms = performance.now() - t0;
        expect(got).toMatchObject({ chatId, visitorName: 'Cleo', message: { text, from: 'visitor' } });
        return ms;
      },
    });
    const agentToVisitor = await doseResponse({
      metric: 'agent → visitor relay with realtime=200',
      injectedMs: D,
      rounds: 3,
      measure: async (delay) => {
        target.knobs.set({ latency: { realtime: delay } });
        const text = `hello visitor ${++n}`;
        const toVisitor = once<{ message: { text: string } }>(visitor, 'chat:message');
        const t1 = performance.now();
        const ack = (await agent.emitWithAck('agent:reply', { chatId, text })) as { ok: boolean };
        expect(ack.ok).toBe(true);
        expect((await toVisitor).message.text).toBe(text);
        return performance.now() - t1;
      },
    });
    expectVerdicts('demo realtime knob, visitor → agent', visitorToAgent.experiment, [visitorToAgent.verdict]);
    expectVerdicts('demo realtime knob, agent → visitor', agentToVisitor.experiment, [agentToVisitor.verdict]);

    const bad = (await agent.emitWithAck('agent:reply', { chatId, text: '' })) as { ok: boolean; error: string };
    expect(bad).toMatchObject({ ok: false });
    expect(bad.error).toMatch(/text is 1\.\.2000 characters/);

    // Drop every socket: both reconnect and the visitor is back in its chat.
    target.knobs.set({ latency: { realtime: 0 } });
    const reconnected = Promise.all([once(agent, 'connect'), once(visitor, 'connect')]);
    const res = await fetch(`${target.appUrl}/__knobs/drop-sockets`, { method: 'POST' });
    expect(((await res.json()) as { dropped: number }).dropped).toBeGreaterThanOrEqual(2);
    await reconnected;
    const again = once<{ message: { text: string } }>(visitor, 'chat:message');
    await agent.emitWithAck('agent:reply', { chatId, text: 'still here' });
    expect((await again).message.text).toBe('still here');

    const history = (await agent.emitWithAck('agent:history', { chatId })) as { ok: true; data: { messages: { text: string }[] } };
    const exchanged = [...Array(2 * visitorToAgent.experiment.all.length).keys()].map((i) => `hello agent ${i + 1}`);
    const replies = [...Array(2 * agentToVisitor.experiment.all.length).keys()].map((i) => `hello visitor ${exchanged.length + i + 1}`);
    expect(history.data.messages.map((m) => m.text)).toEqual([...exchanged, ...replies, 'still here']);
    expect(target.stats().chats).toBeGreaterThanOrEqual(1);
    expect(target.stats().messages).toBeGreaterThanOrEqual(exchanged.length + replies.length + 1);
  });
});

describe('lifecycle', () => {
  it('close() returns promptly with a delayed request and a socket open', async () => {
    const t = await startDemoTarget({ knobs: { latency: { create: 60_000 } }, credentials: { username: 'u', password: 'p' } });
    const s = connectIo(t.appUrl, { path: '/crm/socket.io/', auth: { role: 'visitor' }, reconnection: false });
    await once(s, 'connect');
    const pending = fetch(`${t.appUrl}/api/chats`, { method: 'POST', body: '{"name":"x"}' }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50)); // let the request reach the server
    const t0 = performance.now();
    await t.close();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(await pending).toBeInstanceOf(Error);
    s.close();
  });

  it('configurable credentials', async () => {
    const t = await startDemoTarget({ credentials: { username: 'u', password: 'p' } });
    try {
      const res = await fetch(`${t.appUrl}/api/agent/login`, { method: 'POST', body: '{"username":"u","password":"p"}' });
      expect(res.status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('a port in use is a clear error', async () => {
    const port = Number(new URL(target.appUrl).port);
    await expect(startDemoTarget({ appPort: port })).rejects.toThrow(/cannot listen on 127\.0\.0\.2:\d+ \(EADDRINUSE\); choose another --app-port/);
  });
});
