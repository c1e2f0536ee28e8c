import type { JSHandle, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import type { InstantWatch } from './media-probes.js';

export type MirrorCondition = { readonly selector: string } | { readonly text: string };

const PAGE_TIMEOUT = 'userprobe-page-timeout';
const CROSS_ORIGIN = 'userprobe-mirror-cross-origin';

/**
 * A page-side watch on the agent's cobrowse mirror (`agent.cobrowse.mirror`):
 * a container element, or an iframe whose document the console fills (same
 * origin: the usual script-less mirror). Stamps `timeOrigin + now` of the
 * agent page the moment the condition first holds:
 *   - `{ selector }`: an element matching it exists inside the mirror (the
 *     mirror's own root element counts: `html[data-ready]` works);
 *   - `{ text }`: the mirror's text contains it.
 * MutationObservers on the agent page and on every mirror document it finds
 * (a replaced mirror document is picked up on its load event), so the stamp is
 * taken in the microtask after the DOM change, not when Node polls.
 * A cross-origin iframe mirror cannot be observed from the page: the watch
 * fails with a message saying so.
 */
export async function armMirrorWatch(page: Page, mirror: string, cond: MirrorCondition, timeoutMs: number): Promise<InstantWatch> {
  const handle: JSHandle<{ p: Promise<number>; stop: () => void }> = await page.evaluateHandle(
    (sel: string, c: { selector?: string; text?: string }, ms: number, tag: string, xo: string) => {
      let settle: (t: number) => void = () => undefined;
      let fail: (e: Error) => void = () => undefined;
      const p = new Promise<number>((resolve, reject) => {
        settle = resolve;
        fail = reject;
      });
      p.catch(() => undefined);
      const observers: MutationObserver[] = [];
      const watched = new WeakSet<Node>();
      let done = false;
      let crossOrigin = false;
      const finish = (): void => {
        done = true;
        for (const o of observers) o.disconnect();
        document.removeEventListener('load', check, true);
        clearTimeout(timer);
      };
      const root = (): ParentNode | null => {
        const m = document.querySelector(sel);
        if (!m) return null;
        if (m.tagName === 'IFRAME') {
          let d: Document | null = null;
          try {
            d = (m as HTMLIFrameElement).contentDocument;
          } catch {
            d = null;
          }
          crossOrigin = d === null;
          return d;
        }
        return m;
      };
      const holds = (r: ParentNode): boolean => {
        if (c.selector !== undefined) return r.querySelector(c.selector) !== null;
        // A mirror iframe's document comes from another realm: test nodeType, not instanceof.
        const text = (r as Node).nodeType === Node.DOCUMENT_NODE ? (r as Document).documentElement?.textContent : (r as Element).textContent;
        return (text ?? '').includes(c.text ?? '');
      };
      function check(): void {
        if (done) return;
        const r = root();
        if (!r) return;
        if (!watched.has(r)) {
          watched.add(r);
          const o = new MutationObserver(check);
          o.observe(r, { childList: true, subtree: true, characterData: true, attributes: true });
          observers.push(o);
        }
        if (holds(r)) {
          const at = performance.timeOrigin + performance.now();
          finish();
          settle(at);
        }
      }
      const top = new MutationObserver(check);
      top.observe(document, { childList: true, subtree: true, attributes: true });
      observers.push(top);
      document.addEventListener('load', check, true); // an iframe mirror got a new document
      const timer = setTimeout(() => {
        finish();
        fail(new Error(crossOrigin ? `${xo}: mirror is a cross-origin frame` : `${tag}: not seen`));
      }, ms);
      check();
      return { p, stop: finish };
    },
    mirror,
    cond,
    timeoutMs,
    PAGE_TIMEOUT,
    CROSS_ORIGIN,
  );
  const what =
    'selector' in cond ? `'${cond.selector}' did not appear in the mirror '${mirror}'` : `the text '${cond.text}' did not appear in the mirror '${mirror}'`;
  return {
    async instant(step: string): Promise<number> {
      try {
        return await page.evaluate((w) => w.p, handle);
      } catch (e) {
        if (e instanceof Error && e.message.includes(CROSS_ORIGIN)) {
          throw new StepError(step, `the mirror '${mirror}' is a cross-origin iframe; the cobrowse scenario can only watch a same-origin mirror`, {
            detail: { mirror },
          });
        }
        if (e instanceof Error && e.message.includes(PAGE_TIMEOUT)) {
          throw new StepError(step, `${what} within ${timeoutMs} ms`, { code: ERROR_CODES.STEP_TIMEOUT, detail: { mirror } });
        }
        throw e;
      }
    },
    async dispose(): Promise<void> {
      await page.evaluate((w) => w.stop(), handle).catch(() => undefined);
      await handle.dispose().catch(() => undefined);
    },
  };
}
