import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { ChatStore } from './chat/store.js';
import type { AgentSessions } from './console/sessions.js';
import type { Delays } from './http/delays.js';
import type { Router } from './http/router.js';
import type { KnobStore } from './knobs/store.js';
import type { RealtimeRegistry } from './realtime.js';

/** What every feature module is handed: the two origins' routers and the shared services. */
export interface FeatureContext {
  /** Root logger: take `log.child({ component })`. */
  log: Logger;
  knobs: KnobStore;
  /** Exact server-side delays; use for every latency knob. */
  delays: Delays;
  /** Routes of the visitor website origin (http://127.0.0.1:<sitePort>). */
  site: Router;
  /** Routes of the app origin: widget, API, console (http://127.0.0.2:<appPort>). */
  app: Router;
  /** The app origin's http server (Socket.IO servers attach to it through `realtime`). */
  appServer: HttpServer;
  /** Create Socket.IO servers here (one path each) so knobs can drop them and close() closes them. */
  realtime: RealtimeRegistry;
  chats: ChatStore;
  agents: AgentSessions;
  /** Origins without a trailing slash; known once the servers listen (call at request time). */
  urls(): { siteUrl: string; appUrl: string };
}

/** A product feature: registers its HTTP routes and Socket.IO servers. */
export interface Feature {
  name: string;
  register(ctx: FeatureContext): void;
}
