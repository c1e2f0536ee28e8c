import { ProfileError, sharedConsoleMissing, type DeliveryBy, type TargetProfile } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';
import { readNavigation } from '../collectors/navigation.js';
import type { NetworkCollector, RequestTiming } from '../collectors/network.js';
import type { SocketCollector } from '../collectors/socket.js';
import { attachPageCollectors, type PageCollectors } from '../collectors/page-collectors.js';
import { recordNavigation, recordWebVitals } from '../collectors/page-metrics.js';
import { readTimeline } from '../collectors/timeline-watch.js';
import { webVitals } from '../collectors/web-vitals.js';
import { usableMark, usableSelector, widgetUsableMs } from '../collectors/widget-usable.js';
import type { Scenario, ScenarioContext } from '../runner/scenario-api.js';
import { openAgentConsole } from './agent-console.js';
import { missingProfileKeys, openChatItem, openWidgetChat, waitForTextIn } from './chat-session.js';
import { action, navigate, sendAction, sendBy, stampedSend, type TextWatch } from './page-probes.js';
import { armDelivery, deliveryDoing } from './frame-watch.js';
import { enterText, releaseFocus } from './text-entry.js';
import { think } from './think.js';
import { probeText, widgetFrame } from './widget.js';

/*
 * chat-load: a visitor opens the site, the widget loads, the visitor starts a
 * chat and sends messages; an agent console in the same browser receives them
 * and replies. Selectors and URL patterns come from the profile only.
 *
 * Metrics (start → end; every timing from the browser's clocks, never Node's):
 * - page_load: visitor page navigation start → loadEventEnd
 *   (PerformanceNavigationTiming, loadEventEnd − startTime).
 * - widget_load: visitor page navigation start → the profile's usable condition
 *   (collectors/widget-usable.ts): the `selector` first visible inside the widget
 *   frame (stamped in that frame by a MutationObserver installed before its first
 *   script ran), the widget frame's `mark`, or the named `request` finished;
 *   detail = the mode.
 * - api_init / api_create / api_add_message: CDP requestWillBeSent → loadingFinished
 *   of the request matching `network.requests.init|create|addMessage`, in any
 *   frame (the cross-origin widget included). api_add_message is the first message's.
 *   Each also records api_server_wait (detail = pattern name).
 * - api_request / api_server_wait (extra, detail = pattern name): every request of
 *   any other pattern the profile names, on the visitor page or the agent console.
 * - nav_<dns|tcp|tls|ttfb|dcl|load>_<visitor|agent> (extra): the navigation timing
 *   breakdown of the visitor page and of the agent console (collectors/navigation.ts).
 * - web_<fcp|lcp|cls|inp>_<visitor|agent> (extra): web vitals read at the end of
 *   the session (collectors/web-vitals.ts); the visitor's INP includes the widget
 *   frame, where the visitor clicks and types.
 * - crm_ws_reconnects / crm_ws_closes (extra, one each per session): counts.
 * - crm_ws_connect: first request of the `sockets.crm` socket sent → namespace
 *   connect reply `40…` received (socket.io's `connect`); detail = the transport
 *   the client started with ('polling' | 'websocket'). See collectors/socket.ts.
 * - msg_visitor_to_agent: visitor's send clicked (visitor frame timeOrigin+now, in
 *   the same page task as the click) → the text first appears anywhere in the agent
 *   console (agent page timeOrigin+now, MutationObserver armed before the send).
 * - msg_agent_to_visitor: agent's send clicked → the reply text first appears in
 *   the widget's `messageList` (same clocks, reversed).
 * - crm_ws_frame_rtt (extra, zero or more): webSocketFrameSent of an event with an
 *   ack id → its ack received, on the visitor's CRM socket. On the demo the
 *   widget's `visitor:join` (emitWithAck, sent when the chat starts, after the
 *   socket has upgraded) gives one per session; a session without an acked
 *   websocket frame notes it instead.
 *
 * Delivery crosses two pages (two renderer processes): both stamps are
 * `performance.timeOrigin + performance.now()`, which each renderer derives from
 * the same machine monotonic clock, so their difference is a true interval to
 * well under a millisecond (both pages share one agent, as DESIGN.md requires).
 *
 * Message text is typed key by key, or inserted as one input event with
 * options.input 'insert' (text-entry.ts). Between exchanges the session pauses
 * for options.thinkTime (think.ts, step 'think'; none by default), which is
 * outside every timing: each one starts at its own send. Before a pause both
 * pages release keyboard focus (a blinking caret would cost more CPU than the
 * waiting itself).
 *
 * More than one exchange (options.messages > 1): the first exchange records the
 * core samples (no detail); exchange n ≥ 2 records api_add_message,
 * msg_visitor_to_agent and msg_agent_to_visitor again with detail `msg-<n>`, so
 * "one sample per core metric" holds for the samples without a `msg-*` detail.
 */

