import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Server as IoServer } from 'socket.io';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import { Delays } from '@userprobe/demo-target';
import { ReferenceClient, expectVerdicts, judgeAgreement, judgeDelay, judgeOffset, runExperiment, type Verdict } from '@userprobe/testkit';
import { attachPageCollectors, type PageCollectors } from './page-collectors.js';
import { widgetUsableMs } from './widget-usable.js';

/*
 * Collectors against real Chromium (headless shell) and our own loopback
 * servers: a site on 127.0.0.1 embedding a frame from 127.0.0.2 (a different
 * site, so an out-of-process iframe), whose page calls a delayed API and opens
 * a real Socket.IO connection.
 */

const SIO_CLIENT = createRequire(import.meta.url).resolve('socket.io-client/dist/socket.io.js');

const SHELL = '/usr/lib/chromium/chromium-headless-shell';
/**
 * The headless shell does not isolate sites by default (a cross-site iframe stays in
 * process); full Chromium does. `--site-per-process` makes the shell run the frame out
 * of process, so these tests exercise the child-target path; one test checks the
 * in-process case with the shell's default flags.
 */
const OOPIF = '--site-per-process';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const SOCKET_PATH = '/rt/socket.io/';
const API_DELAY_MS = 200;
/** Namespace connect delays of the dose-response experiments: LOW_MS, and LOW_MS + CONNECT_MS. */
const LOW_MS = 100;
const CONNECT_MS = 200;
const ACK_MS = 100;
/** Interleaved rounds of each timing experiment (@userprobe/testkit). */
const ROUNDS = 5;
/** Functional waits inside the experiments: far above what any step needs on a saturated machine; the verdicts never depend on them. */
const FUNCTIONAL_WAIT_MS = 60_000;

let site: Server;
let app: Server;
let siteUrl = '';
let appUrl = '';
let browser: Browser;
let reference: ReferenceClient;
let userDataDir = '';
/** The test server's injected delays: exact, as the demo target's (a bare timer can fire up to 1 ms early). */
const delays = new Delays();
/** Delay the namespace connect (Socket.IO middleware) by this much. */
let connectDelayMs = 0;
/** Delay every ack of the `echo` event by this much. */
let ackDelayMs = 0;

function listen(server: Server, host: string): Promise<string> {
  return new Promise((resolve) => server.listen(0, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`)));
}

function html(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><body>${body}</body></html>`);
}

async function appHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', appUrl);
  if (url.pathname === '/sio.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(await readFile(SIO_CLIENT));
    return;
  }
  if (url.pathname === '/frame') {
    // ?api=<status>&transports=polling,websocket|websocket
    const status = url.searchParams.get('status') ?? '200';
    const transports = JSON.stringify((url.searchParams.get('transports') ?? 'polling,websocket').split(','));
    html(
      res,
      `<script src="/sio.js"></script><script>
      window.probe = {};
      fetch('/api/slow?status=${status}', { method: 'POST', body: '{}' }).then(async (r) => {
        window.probe.api = r.status;
        await r.text();
        performance.mark('widget-ready');
      });
      window.probe.ioStart = performance.timeOrigin + performance.now();
      const s = io({ path: '${SOCKET_PATH}', transports: ${transports} });
      s.on('connect', () => {
        window.probe.ioConnect = performance.timeOrigin + performance.now();
        s.emit('echo', 1, () => { window.probe.ack = true; });
      });
    </script>`,
    );
    return;
  }
  if (url.pathname === '/api/slow') {
    req.resume();
    await delays.wait(API_DELAY_MS);
    res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-type': 'application/json' }).end('{"ok":true}');
    return;
  }
  if (url.pathname.startsWith(SOCKET_PATH)) return; // Socket.IO answers these
  res.writeHead(404).end();
}

