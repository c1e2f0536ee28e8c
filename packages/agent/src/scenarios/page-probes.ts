import type { Frame, JSHandle, KeyInput, Page } from 'puppeteer-core';
import { ERROR_CODES, ProfileError, StepError } from '@userprobe/shared';
import { abortError, type WaitOptions } from '../collectors/deadline.js';
import { redactUrl } from '../collectors/request-pattern.js';

/*
 * Page-side probes: every instant they return is `performance.timeOrigin +
 * performance.now()` taken inside the page at the moment of the event (a
 * high-resolution wall-clock instant derived from the machine's monotonic
 * clock), never the time Node noticed. Two pages of one browser on one machine
 * read the same clock, so their instants can be subtracted (message delivery).
 */

/** Marks a page-side timeout so Node can tell it from other evaluation errors. */
const PAGE_TIMEOUT = 'userprobe-page-timeout';
/** How often Node polls for the load event's end (does not affect the value read). */
const LOAD_POLL_MS = 10;

type Target = Page | Frame;

function isPageTimeout(e: unknown): boolean {
  return e instanceof Error && e.message.includes(PAGE_TIMEOUT);
}

/** Race a page evaluation against the abort signal (the evaluation itself cannot be cancelled). */
async function raceAbort<T>(step: string, work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) throw abortError(step, signal);
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_r, reject) => {
    onAbort = () => reject(abortError(step, signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * page_load: PerformanceNavigationTiming `loadEventEnd − startTime` of the
 * page's current document (startTime is 0: navigation start). Waits until the
 * load event has finished (loadEventEnd > 0).
 */
export async function navigationLoadMs(page: Page, step: string, opts: WaitOptions): Promise<number> {
  try {
    const handle = await page.waitForFunction(
      () => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        return nav && nav.loadEventEnd > 0 ? nav.loadEventEnd - nav.startTime : false;
      },
      { polling: LOAD_POLL_MS, timeout: opts.timeoutMs, signal: opts.signal },
    );
    return (await handle.jsonValue()) as number;
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') {
      throw new StepError(step, `the page's load event did not finish within ${opts.timeoutMs} ms`, { code: ERROR_CODES.STEP_TIMEOUT, cause: e });
    }
    throw e;
  }
}

/** The document's `performance.timeOrigin` (its navigation start as an instant). */
export function timeOrigin(target: Target): Promise<number> {
  return target.evaluate(() => performance.timeOrigin);
}

/** A page-side watch armed before the action it observes; `instant()` waits for it. */
export interface TextWatch {
  /**
   * The instant the text first appeared (page clock), waiting page-side. `notBefore` (epoch ms,
   * browser clock): a watch that can see the text before it was sent (a websocket frame of a
   * typing preview) looks only from then on.
   */
  instant(step: string, signal?: AbortSignal, notBefore?: number): Promise<number>;
  dispose(): Promise<void>;
}

/**
 * Arm a MutationObserver in `target` that stamps the instant `text` first
 * appears inside `container` (a selector; the whole document when null). It
 * looks only at nodes each mutation adds or changes, so a busy page (an agent
 * console listing every chat of a load test) stays cheap. Resolves immediately
 * with the arming instant if the text is already there.
 */
export async function armTextWatch(target: Target, container: string | null, text: string, timeoutMs: number): Promise<TextWatch> {
  const handle = await target.evaluateHandle(
    (sel: string | null, needle: string, ms: number, timeoutTag: string) => {
      const now = (): number => performance.timeOrigin + performance.now();
      /** The text arrived with node `n` (added or changed) and lies inside the container. */
      const holds = (n: Node): boolean => {
        if (sel === null) return (n.textContent ?? '').includes(needle);
        const c = document.querySelector(sel);
        if (!c) return false;
        if (c.contains(n)) return (n.textContent ?? '').includes(needle);
        return n.contains(c) && (c.textContent ?? '').includes(needle); // the container itself was (re)inserted
      };
      let settle: (t: number) => void = () => undefined;
      let fail: (e: Error) => void = () => undefined;
      const p = new Promise<number>((resolve, reject) => {
        settle = resolve;
        fail = reject;
      });
      const mo = new MutationObserver((records) => {
        for (const r of records) {
          const nodes: Node[] = r.type === 'characterData' ? [r.target] : Array.from(r.addedNodes);
          for (const n of nodes) {
            if (holds(n)) {
              const at = now();
              mo.disconnect();
              clearTimeout(timer);
              settle(at);
              return;
            }
          }
        }
      });
      const timer = setTimeout(() => {
        mo.disconnect();
        fail(new Error(`${timeoutTag}: text not seen`));
      }, ms);
      const root = sel === null ? document.body : document.querySelector(sel);
      if (root?.textContent?.includes(needle)) {
        clearTimeout(timer);
        settle(now());
      } else {
        mo.observe(document, { childList: true, subtree: true, characterData: true });
      }
      p.catch(() => undefined);
      // An object, not the promise: evaluateHandle would otherwise wait for it.
      return {
        p,
        stop: () => {
          mo.disconnect();
          clearTimeout(timer);
        },
      };
    },
    container,
    text,
    timeoutMs,
    PAGE_TIMEOUT,
  );
  return {
    async instant(step: string, signal?: AbortSignal): Promise<number> {
      try {
        return await raceAbort(
          step,
          target.evaluate((w) => w.p, handle),
          signal,
        );
      } catch (e) {
        if (isPageTimeout(e)) {
          throw new StepError(step, `text '${text}' did not appear in ${container ?? 'the page'} within ${timeoutMs} ms`, {
            code: ERROR_CODES.STEP_TIMEOUT,
            detail: { container },
          });
        }
        throw e;
      }
    },
    dispose: () => disposeWatch(target, handle),
  };
}

async function disposeWatch(target: Target, handle: JSHandle<{ stop: () => void }>): Promise<void> {
  await target.evaluate((w) => w.stop(), handle).catch(() => undefined);
  await handle.dispose().catch(() => undefined);
}

/**
 * A step's sub-action as its timeout or failure names it (Recorder.doing): the verb, the
 * profile field and its selector, e.g. `click visitor.widget.open '#up-launcher'`.
 */
export function action(verb: string, field: string, selector: string): string {
  return `${verb} ${field} '${selector}'`;
}

/**
 * Click `selector` from inside the page and return the instant just before the
 * click, taken in the same synchronous page task: "the user pressed send".
 */
export async function stampedClick(target: Target, selector: string, step: string): Promise<number> {
  const at = await target.evaluate((sel: string) => {
    const el = document.querySelector(sel);
    if (!(el instanceof HTMLElement)) return null;
    const t = performance.timeOrigin + performance.now();
    el.click();
    return t;
  }, selector);
  if (at === null) throw new StepError(step, `nothing to click: '${selector}' is not in the page`, { detail: { selector } });
  return at;
}

/** How a composer sends (the profile's `sendButton` or `sendKey`). */
export type SendBy = { readonly button: string } | { readonly key: string };

/** A profile composer's way to send, with the field that names it (validation guarantees exactly one). */
export function sendBy(
  composer: { readonly sendButton?: string | undefined; readonly sendKey?: string | undefined },
  field: string,
): SendBy & { readonly field: string } {
  if (composer.sendKey !== undefined) return { key: composer.sendKey, field: `${field}.sendKey` };
  if (composer.sendButton !== undefined) return { button: composer.sendButton, field: `${field}.sendButton` };
  throw new ProfileError(`${field}: neither sendButton nor sendKey; the profile names one of them`);
}

/** What a send does, as a step names it: `click visitor.widget.sendButton '#send'`, `press agent.sendKey 'Enter'`. */
export function sendAction(by: SendBy & { readonly field: string }): string {
  return 'button' in by ? action('click', by.field, by.button) : action('press', by.field, by.key);
}

/**
 * Send what `input` holds and return the instant the send began, on the page's clock: for a
 * button, stampedClick; for a key, the key is pressed in the focused input through the
 * browser's own input pipeline (trusted, so a form submits on Enter as it does for a person),
 * and the instant is taken by a capturing keydown listener of the input's window, before any
 * handler of the page runs. The listener is removed and the modifiers released whatever happens.
 */
export async function stampedSend(target: Target, input: string, by: SendBy, step: string): Promise<number> {
  if ('button' in by) return stampedClick(target, by.button, step);
  const parts = by.key.split('+');
  const key = parts.pop()!;
  const modifiers = parts as KeyInput[];
  // Found as enterText found it: Puppeteer's selector syntax, shadow roots included.
  const el = await target.$(input);
  if (!el)
    throw new StepError(step, `'${input}' (the message input) is not in the page, so ${by.key} cannot be pressed in it`, { detail: { selector: input } });
  const keyboard = ('parentFrame' in target ? target.page() : target).keyboard;
  const pressed: KeyInput[] = [];
  let at: number | null = null;
  try {
    const focused = await el.evaluate((node, k) => {
      const w = window as unknown as { __upSendAt?: number; __upSendStamp?: (e: KeyboardEvent) => void };
      delete w.__upSendAt;
      if (w.__upSendStamp) window.removeEventListener('keydown', w.__upSendStamp, true);
      // `k` as the profile names it: the key's value (Enter, a letter in either case) or its code (NumpadEnter).
      const stamp = (e: KeyboardEvent): void => {
        if (e.key !== k && e.code !== k && e.key.toLowerCase() !== k.toLowerCase()) return;
        w.__upSendAt = performance.timeOrigin + performance.now();
        window.removeEventListener('keydown', stamp, true);
        delete w.__upSendStamp;
      };
      w.__upSendStamp = stamp;
      window.addEventListener('keydown', stamp, true);
      (node as HTMLElement).focus();
      return (node.getRootNode() as Document | ShadowRoot).activeElement === node;
    }, key);
    if (!focused)
      throw new StepError(step, `'${input}' (the message input) did not take keyboard focus, so ${by.key} cannot be pressed in it`, {
        detail: { selector: input },
      });
    for (const m of modifiers) {
      await keyboard.down(m);
      pressed.push(m);
    }
    await keyboard.press(key as KeyInput);
  } finally {
    for (const m of pressed.reverse()) await keyboard.up(m).catch(() => undefined);
    // Read the stamp, and take the listener away if the key never came.
    at = await el
      .evaluate(() => {
        const w = window as unknown as { __upSendAt?: number; __upSendStamp?: (e: KeyboardEvent) => void };
        if (w.__upSendStamp) window.removeEventListener('keydown', w.__upSendStamp, true);
        delete w.__upSendStamp;
        return w.__upSendAt ?? null;
      })
      .catch(() => null);
    await el.dispose();
  }
  if (at === null) throw new StepError(step, `pressing ${by.key} in '${input}' did not reach the page as a keydown of ${key}`, { detail: { selector: input } });
  return at;
}

/**
 * Click the first element matching `selector` whose text contains `text` — or, given several,
 * any of them (e.g. the agent console's chat item holding the visitor's latest or first message).
 */
export async function clickContaining(target: Target, selector: string, text: string | readonly string[], step: string, opts: WaitOptions): Promise<void> {
  const needles = typeof text === 'string' ? [text] : [...new Set(text)];
  try {
    const handle = await target.waitForFunction(
      (sel: string, wanted: string[]) => {
        const el = Array.from(document.querySelectorAll(sel)).find((e) => wanted.some((w) => (e.textContent ?? '').includes(w)));
        return el instanceof HTMLElement ? el : false;
      },
      { polling: 'mutation', timeout: opts.timeoutMs, signal: opts.signal },
      selector,
      needles,
    );
    const el = handle.asElement();
    if (!el) throw new StepError(step, `'${selector}' holding the text is not an element`, { detail: { selector } });
    await el.evaluate((e) => (e as HTMLElement).click());
    await el.dispose();
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') {
      throw new StepError(step, `no '${selector}' holding the text ${needles.map((n) => `'${n}'`).join(' or ')} within ${opts.timeoutMs} ms`, {
        code: ERROR_CODES.STEP_TIMEOUT,
        cause: e,
        detail: { selector },
      });
    }
    throw e;
  }
}

/**
 * Navigate and wait for the load event. A network error (the target is down,
 * a wrong URL in the profile) becomes TARGET_UNREACHABLE naming the URL.
 */
export async function navigate(page: Page, url: string, step: string, timeoutMs: number): Promise<void> {
  try {
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  } catch (e) {
    if (e instanceof Error && /net::ERR_/.test(e.message)) {
      const reason = /net::ERR_[A-Z_]+/.exec(e.message)?.[0] ?? 'network error';
      throw new StepError(step, `cannot load ${redactUrl(url)}: ${reason}; check the profile's URL and that the target is reachable from this agent`, {
        code: ERROR_CODES.TARGET_UNREACHABLE,
        cause: e,
        detail: { url: redactUrl(url), reason },
      });
    }
    if (e instanceof Error && e.name === 'TimeoutError') {
      throw new StepError(step, `${redactUrl(url)} did not load within ${timeoutMs} ms; raise the profile's timeouts.step if the target is this slow`, {
        code: ERROR_CODES.STEP_TIMEOUT,
        cause: e,
        detail: { url: redactUrl(url) },
      });
    }
    throw e;
  }
}
