import { randomBytes } from 'node:crypto';
import type { Frame, Page } from 'puppeteer-core';
import { StepError } from '@userprobe/shared';
import { attachPageCollectors, type PageCollectors } from '../collectors/page-collectors.js';
import { firstVisibleAt } from '../collectors/first-visible.js';
import type { WaitOptions } from '../collectors/deadline.js';
import type { Scenario, ScenarioContext } from '../scenario-api.js';
import { armTextWatch, clickContaining, navigate, navigationLoadMs, stampedClick, timeOrigin } from './page-probes.js';

/**
 * chat-load: a visitor opens the site, the widget loads, the visitor starts a
 * chat and sends messages; an agent console in the same browser receives them
 * and replies. Selectors and URL patterns come from the profile only.
 *
 * Metrics (start → end; every timing from the browser's clocks, never Node's):
 * - page_load: visitor page navigation start → loadEventEnd
 *   (PerformanceNavigationTiming, loadEventEnd − startTime).
 * - widget_load: visitor page navigation start (its performance.timeOrigin) → the
 *   instant `visitor.widget.usable.selector` is first visible inside the widget
 *   frame (stamped in that frame by a MutationObserver installed before its
 *   first script ran; frame timeOrigin+now − page timeOrigin).
 * - api_init / api_create / api_add_message: CDP requestWillBeSent → loadingFinished
 *   of the request matching `network.requests.init|create|addMessage`, in any
 *   frame (the cross-origin widget included). api_add_message is the first message's.
 * - crm_ws_connect: first request of the `sockets.crm` socket sent → namespace
 *   connect reply `40…` received (socket.io's `connect`); detail = the transport
 *   the client started with ('polling' | 'websocket'). See collectors/socket.ts.
 * - msg_visitor_to_agent: visitor's send clicked (visitor frame timeOrigin+now, in
 *   the same page task as the click) → the text first appears anywhere in the agent
 *   console (agent page timeOrigin+now, MutationObserver armed before the send).
 * - msg_agent_to_visitor: agent's send clicked → the reply text first appears in
 *   the widget's `messageList` (same clocks, reversed).
 * - crm_ws_frame_rtt (extra, zero or more): webSocketFrameSent of an event with an
 *   ack id → its ack received, on the visitor's CRM socket.
 *
 * Delivery crosses two pages (two renderer processes): both stamps are
 * `performance.timeOrigin + performance.now()`, which each renderer derives from
 * the same machine monotonic clock, so their difference is a true interval to
 * well under a millisecond (both pages share one agent, as DESIGN.md requires).
 *
 * More than one exchange (options.messages > 1): the first exchange records the
 * core samples (no detail); exchange n ≥ 2 records api_add_message,
 * msg_visitor_to_agent and msg_agent_to_visitor again with detail `msg-<n>`, so
 * "one sample per core metric" holds for the samples without a `msg-*` detail.
 */

/** Detail of the extra samples of exchange n ≥ 2. */
export function exchangeDetail(n: number): string | undefined {
  return n === 1 ? undefined : `msg-${n}`;
}

/** A text no other session or exchange will contain. */
export function probeText(kind: 'probe' | 'reply', sessionId: string, n: number): string {
  return `${kind} ${sessionId} ${n} ${randomBytes(4).toString('hex')}`;
}