beforeAll(async () => {
  site = createServer((req, res) => {
    const u = new URL(req.url ?? '/', siteUrl);
    html(res, `<iframe id="w" src="${appUrl}/frame${u.search}"></iframe>`);
  });
  app = createServer((req, res) => void appHandler(req, res));
  siteUrl = await listen(site, '127.0.0.1');
  appUrl = await listen(app, '127.0.0.2');
  const io = new IoServer(app, { path: SOCKET_PATH, serveClient: false });
  io.use((_s, next) => void delays.wait(connectDelayMs).then(() => next()));
  io.on('connection', (s) => s.on('echo', (_x: unknown, cb: () => void) => void delays.wait(ackDelayMs).then(cb)));
  reference = new ReferenceClient();
  userDataDir = await mkdtemp(join(tmpdir(), 'userprobe-collectors-'));
  browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: [...ARGS, OOPIF], userDataDir });
  // Warm the browser up: the first page in a fresh browser measures slow.
  for (let i = 0; i < 2; i++) await run('?warm=1', async () => undefined);
});

afterAll(async () => {
  delays.close();
  reference?.close();
  await browser?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  await new Promise((r) => site?.close(r));
  await new Promise((r) => app?.close(r));
});

/** One page in a fresh incognito context, collectors attached before navigation. */
async function run<T>(search: string, fn: (c: PageCollectors, page: Page) => Promise<T>, on: Browser = browser): Promise<T> {
  const ctx = await on.createBrowserContext();
  try {
    const page = await ctx.newPage();
    const c = await attachPageCollectors(page, {
      requests: { slow: { url: '/api/slow(\\?|$)', method: 'POST' }, never: { url: '/never-requested' } },
      sockets: { rt: { url: '/rt/socket\\.io/', protocol: 'socket.io' } },
      timeline: { marks: ['widget-ready'] },
    });
    try {
      await page.goto(`${siteUrl}/${search}`, { waitUntil: 'load' });
      return await fn(c, page);
    } finally {
      await c.close();
    }
  } finally {
    await ctx.close();
  }
}

function widgetFrame(page: Page) {
  const f = page.frames().find((x) => x.url().startsWith(appUrl));
  if (!f) throw new Error('widget frame not found');
  return f;
}

describe('network collector', () => {
  it('captures a request made inside a cross-origin iframe, timed within 5 ms + 2 % of an independent client', async () => {
    const exp = await runExperiment<{ cdp?: number; ref?: number }>(
      [
        {
          name: 'collector',
          run: () =>
            run('', async (c) => {
              const t = await c.network.waitForRequest('slow', { timeoutMs: FUNCTIONAL_WAIT_MS });
              expect(t.record.targetType).toBe('iframe');
              expect(t.status).toBe(200);
              // Only that this is the delayed request (its server wait holds the delay): CDP's sendEnd → receiveHeadersStart
              // can read a few ms short of the server's timer (a fresh-clone run read 197.6 of 200). The accuracy claim is the
              // experiment's, on the duration, below.
              expect(t.serverWaitMs).toBeGreaterThan(API_DELAY_MS / 2);
              return { cdp: t.durationMs };
            }),
        },
        {
          name: 'reference',
          run: async () => ({
            ref: await reference.httpSteady({ url: `${appUrl}/api/slow`, method: 'POST', body: '{}' }, { warm: { url: `${appUrl}/sio.js` }, times: 3 }),
          }),
        },
      ],
      { rounds: ROUNDS },
    );
    expectVerdicts('network collector, cross-origin API', exp, [
      judgeDelay({
        metric: 'request in a cross-origin iframe',
        injectedMs: API_DELAY_MS,
        floorMs: API_DELAY_MS,
        measured: exp.values('collector', (v) => v.cdp),
        reference: exp.values('reference', (v) => (v.ref === undefined ? undefined : v.ref - API_DELAY_MS)),
        referenceIs: `independent Node client's overhead on the same delayed request, median of 3 on a warm connection (elapsed − ${API_DELAY_MS})`,
      }),
    ]);
  });

  it("captures the frame's request too when the shell keeps the frame in process", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'userprobe-collectors-'));
    const shell = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ARGS, userDataDir: dir });
    try {
      await run(
        '',
        async (c) => {
          const t = await c.network.waitForRequest('slow', { timeoutMs: FUNCTIONAL_WAIT_MS });
          expect(t.record.targetType).toBe('page');
          expect(t.durationMs).toBeGreaterThanOrEqual(API_DELAY_MS);
        },
        shell,
      );
    } finally {
      await shell.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a StepError naming the pattern and the status on an HTTP error', async () => {
    await run('?status=503', async (c) => {
      const err = await c.network.waitForRequest('slow', { timeoutMs: 10_000, step: 'api' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).step).toBe('api');
      expect((err as StepError).message).toMatch(/'slow'.*HTTP 503/);
      expect((err as StepError).detail).toMatchObject({ pattern: 'slow', status: 503 });
    });
  });

  it('times out with STEP_TIMEOUT naming the pattern, and honours the abort signal', async () => {
    await run('', async (c) => {
      const err = await c.network.waitForRequest('never', { timeoutMs: 200 }).catch((e: unknown) => e);
      expect((err as StepError).code).toBe(ERROR_CODES.STEP_TIMEOUT);
      expect((err as StepError).message).toMatch(/'never'.*no matching request seen/);
      const ac = new AbortController();
      const p = c.network.waitForRequest('never', { timeoutMs: 10_000, signal: ac.signal }).catch((e: unknown) => e);
      ac.abort();
      expect(((await p) as StepError).code).toBe(ERROR_CODES.SESSION_ABORTED);
    });
  });
});