/** A turn holds the console for at most this many steps (open the chat, reply, see it sent): a wait for one is bounded by that many step timeouts. */
const TURN_STEPS = 3;
/**
 * A session on a shared console may wait for another's opening that then fails, and open the console
 * itself (ConsoleSeat.open): its agent_console step is bounded by that many step timeouts.
 */
const OPEN_STEPS = 2;
/** The turn's own wait ends first (naming what it waited for); the step's limit is this much later. */
const TURN_MARGIN_MS = 5_000;

/** Detail of the extra samples of exchange n ≥ 2. */
export function exchangeDetail(n: number): string | undefined {
  return n === 1 ? undefined : `msg-${n}`;
}

/** Request patterns with a metric of their own; every other named pattern is recorded as api_request. */
export const CORE_REQUEST_PATTERNS: ReadonlySet<string> = new Set(['init', 'create', 'addMessage', 'cobrowseScript']);

/** What a request wait is doing, as a step names it: `wait for network.requests.create '/api/chats' to finish`. */
function requestAction(name: string, pattern: { readonly url: string }): string {
  return `wait for network.requests.${name} '${pattern.url}' to finish`;
}

/** Record a core request's timing and its server wait. */
function recordRequest(
  ctx: ScenarioContext,
  metric: 'api_init' | 'api_create' | 'api_add_message',
  pattern: string,
  t: RequestTiming,
  detail: string | undefined,
): void {
  ctx.recorder.value(metric, t.durationMs, { detail });
  if (t.serverWaitMs !== undefined) ctx.recorder.value('api_server_wait', t.serverWaitMs, { detail: pattern });
}

/**
 * Every request of an extra named pattern seen on either page during the
 * session → api_request and api_server_wait (detail = pattern name). One still
 * in flight is waited for; an HTTP error or a failed request fails the step
 * with the pattern and status named. A pattern no request matched is noted:
 * a profile may name requests only some pages or scenarios make.
 */
async function recordExtraRequests(ctx: ScenarioContext, networks: readonly NetworkCollector[], w: WaitOptions): Promise<void> {
  const names = Object.keys(ctx.profile.network.requests).filter((n) => !CORE_REQUEST_PATTERNS.has(n));
  if (names.length === 0) return;
  await ctx.recorder.measure('api_request', async () => {
    for (const name of names) {
      let seen = 0;
      for (const network of networks) {
        const count = network.matched(name).length;
        seen += count;
        for (let nth = 0; nth < count; nth++) {
          const t = await network.waitForRequest(name, { ...w, nth, step: 'api_request' });
          ctx.recorder.value('api_request', t.durationMs, { detail: name });
          if (t.serverWaitMs !== undefined) ctx.recorder.value('api_server_wait', t.serverWaitMs, { detail: name });
        }
      }
      if (seen === 0) ctx.recorder.note('no request matched a named pattern during the session', { pattern: name });
    }
  });
}

