import type { Frame, Page } from 'puppeteer-core';
import { z } from 'zod';
import {
  ProfileError,
  RequestPatternSchema,
  SocketPatternSchema,
  schemaProblems,
  type InputMode,
  type RequestPattern,
  type SocketPattern,
} from '@userprobe/shared';
import { attachPageCollectors, type PageCollectors } from '../collectors/page-collectors.js';
import { readNavigation, type NavBreakdown } from '../collectors/navigation.js';
import type { Transport } from '../collectors/socket.js';
import { armTextWatch, navigate, stampedSend, type SendBy } from './page-probes.js';
import { enterText } from './text-entry.js';

/*
 * The timing helpers the built-in scenarios use, for custom ones (ctx.probe; docs/scenario-api.md).
 * Every timing comes from the browser's clocks: the navigation entry, CDP Network timestamps,
 * `performance.timeOrigin + performance.now()` in the pages (one browser, one clock). Each wait
 * is bounded by the session's step timeout and ends when the session is aborted.
 */

/** A page's requests and sockets matched by pattern, from the moment `watch()` attached (attach before the action that sends them). */
export interface PageWatch {
  /** The nth (default first) request matching the named pattern, once it has finished: its duration, CDP requestWillBeSent → loadingFinished. */
  request(name: string, opts?: { nth?: number }): Promise<{ durationMs: number; status: number; serverWaitMs: number | undefined }>;
  /** The named socket's connect: its first request → the namespace connect reply (Socket.IO) or the websocket open (raw). */
  socket(name: string): Promise<{ connectMs: number; transport: Transport; attempts: number }>;
}

export interface ScenarioProbe {
  /** Load `url` in `page` up to its load event; the navigation's parts in ms from navigation start (dns, tcp, tls, ttfb, dcl, load). */
  open(page: Page, url: string): Promise<NavBreakdown>;
  /**
   * Start matching `page`'s requests and sockets (every frame of it, cross-origin iframes
   * included) against named patterns: `url` a regular expression on the full URL, `method`
   * optional; a socket's `protocol` is 'socket.io' (default) or 'raw'. Attach before the
   * navigation or action that sends them.
   */
  watch(
    page: Page,
    patterns: {
      requests?: Record<string, { url: string; method?: RequestPattern['method'] }>;
      sockets?: Record<string, { url: string; protocol?: SocketPattern['protocol'] }>;
    },
  ): Promise<PageWatch>;
  /** Enter `text` in `input` (key by key or inserted, as the run's --input says) without sending it. */
  type(target: Page | Frame, input: string, text: string): Promise<void>;
  /**
   * Time a delivery: a watch for `text` is armed in `to` (inside `container` when given) before
   * `send` runs; `send` returns the instant it sent (epoch ms on the browser's clock, as `send()`
   * below returns). Resolves with the ms from that instant to the text's first appearance.
   */
  delivery(o: { to: Page | Frame; text: string; container?: string; send: () => Promise<number> }): Promise<number>;
  /** Send what `input` holds by clicking `by.button` or pressing `by.key` in it ('Enter', 'Control+Enter'); the instant it began, epoch ms on the browser's clock. */
  send(target: Page | Frame, input: string, by: { button: string } | { key: string }): Promise<number>;
}

export interface ProbeContext {
  readonly stepTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly input: InputMode;
}

const WatchPatternsSchema = z.strictObject({
  requests: z.record(z.string(), RequestPatternSchema).default({}),
  sockets: z.record(z.string(), SocketPatternSchema).default({}),
});

/** Pure: a scenario's patterns checked as a profile's are (every problem at once, schemaProblems), else a ProfileError naming them. */
export function checkedPatterns(given: unknown): z.infer<typeof WatchPatternsSchema> {
  const r = WatchPatternsSchema.safeParse(given);
  if (r.success) return r.data;
  throw new ProfileError(`probe.watch: ${schemaProblems(WatchPatternsSchema, r.error, given).join('; ')}`);
}

/** The probe of one session; `close()` detaches what `watch()` attached (the runner calls it when the session ends). */
export function createScenarioProbe(c: ProbeContext): ScenarioProbe & { close(): Promise<void> } {
  const attached: PageCollectors[] = [];
  let closed = false;
  const wait = () => ({ timeoutMs: c.stepTimeoutMs, signal: c.signal });
  return {
    async open(page, url) {
      await navigate(page, url, 'probe.open', c.stepTimeoutMs);
      return readNavigation(page, 'probe.open', wait());
    },
    async watch(page, patterns) {
      if (closed) throw new ProfileError('probe.watch: the session is over; its probe attaches nothing more');
      const { requests, sockets } = checkedPatterns(patterns);
      const collectors = await attachPageCollectors(page, { requests, sockets });
      if (closed) {
        // The session ended while it attached: detach at once.
        await collectors.close();
        throw new ProfileError('probe.watch: the session is over; its probe attaches nothing more');
      }
      attached.push(collectors);
      return {
        async request(name, opts) {
          const t = await collectors.network.waitForRequest(name, { ...wait(), nth: opts?.nth ?? 0, step: `probe request ${name}` });
          return { durationMs: t.durationMs, status: t.status, serverWaitMs: t.serverWaitMs };
        },
        async socket(name) {
          const s = collectors.sockets.get(name);
          if (!s)
            throw new ProfileError(
              `probe socket ${name}: no socket pattern of that name was given to watch(); given: ${[...collectors.sockets.keys()].join(', ') || 'none'}`,
            );
          const t = await s.waitForConnect({ ...wait(), step: `probe socket ${name}` });
          return { connectMs: t.durationMs, transport: t.transport, attempts: t.attempts };
        },
      };
    },
    type: (target, input, text) => enterText(target, input, text, c.input, 'probe.type', wait()),
    async delivery({ to, text, container, send }) {
      const watch = await armTextWatch(to, container ?? null, text, c.stepTimeoutMs);
      try {
        const sentAt = await send();
        return (await watch.instant('probe.delivery', c.signal, sentAt)) - sentAt;
      } finally {
        await watch.dispose();
      }
    },
    send: (target, input, by: SendBy) => stampedSend(target, input, by, 'probe.send'),
    async close() {
      closed = true;
      await Promise.allSettled(attached.splice(0).map((a) => a.close()));
    },
  };
}