/**
 * The page's own view (io() called → 'connect' fired, page clock) brackets the CDP
 * one: it starts earlier (before the library builds its first request) and ends
 * later (after the renderer parsed the reply), by the renderer's own work — a few ms
 * for long-polling, whose first request CDP stamps as the renderer sends it.
 */
const CLIENT_BRACKET_MS = { lowMs: -1, highMs: 10 };

describe('socket collector', () => {
  /** Connect time seen by CDP, and as the page's own `connect` event saw it. */
  async function connect(transports: string, delay: number) {
    connectDelayMs = delay;
    try {
      return await run(`?transports=${transports}`, async (c, page) => {
        const sock = c.sockets.get('rt')!;
        const t = await sock.waitForConnect({ timeoutMs: FUNCTIONAL_WAIT_MS });
        const frame = widgetFrame(page);
        await frame.waitForFunction(() => (window as unknown as { probe: { ack?: boolean } }).probe.ack === true, { timeout: FUNCTIONAL_WAIT_MS });
        const p = await frame.evaluate(() => (window as unknown as { probe: { ioStart: number; ioConnect: number } }).probe);
        return { t, pageMs: p.ioConnect - p.ioStart, rtts: sock.frameRtts(), reconnects: sock.reconnects() };
      });
    } finally {
      connectDelayMs = 0;
    }
  }
  type Connected = Awaited<ReturnType<typeof connect>>;

  /** Dose response: the namespace connect delayed LOW_MS and LOW_MS + D, interleaved; the page's own view agrees with CDP's. */
  async function connectExperiment(transports: string, extra: { name: string; run: () => Promise<{ c?: Connected; ref?: number }> }[] = []) {
    return runExperiment<{ c?: Connected; ref?: number }>(
      [
        { name: 'low', run: async () => ({ c: await connect(transports, LOW_MS) }) },
        { name: 'high', run: async () => ({ c: await connect(transports, LOW_MS + CONNECT_MS) }) },
        ...extra,
      ],
      { rounds: ROUNDS },
    );
  }
  function connectVerdicts(exp: Awaited<ReturnType<typeof connectExperiment>>, label: string): Verdict[] {
    const offsets = (arm: string) => exp.values(arm, (v) => v.c && v.c.pageMs - v.c.t.durationMs);
    // A websocket-only connect starts at CDP's webSocketWillSendHandshakeRequest, stamped (as far as we can tell
    // from Chromium's sources) when the widget renderer's main thread hears the handshake started, not when
    // `new WebSocket` ran: the page's view exceeds CDP's by a machine-dependent offset (median 12.9 ms, 10.7-23.9,
    // in a quiet fresh-clone run on a 2-core EPYC, against 5.4 for long-polling). What must hold is that the
    // offset does not grow with the delay inside the connect (docs/metrics.md says what it means for crm_ws_connect).
    const agreement =
      label === 'websocket'
        ? judgeOffset({
            what: `${label} connect: page's own view − CDP's`,
            low: offsets('low'),
            high: offsets('high'),
            injectedMs: CONNECT_MS,
            lowMs: CLIENT_BRACKET_MS.lowMs,
          })
        : judgeAgreement({ what: `${label} connect: page's own view − CDP's`, ...CLIENT_BRACKET_MS, differences: [...offsets('low'), ...offsets('high')] });
    return [
      judgeDelay({
        metric: `${label} connect`,
        injectedMs: CONNECT_MS,
        floorMs: LOW_MS + CONNECT_MS,
        measured: exp.values('high', (v) => v.c?.t.durationMs),
        reference: exp.values('low', (v) => v.c?.t.durationMs),
        referenceIs: `same connect with ${LOW_MS} ms injected`,
      }),
      agreement,
    ];
  }

  it('times the long-polling connect to the namespace reply and says so', async () => {
    const exp = await connectExperiment('polling,websocket');
    for (const r of exp.all) {
      for (const arm of ['low', 'high']) {
        const c = r.results[arm]!.c!;
        expect(c.t.transport).toBe('polling');
        expect(c.t.attempts).toBe(1);
        expect(c.reconnects).toBe(0);
      }
    }
    expectVerdicts('socket collector, socket.io long-polling connect', exp, connectVerdicts(exp, 'polling'));
  });

  it('times a websocket-only connect and the ack round trip', async () => {
    ackDelayMs = ACK_MS;
    try {
      const exp = await connectExperiment('websocket', [
        { name: 'reference', run: async () => ({ ref: await reference.socketIoAck({ url: appUrl, path: SOCKET_PATH, event: 'echo', payload: 1 }) }) },
      ]);
      for (const r of exp.all) {
        for (const arm of ['low', 'high']) {
          const c = r.results[arm]!.c!;
          expect(c.t.transport).toBe('websocket');
          expect(c.t.connectVia).toBe('websocket');
          expect(c.rtts).toHaveLength(1);
        }
      }
      expectVerdicts('socket collector, websocket connect and ack round trip', exp, [
        ...connectVerdicts(exp, 'websocket'),
        judgeDelay({
          metric: 'ack round trip',
          injectedMs: ACK_MS,
          floorMs: ACK_MS,
          measured: [...exp.values('low', (v) => v.c?.rtts[0]!.rttMs), ...exp.values('high', (v) => v.c?.rtts[0]!.rttMs)],
          reference: exp.values('reference', (v) => (v.ref === undefined ? undefined : v.ref - ACK_MS)),
          referenceIs: `independent Node socket.io client's acked emit through the same delay (elapsed − ${ACK_MS})`,
        }),
      ]);
    } finally {
      ackDelayMs = 0;
    }
  });
});

