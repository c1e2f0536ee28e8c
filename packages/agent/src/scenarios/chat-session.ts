import type { Frame, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError, type WidgetUsable } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';
import type { NetworkCollector } from '../collectors/network.js';
import { redactUrl } from '../collectors/request-pattern.js';
import type { ScenarioContext } from '../runner/scenario-api.js';
import { openAgentConsole } from './agent-console.js';
import { action, clickContaining, navigationLoadMs, sendAction, sendBy, stampedSend } from './page-probes.js';
import { enterText } from './text-entry.js';
import { probeText, widgetFrame } from './widget.js';

/*
 * The chat both video-call and cobrowse start from: the visitor opens the
 * site and the widget, starts a chat and sends one message; the agent logs in
 * and opens the chat holding that message (as an agent would, and as a real
 * tenant's console requires). Only page_load is recorded here; the rest are
 * setup steps (their failures are recorded with their step names).
 */

/** Visitor page load, recorded as page_load (navigation start → loadEventEnd). */
export async function loadVisitorPage(ctx: ScenarioContext, w: WaitOptions): Promise<void> {
  const { recorder, profile } = ctx;
  await recorder.measure('page_load', async () => {
    recorder.doing('load visitor.url, up to its load event');
    await ctx.pages.visitor.goto(profile.visitor.url, { waitUntil: 'load', timeout: w.timeoutMs });
    recorder.value('page_load', await navigationLoadMs(ctx.pages.visitor, 'page_load', w));
  });
}

/** Open the widget, start a chat (pre-chat form if the profile has one) and send one message; returns the widget frame and the message. */
export async function startVisitorChat(ctx: ScenarioContext, network: NetworkCollector, w: WaitOptions): Promise<{ frame: Frame; text: string }> {
  const { recorder, profile, session, signal } = ctx;
  const widget = profile.visitor.widget;
  const frame = await recorder.measure('widget_ready', async () => {
    if (widget.frame !== undefined) recorder.doing(action('wait for', 'visitor.widget.frame', widget.frame));
    const f = await widgetFrame(ctx.pages.visitor, widget.frame, 'widget_ready', w);
    recorder.doing(`wait for visitor.widget.usable ${JSON.stringify(widget.usable)}`);
    await waitUsable(f, widget.usable, network, w);
    return f;
  });
  const text = probeText('probe', session.sessionId, 1);
  await recorder.measure('visitor_chat', async () => {
    await openWidgetChat(ctx, frame, w);
    recorder.doing(action('enter text in', 'visitor.widget.messageInput', widget.messageInput));
    await enterText(frame, widget.messageInput, text, ctx.options.input, 'visitor_chat', w);
    const send = sendBy(widget, 'visitor.widget');
    recorder.doing(sendAction(send));
    if ('button' in send) await frame.locator(send.button).setTimeout(w.timeoutMs).click({ signal });
    else await stampedSend(frame, widget.messageInput, send, 'visitor_chat');
  });
  return { frame, text };
}

/** Wait until the widget is usable as the profile defines it (selector visible, mark made, or request finished). */
async function waitUsable(frame: Frame, usable: WidgetUsable, network: NetworkCollector, w: WaitOptions): Promise<void> {
  if ('selector' in usable) {
    await frame.waitForSelector(usable.selector, { visible: true, timeout: w.timeoutMs, signal: w.signal });
  } else if ('mark' in usable) {
    await frame.waitForFunction(
      (name: string) => performance.getEntriesByName(name, 'mark').length > 0,
      { polling: 'raf', timeout: w.timeoutMs, signal: w.signal },
      usable.mark,
    );
  } else {
    await network.waitForRequest(usable.request, { ...w, step: 'widget_ready' });
  }
}

/** Open the agent console (agent-console.ts) and the chat holding `text`: its inbox item clicked, or nothing when chats are auto-assigned. */
export async function openAgentChat(ctx: ScenarioContext, text: string, w: WaitOptions): Promise<void> {
  await ctx.recorder.measure('agent_console', () => openAgentConsole(ctx, 'agent_console', w));
  await openChatItem(ctx, text, w);
}

/**
 * Open the chat holding `text` in the console, as step agent_open_chat: click its inbox item
 * (agent.chatItem), then wait until the console's URL matches agent.chatUrl (a product that
 * routes to the chat); with neither (chats auto-assigned and shown in place) nothing to do.
 */