/** The CRM socket's counts and frame round trips over the session (extra metrics). */
function recordCrmSocket(ctx: ScenarioContext, socket: SocketCollector): void {
  const { recorder } = ctx;
  for (const r of socket.frameRtts()) recorder.value('crm_ws_frame_rtt', r.rttMs, { detail: `ack-${r.ackId}` });
  recorder.value('crm_ws_reconnects', socket.reconnects());
  recorder.value('crm_ws_closes', socket.closes());
  if (socket.frameRtts().length === 0) {
    recorder.note('no acknowledged frame on the CRM websocket this session: crm_ws_frame_rtt not recorded', {
      transports: socket.connections().map((c) => (c.upgradedAt === undefined ? c.transport : 'polling→websocket')),
    });
  }
}

/** Pure: the collectors' frame hook for delivery by frame on one side (the socket's URL pattern), or nothing for `dom`. */
export function framesOption(profile: TargetProfile, by: DeliveryBy): { frames?: { urlPattern: string } } {
  if (by === 'dom') return {};
  const socket = (profile.network.sockets as Readonly<Record<string, { readonly url: string } | undefined>>)[by.frame];
  if (socket === undefined) throw new ProfileError(`delivery: names socket ${by.frame}, which network.sockets does not define`);
  return { frames: { urlPattern: socket.url } };
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { profile, recorder, signal, session } = ctx;
  const { visitor, agent } = ctx.pages;
  const widget = profile.visitor.widget;
  const timeoutMs = ctx.options.stepTimeoutMs;
  const w: WaitOptions = { signal, timeoutMs };
  const visitorSend = sendBy(widget, 'visitor.widget');
  const agentSend = sendBy(profile.agent, 'agent');
  const { requests, sockets } = profile.network;
  const crm = sockets.crm;
  const toAgent = profile.delivery?.toAgent ?? 'dom';
  const toVisitor = profile.delivery?.toVisitor ?? 'dom';
  const usableSel = usableSelector(widget.usable);
  const usableMk = usableMark(widget.usable);

  const sharedMissing = ctx.console.size > 1 ? sharedConsoleMissing(profile.agent) : [];
  if (sharedMissing.length > 0) {
    await recorder.measure('profile', () =>
      Promise.reject(missingProfileKeys('profile', `chat-load (--chats-per-console ${ctx.console.size})`, sharedMissing)),
    );
    return;
  }

  // Attached before navigation: nothing the page or its widget frame does is missed.
  const collectors: PageCollectors = await recorder.measure('attach_collectors', () =>
    attachPageCollectors(visitor, {
      requests: profile.network.requests,
      sockets: crm === undefined ? {} : { crm },
      firstVisible: usableSel === undefined ? undefined : { selectors: [usableSel], scope: widget.frame === undefined ? 'all-frames' : 'child-frames' },
      timeline: { marks: usableMk === undefined ? [] : [usableMk] },
      ...framesOption(profile, toVisitor),
    }),
  );
  // The console's collectors are attached by the session that opens it, before its first document (a shared
  // console's frame hook then serves every session on it; its requests belong to no one session).
  const shared = ctx.console.size > 1;
  let agentCollectors: PageCollectors | undefined;
  try {
    const network = collectors.network;
    const socket = collectors.sockets.get('crm');
    // The collectors keep every event from attach on, so a wait started in a later
    // step still finds a request or frame that happened earlier.

    await recorder.measure('page_load', async () => {
      recorder.doing('load visitor.url, up to its load event');
      await navigate(visitor, profile.visitor.url, 'page_load', timeoutMs);
      const nav = await readNavigation(visitor, 'page_load', w);
      recorder.value('page_load', nav.load);
      recordNavigation(recorder, 'visitor', nav);
    });

    const frame = await recorder.measure('widget_load', async () => {
      if (widget.frame !== undefined) recorder.doing(action('wait for', 'visitor.widget.frame', widget.frame));
      const f = await widgetFrame(visitor, widget.frame, 'widget_load', w);
      recorder.doing(`wait for visitor.widget.usable ${JSON.stringify(widget.usable)}`);
      const u = await widgetUsableMs({ page: visitor, frame: f, tree: collectors.tree, network }, widget.usable, 'widget_load', w);
      recorder.value('widget_load', u.ms, { detail: u.mode });
      return f;
    });

    if (requests.init !== undefined) {
      await recorder.measure('api_init', async () => {
        recorder.doing(requestAction('init', requests.init!));
        recordRequest(ctx, 'api_init', 'init', await network.waitForRequest('init', { ...w, step: 'api_init' }), undefined);
      });
    }

    if (socket && crm) {
      await recorder.measure('crm_ws_connect', async () => {
        recorder.doing(`wait for network.sockets.crm '${crm.url}' to connect`);
        const c = await socket.waitForConnect({ ...w, step: 'crm_ws_connect' });
        recorder.value('crm_ws_connect', c.durationMs, { detail: c.transport });
        if (c.attempts > 1 || c.connectVia !== c.transport) recorder.note('crm socket connect', { attempts: c.attempts, connectVia: c.connectVia });
      });
    }

    const opened = await recorder.measure(
      'agent_console',
      () =>
        ctx.console.open(async () => {
          const attached = await attachPageCollectors(agent, {
            requests: shared ? {} : profile.network.requests,
            timeline: { marks: [] },
            ...framesOption(profile, toAgent),
          });
          // A shared console's collectors live as long as the console (its other sessions rely on their page hooks).
          if (!shared) agentCollectors = attached;
          try {
            await openAgentConsole(ctx, 'agent_console', w, async () => recordNavigation(recorder, 'agent', await readNavigation(agent, 'agent_console', w)));
          } catch (e) {
            if (shared) await attached.close();
            throw e;
          }
          return () => attached.close();
        }),
      { timeoutMs: (shared ? OPEN_STEPS : 1) * timeoutMs },
    );
    if (!opened) recorder.note('joined an agent console another session opened (--chats-per-console)', { chatsPerConsole: ctx.console.size });

    await recorder.measure('open_chat', () => openWidgetChat(ctx, frame, w));

    // With a pre-chat form the chat exists now; without one the first message creates it.
    const recordCreate = async (): Promise<void> => {
      if (requests.create === undefined) return;
      await recorder.measure('api_create', async () => {
        recorder.doing(requestAction('create', requests.create!));
        recordRequest(ctx, 'api_create', 'create', await network.waitForRequest('create', { ...w, step: 'api_create' }), undefined);
      });
    };
    if (widget.prechatSubmit !== undefined) await recordCreate();

    // The chat's first message: a console's list item may show it rather than the latest (openChatItem).
    let firstText: string | undefined;
    for (let n = 1; n <= ctx.options.messages; n++) {
      const detail = exchangeDetail(n);
      const text = probeText('probe', session.sessionId, n);
      if (n === 1) firstText = text;
      const reply = probeText('reply', session.sessionId, n);
      // A person reads the reply and thinks before writing again (options.thinkTime; none by default).
      const pace = ctx.options.thinkTime;
      if (n > 1 && pace.maxMs > 0) {
        await recorder.measure(
          'think',
          async () => {
            // A shared console's focus is released at the end of each turn instead (another session may be typing in it).
            await releaseFocus(shared ? [frame] : [frame, agent]);
            await think(pace, 'think', signal);
          },
          { timeoutMs: pace.maxMs + timeoutMs },
        );
      }

      // Visitor → agent. The agent page's watch is armed before the click.
      const sent = await recorder.measure('visitor_send', async () => {
        recorder.doing(action('enter text in', 'visitor.widget.messageInput', widget.messageInput));
        await enterText(frame, widget.messageInput, text, ctx.options.input, 'visitor_send', w);
        const watch = await armDelivery(toAgent, agent, null, text, timeoutMs);
        try {
          recorder.doing(sendAction(visitorSend));
          return { watch, at: await stampedSend(frame, widget.messageInput, visitorSend, 'visitor_send') };
        } catch (e) {
          await watch.dispose();
          throw e;
        }
      });
      if (n === 1 && widget.prechatSubmit === undefined) await recordCreate();
      if (requests.addMessage !== undefined) {
        await recorder.measure('api_add_message', async () => {
          recorder.doing(requestAction('addMessage', requests.addMessage!));
          const t = await network.waitForRequest('addMessage', { ...w, nth: n - 1, step: 'api_add_message' });
          recordRequest(ctx, 'api_add_message', 'addMessage', t, detail);
        });
      }
      await recorder.measure('msg_visitor_to_agent', async () => {
        recorder.doing(deliveryDoing(toAgent, "wait for the visitor's message text in the agent page", "the visitor's message", 'the agent page'));
        try {
          recorder.value('msg_visitor_to_agent', (await sent.watch.instant('msg_visitor_to_agent', signal, sent.at)) - sent.at, { detail });
        } finally {
          await sent.watch.dispose();
        }
      });

      // Agent → visitor, in this session's turn at the console: its chat opened (again, on a shared console,
      // where another session may have opened its own since), the reply typed and sent. The widget's watch
      // is armed before the agent's click.
      const release = await recorder.measure(
        'console_turn',
        () => {
          recorder.doing('wait for the other sessions on this agent console to finish their turn');
          return ctx.console.turn(signal, TURN_STEPS * timeoutMs);
        },
        { timeoutMs: TURN_STEPS * timeoutMs + TURN_MARGIN_MS },
      );
      let replied: { watch: TextWatch; at: number };
      try {
        if (n === 1 || shared) await openChatItem(ctx, text, w, firstText);
        replied = await recorder.measure('agent_reply', async () => {
          recorder.doing(action('enter text in', 'agent.messageInput', profile.agent.messageInput));
          await enterText(agent, profile.agent.messageInput, reply, ctx.options.input, 'agent_reply', w);
          const watch = await armDelivery(toVisitor, frame, widget.messageList, reply, timeoutMs);
          try {
            recorder.doing(sendAction(agentSend));
            return { watch, at: await stampedSend(agent, profile.agent.messageInput, agentSend, 'agent_reply') };
          } catch (e) {
            await watch.dispose();
            throw e;
          }
        });
        if (shared) {
          // The turn ends once the console shows the reply (sent, not just clicked), with the console's input blurred.
          await recorder.measure('agent_reply', async () => {
            recorder.doing(action("wait for the agent's reply in", 'agent.messageList', profile.agent.messageList!));
            await waitForTextIn(agent, profile.agent.messageList!, reply, 'agent_reply', w, "the agent's reply");
            await releaseFocus([agent]);
          });
        }
      } finally {
        release();
      }
      await recorder.measure('msg_agent_to_visitor', async () => {
        recorder.doing(
          deliveryDoing(
            toVisitor,
            action("wait for the agent's reply text in", 'visitor.widget.messageList', widget.messageList),
            "the agent's reply",
            'the widget',
          ),
        );
        try {
          recorder.value('msg_agent_to_visitor', (await replied.watch.instant('msg_agent_to_visitor', signal, replied.at)) - replied.at, { detail });
        } finally {
          await replied.watch.dispose();
        }
      });
    }

    await recordExtraRequests(ctx, agentCollectors && !shared ? [network, agentCollectors.network] : [network], w);

    if (socket) recordCrmSocket(ctx, socket);

    await recorder.measure('web_vitals', async () => {
      const top = await readTimeline(visitor.mainFrame());
      const inWidget = frame === visitor.mainFrame() ? undefined : await readTimeline(frame);
      if (top) recordWebVitals(recorder, 'visitor', webVitals(top, inWidget ? [inWidget] : []));
      // A shared console's vitals are those of the console (every session's clicks): recorded once, by the session that opened it.
      const agentDoc = opened ? await readTimeline(agent.mainFrame()) : null;
      if (agentDoc) recordWebVitals(recorder, 'agent', webVitals(agentDoc));
    });
  } finally {
    await agentCollectors?.close();
    await collectors.close();
  }
}

export const chatLoad: Scenario = { name: 'chat-load', sharesConsole: true, run };
