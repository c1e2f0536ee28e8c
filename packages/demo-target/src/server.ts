import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { ChatStore } from './chat/store.js';
import { AgentSessions, DEFAULT_CREDENTIALS, type Credentials } from './console/sessions.js';
import type { Feature, FeatureContext } from './feature.js';
import { DemoConfigError } from './errors.js';
import { FEATURES } from './features.js';
import { Delays } from './http/delays.js';
import { sendError } from './http/respond.js';
import { Router } from './http/router.js';
import type { Knobs, KnobsPatch } from './knobs/schema.js';
import { KnobStore } from './knobs/store.js';
import { RealtimeRegistry } from './realtime.js';

export const DEFAULT_SITE_HOST = '127.0.0.1';
/** A different site from 127.0.0.1, so Chromium runs the widget in an out-of-process iframe. */
export const DEFAULT_APP_HOST = '127.0.0.2';

/**
 * The demo's two origins under the names a client's configuration uses for them
 * (a target profile fills `${DEMO_SITE_URL}` / `${DEMO_APP_URL}` with these; the
 * CLI prints them as `NAME=value` lines). No trailing slash.
 */
export type DemoVars = {
  /** Visitor website origin. */
  DEMO_SITE_URL: string;
  /** App origin (widget, API, console). */
  DEMO_APP_URL: string;
};

export interface DemoTargetOptions {
  siteHost?: string;
  appHost?: string;
  /** 0 (default) picks a free port. */
  sitePort?: number;
  appPort?: number;
  /** Knobs at start; any part left out is 0 / no error. */
  knobs?: KnobsPatch;
  /** Root logger; the target logs under `component` children. Default: silent. */
  logger?: Logger;
  /** Agent console log-in (default agent / demo). */
  credentials?: Credentials;
  /** Features to mount (default FEATURES). */
  features?: readonly Feature[];
}

export interface DemoTarget {
  /** Visitor website origin, no trailing slash, e.g. http://127.0.0.1:41234 */
  siteUrl: string;
  /** App origin (widget, API, console, realtime), no trailing slash. */
  appUrl: string;
  /** The same two origins, by the names clients configure them with. */
  vars: DemoVars;
  knobs: {
    get(): Knobs;
    set(patch: KnobsPatch): Knobs;
    reset(): Knobs;
    /** Drop every realtime socket (clients reconnect); returns how many. */
    dropSockets(): number;
  };
  stats(): { chats: number; messages: number; sockets: number };
  close(): Promise<void>;
}

function dispatch(router: Router, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const found = router.match(req.method ?? 'GET', pathname);
    if (found === 'not-found') return sendError(res, 404, 'not_found', `no route for ${pathname}`);
    if (found === 'method-not-allowed') return sendError(res, 405, 'method_not_allowed', `${req.method} not allowed on ${pathname}`);
    Promise.resolve(found.handler(req, res, found.params)).catch((e: unknown) => {
      log.error({ err: e, path: pathname }, 'handler failed');
      sendError(res, 500, 'internal', 'internal error');
    });
  };
}

function listen(server: Server, host: string, port: number, flag: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(new DemoConfigError(`cannot listen on ${host}:${port} (${e.code ?? e.message}); choose another ${flag} (0 picks a free port)`, { cause: e }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function origin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Start the demo live-chat product: the visitor site and the app, on two origins. */
export async function startDemoTarget(opts: DemoTargetOptions = {}): Promise<DemoTarget> {
  const root = opts.logger ?? pino({ level: 'silent' });
  const log = root.child({ component: 'demo-target' });
  const knobs = new KnobStore(opts.knobs ?? {});
  const delays = new Delays();
  const site = new Router();
  const app = new Router();
  const siteServer = createServer(dispatch(site, log));
  const appServer = createServer(dispatch(app, log));
  const realtime = new RealtimeRegistry(appServer, delays);
  const chats = new ChatStore();
  const urls = { siteUrl: '', appUrl: '' };

  const ctx: FeatureContext = {
    log: root,
    knobs,
    delays,
    site,
    app,
    appServer,
    realtime,
    chats,
    agents: new AgentSessions(opts.credentials ?? DEFAULT_CREDENTIALS),
    urls: () => urls,
  };
  for (const feature of opts.features ?? FEATURES) feature.register(ctx);

  const siteHost = opts.siteHost ?? DEFAULT_SITE_HOST;
  const appHost = opts.appHost ?? DEFAULT_APP_HOST;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    delays.close();
    await realtime.close();
    await Promise.all([closeServer(siteServer), closeServer(appServer)]);
    log.info('closed');
  };

  try {
    urls.siteUrl = origin(siteHost, await listen(siteServer, siteHost, opts.sitePort ?? 0, '--site-port'));
    urls.appUrl = origin(appHost, await listen(appServer, appHost, opts.appPort ?? 0, '--app-port'));
  } catch (e) {
    await close();
    throw e;
  }
  const vars: DemoVars = { DEMO_SITE_URL: urls.siteUrl, DEMO_APP_URL: urls.appUrl };
  log.info({ ...urls }, 'listening');

  return {
    siteUrl: urls.siteUrl,
    appUrl: urls.appUrl,
    vars,
    knobs: {
      get: () => knobs.get(),
      set: (patch) => knobs.set(patch),
      reset: () => knobs.reset(),
      dropSockets: () => realtime.dropAll(),
    },
    stats: () => ({ chats: chats.chatCount, messages: chats.messageCount, sockets: realtime.count() }),
    close,
  };
}