export async function openChatItem(ctx: ScenarioContext, text: string, w: WaitOptions, firstText?: string): Promise<void> {
  const { recorder, profile } = ctx;
  const { chatItem: item, chatUrl, messageList } = profile.agent;
  if (item === undefined && chatUrl === undefined) return;
  const shared = ctx.console.size > 1 && messageList !== undefined;
  await recorder.measure('agent_open_chat', async () => {
    // On a shared console the chat may be open already (this session had the last turn): clicking it again
    // would reload it while its old pane still shows the message, and the reply could go into that pane.
    if (shared && (await showsText(ctx.pages.agent, messageList, text))) return;
    if (item !== undefined) {
      // A list item shows a chat's latest message or its first: either names this session's chat.
      recorder.doing(action("click the one holding the visitor's message of", 'agent.chatItem', item));
      await clickContaining(ctx.pages.agent, item, firstText === undefined ? text : [text, firstText], 'agent_open_chat', w);
    }
    if (chatUrl !== undefined) {
      recorder.doing(`wait for the console's URL to match agent.chatUrl /${chatUrl}/`);
      await waitForUrl(ctx.pages.agent, chatUrl, 'agent_open_chat', w);
    }
    // On a shared console another chat was open until now: the reply goes in only once this chat shows.
    if (shared) {
      recorder.doing(action("wait for the visitor's message in", 'agent.messageList', messageList));
      await waitForTextIn(ctx.pages.agent, messageList, text, 'agent_open_chat', w);
    }
  });
}

/** Page-side: whether an element matching `sel` contains `t` (serialized into the page by evaluate and waitForFunction). */
const holdsText = (sel: string, t: string): boolean => Array.from(document.querySelectorAll(sel)).some((el) => (el.textContent ?? '').includes(t));

/** Whether an element matching `selector` contains `text` now. */
async function showsText(page: Page, selector: string, text: string): Promise<boolean> {
  return page.evaluate(holdsText, selector, text);
}

/** Wait until an element matching `selector` contains `text` (`what` names the text in the error). */
export async function waitForTextIn(page: Page, selector: string, text: string, step: string, w: WaitOptions, what = "the visitor's message"): Promise<void> {
  try {
    await page.waitForFunction(holdsText, { polling: 'mutation', timeout: w.timeoutMs, signal: w.signal }, selector, text);
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError')
      throw new StepError(step, `the open chat's '${selector}' (agent.messageList) did not show ${what} within ${w.timeoutMs} ms`, {
        code: ERROR_CODES.STEP_TIMEOUT,
        cause: e,
        detail: { selector },
      });
    throw e;
  }
}

/** Wait until the page's URL (location.href, so a route the app pushes counts as a navigation does) matches `pattern`. */
export async function waitForUrl(page: Page, pattern: string, step: string, w: WaitOptions): Promise<void> {
  try {
    await page.waitForFunction((re: string) => new RegExp(re).test(location.href), { polling: 50, timeout: w.timeoutMs, signal: w.signal }, pattern);
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError')
      throw new StepError(step, `the console's URL did not match agent.chatUrl /${pattern}/ within ${w.timeoutMs} ms (it is ${redactUrl(page.url())})`, {
        code: ERROR_CODES.STEP_TIMEOUT,
        cause: e,
        detail: { pattern },
      });
    throw e;
  }
}

/** Click the widget's launcher (visitor.widget.open) and fill its pre-chat form, if the profile has them. Runs inside the caller's step. */
export async function openWidgetChat(ctx: ScenarioContext, frame: Frame, w: WaitOptions): Promise<void> {
  const { recorder, profile, session, signal } = ctx;
  const widget = profile.visitor.widget;
  if (widget.open !== undefined) {
    recorder.doing(action('click', 'visitor.widget.open', widget.open));
    await frame.locator(widget.open).setTimeout(w.timeoutMs).click({ signal });
  }
  if (widget.prechatName !== undefined) {
    recorder.doing(action('fill', 'visitor.widget.prechatName', widget.prechatName));
    await frame.locator(widget.prechatName).setTimeout(w.timeoutMs).fill(session.sessionId, { signal });
  }
  if (widget.prechatSubmit !== undefined) {
    recorder.doing(action('click', 'visitor.widget.prechatSubmit', widget.prechatSubmit));
    await frame.locator(widget.prechatSubmit).setTimeout(w.timeoutMs).click({ signal });
  }
}

/** Wait until `selector` is visible and not disabled (a button the console enables once the visitor is reachable). */
export async function waitForEnabled(target: Page | Frame, selector: string, step: string, w: WaitOptions): Promise<void> {
  try {
    await target.waitForFunction(
      (sel: string) => {
        const el = document.querySelector(sel);
        if (!(el instanceof HTMLElement)) return false;
        const r = el.getBoundingClientRect();
        return (r.width > 0 || r.height > 0) && !(el as HTMLButtonElement).disabled && el.getAttribute('aria-disabled') !== 'true';
      },
      { polling: 'mutation', timeout: w.timeoutMs, signal: w.signal },
      selector,
    );
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') {
      throw new StepError(step, `'${selector}' was not visible and enabled within ${w.timeoutMs} ms`, {
        code: ERROR_CODES.STEP_TIMEOUT,
        cause: e,
        detail: { selector },
      });
    }
    throw e;
  }
}

/** The error for a profile that lacks what a scenario needs (`missing`: dotted keys). */
export function missingProfileKeys(step: string, scenario: string, missing: readonly string[]): StepError {
  return new StepError(step, `the target profile has no ${missing.join(', ')}; the ${scenario} scenario needs them`, {
    code: ERROR_CODES.PROFILE_INVALID,
    detail: { missing },
  });
}