describe('widget usable', () => {
  it("by mark (page clock) and by request (CDP clock) agree: the frame marks right after the request's body arrived", async () => {
    const exp = await runExperiment<{ mark: number; request: number }>(
      [
        {
          name: 'page',
          run: () =>
            run('', async (c, page) => {
              const frame = widgetFrame(page);
              const at = { page, frame, tree: c.tree, network: c.network };
              const byMark = await widgetUsableMs(at, { mark: 'widget-ready' }, 'widget_load', { timeoutMs: FUNCTIONAL_WAIT_MS });
              const byRequest = await widgetUsableMs(at, { request: 'slow' }, 'widget_load', { timeoutMs: FUNCTIONAL_WAIT_MS });
              expect(byMark.mode).toBe('mark');
              expect(byRequest.mode).toBe('request');
              expect(byRequest.ms).toBeGreaterThanOrEqual(API_DELAY_MS);
              return { mark: byMark.ms, request: byRequest.ms };
            }),
        },
      ],
      { rounds: ROUNDS },
    );
    // The mark follows the body's arrival by the renderer's own work: never before it (1 ms clock slack), a few ms after.
    expectVerdicts('widget usable, by mark and by request', exp, [
      judgeAgreement({
        what: 'widget usable: mark − request',
        lowMs: -1,
        highMs: 10,
        differences: exp.values('page', (v) => v.mark - v.request),
      }),
    ]);
  });

  it('a mark that never comes is STEP_TIMEOUT naming the mark', async () => {
    await run('', async (c, page) => {
      const at = { page, frame: widgetFrame(page), tree: c.tree, network: c.network };
      const err = await widgetUsableMs(at, { mark: 'never-made' }, 'widget_load', { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StepError);
      expect((err as StepError).code).toBe(ERROR_CODES.STEP_TIMEOUT);
      expect((err as StepError).message).toMatch(/no performance mark 'never-made'/);
    });
  });
});