async function widgetFrame(page: Page, frameSelector: string | undefined, step: string, w: WaitOptions): Promise<Frame> {
  if (frameSelector === undefined) return page.mainFrame();
  const el = await page.waitForSelector(frameSelector, { timeout: w.timeoutMs, signal: w.signal });
  const frame = await el?.contentFrame();
  await el?.dispose();
  if (!frame) throw new StepError(step, `'${frameSelector}' (visitor.widget.frame) is not an iframe with a document`, { detail: { selector: frameSelector } });
  return frame;
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { profile, recorder, signal, session } = ctx;
  const { visitor, agent } = ctx.pages;
  const widget = profile.visitor.widget;
  const timeoutMs = ctx.options.stepTimeoutMs;
  const w: WaitOptions = { signal, timeoutMs };
  const crm = profile.network.sockets.crm;

  // Attached before navigation: nothing the page or its widget frame does is missed.
  const collectors: PageCollectors = await recorder.measure('attach_collectors', () => attachPageCollectors(visitor, {
    requests: profile.network.requests,
    sockets: { crm },
    firstVisible: { selectors: [widget.usable.selector], scope: widget.frame === undefined ? 'all-frames' : 'child-frames' },
  }));
  try {
    const network = collectors.network;
    const socket = collectors.sockets.get('crm')!;
    // The collectors keep every event from attach on, so a wait started in a later
    // step still finds a request or frame that happened earlier.

    await recorder.measure('page_load', async () => {
      await navigate(visitor, profile.visitor.url, 'page_load', timeoutMs);
      recorder.value('page_load', await navigationLoadMs(visitor, 'page_load', w));
    });

    const frame = await recorder.measure('widget_load', async () => {
      const f = await widgetFrame(visitor, widget.frame, 'widget_load', w);
      const usableAt = await firstVisibleAt(f, widget.usable.selector, 'widget_load', w);
      recorder.value('widget_load', usableAt - (await timeOrigin(visitor)));
      return f;
    });

    await recorder.measure('api_init', async () => {
      recorder.value('api_init', (await network.waitForRequest('init', { ...w, step: 'api_init' })).durationMs);
    });

    await recorder.measure('crm_ws_connect', async () => {
      const c = await socket.waitForConnect({ ...w, step: 'crm_ws_connect' });
      recorder.value('crm_ws_connect', c.durationMs, { detail: c.transport });
      if (c.attempts > 1 || c.connectVia !== c.transport) recorder.note('crm socket connect', { attempts: c.attempts, connectVia: c.connectVia });
    });

    await recorder.measure('agent_console', async () => {
      await navigate(agent, profile.agent.url, 'agent_console', timeoutMs);
      const login = profile.agent.login;
      if (login) {
        await agent.locator(login.usernameInput).setTimeout(timeoutMs).fill(ctx.credential(login.username), { signal });
        await agent.locator(login.passwordInput).setTimeout(timeoutMs).fill(ctx.credential(login.password), { signal });
        await agent.locator(login.submit).setTimeout(timeoutMs).click({ signal });
      }
      await agent.waitForSelector(profile.agent.ready, { visible: true, timeout: timeoutMs, signal });
    });

    await recorder.measure('open_chat', async () => {
      await frame.locator(widget.open).setTimeout(timeoutMs).click({ signal });
      if (widget.prechatName !== undefined) {
        await frame.locator(widget.prechatName).setTimeout(timeoutMs).fill(session.sessionId, { signal });
      }
      if (widget.prechatSubmit !== undefined) await frame.locator(widget.prechatSubmit).setTimeout(timeoutMs).click({ signal });
    });

    // With a pre-chat form the chat exists now; without one the first message creates it.
    const recordCreate = (): Promise<void> => recorder.measure('api_create', async () => {
      recorder.value('api_create', (await network.waitForRequest('create', { ...w, step: 'api_create' })).durationMs);
    });
    if (widget.prechatSubmit !== undefined) await recordCreate();

    for (let n = 1; n <= ctx.options.messages; n++) {
      const detail = exchangeDetail(n);
      const text = probeText('probe', session.sessionId, n);
      const reply = probeText('reply', session.sessionId, n);

      // Visitor → agent. The agent page's watch is armed before the click.
      const sent = await recorder.measure('visitor_send', async () => {
        await frame.locator(widget.messageInput).setTimeout(timeoutMs).fill(text, { signal });
        const watch = await armTextWatch(agent, null, text, timeoutMs);
        try {
          return { watch, at: await stampedClick(frame, widget.sendButton, 'visitor_send') };
        } catch (e) {
          await watch.dispose();
          throw e;
        }
      });
      if (n === 1 && widget.prechatSubmit === undefined) await recordCreate();
      await recorder.measure('api_add_message', async () => {
        const t = await network.waitForRequest('addMessage', { ...w, nth: n - 1, step: 'api_add_message' });
        recorder.value('api_add_message', t.durationMs, { detail });
      });
      await recorder.measure('msg_visitor_to_agent', async () => {
        try {
          recorder.value('msg_visitor_to_agent', (await sent.watch.instant('msg_visitor_to_agent', signal)) - sent.at, { detail });
        } finally {
          await sent.watch.dispose();
        }
      });

      // Agent → visitor. The widget's watch is armed before the agent's click.
      if (n === 1) {
        await recorder.measure('agent_open_chat', async () => {
          await clickContaining(agent, profile.agent.chatItem, text, 'agent_open_chat', w);
        });
      }
      const replied = await recorder.measure('agent_reply', async () => {
        await agent.locator(profile.agent.messageInput).setTimeout(timeoutMs).fill(reply, { signal });
        const watch = await armTextWatch(frame, widget.messageList, reply, timeoutMs);
        try {
          return { watch, at: await stampedClick(agent, profile.agent.sendButton, 'agent_reply') };
        } catch (e) {
          await watch.dispose();
          throw e;
        }
      });
      await recorder.measure('msg_agent_to_visitor', async () => {
        try {
          recorder.value('msg_agent_to_visitor', (await replied.watch.instant('msg_agent_to_visitor', signal)) - replied.at, { detail });
        } finally {
          await replied.watch.dispose();
        }
      });
    }

    for (const r of socket.frameRtts()) recorder.value('crm_ws_frame_rtt', r.rttMs, { detail: `ack-${r.ackId}` });
    if (socket.reconnects() > 0 || socket.closes() > 0) {
      recorder.note('crm socket reconnected or closed', { reconnects: socket.reconnects(), closes: socket.closes() });
    }
  } finally {
    await collectors.close();
  }
}

export const chatLoad: Scenario = { name: 'chat-load', run };
