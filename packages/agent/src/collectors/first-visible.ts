import type { Frame } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import type { CdpTargetTree } from './cdp-tree.js';
import type { WaitOptions } from './deadline.js';

/*
 * Records, inside the page itself, the moment a selector first becomes visible,
 * as `performance.timeOrigin + performance.now()` of the document it appears in
 * (a high-resolution wall-clock instant, comparable across the pages of one machine).
 *
 * A script added with `Page.addScriptToEvaluateOnNewDocument` on every session of
 * the tree (so it runs in a cross-origin widget frame before any of its own code)
 * watches the DOM with a MutationObserver and stores the first instant each
 * selector is visible (connected, non-empty box, not `visibility: hidden`).
 * Reading the stamp later costs nothing in accuracy: it was taken in the page
 * when the DOM changed, not when Node noticed.
 */

const STAMP_KEY = 'userprobe.firstVisible';
/** How often the reader polls the page for the stamp (does not affect the stamp). */
const READ_POLL_MS = 20;

/** Where to watch: only in child frames (widget in an iframe) or in every document. */
export type WatchScope = 'child-frames' | 'all-frames';

/** The page-side watcher, as the source of a new-document script. */
export function firstVisibleScript(selectors: readonly string[], scope: WatchScope): string {
  const watcher = (sels: string[], onlyChildren: boolean, key: string): void => {
    if (onlyChildren && window === window.top) return;
    const g = globalThis as unknown as Record<symbol, Record<string, number> | undefined>;
    const sym = Symbol.for(key);
    if (!g[sym]) Object.defineProperty(g, sym, { value: {}, enumerable: false });
    const seen = g[sym]!;
    const pending = new Set(sels.filter((s) => !(s in seen)));
    const isVisible = (el: Element): boolean => {
      const r = el.getBoundingClientRect();
      return (r.width > 0 || r.height > 0) && getComputedStyle(el).visibility !== 'hidden';
    };
    const check = (): void => {
      for (const s of pending) {
        const el = document.querySelector(s);
        if (el && isVisible(el)) {
          seen[s] = performance.timeOrigin + performance.now();
          pending.delete(s);
        }
      }
      if (pending.size === 0) {
        mo.disconnect();
        for (const t of ['DOMContentLoaded', 'load', 'transitionend', 'animationend']) removeEventListener(t, check, true);
      }
    };
    const mo = new MutationObserver(check);
    mo.observe(document, { childList: true, subtree: true, attributes: true });
    for (const t of ['DOMContentLoaded', 'load', 'transitionend', 'animationend']) addEventListener(t, check, true);
  };
  return `(${watcher.toString()})(${JSON.stringify(selectors)}, ${scope === 'child-frames'}, ${JSON.stringify(STAMP_KEY)});`;
}

/** Install the watcher on every session of the tree (call before `tree.start()`). */
export function watchFirstVisible(tree: CdpTargetTree, selectors: readonly string[], scope: WatchScope): void {
  const source = firstVisibleScript(selectors, scope);
  tree.prepare(async (node) => {
    if (node.type !== 'page' && node.type !== 'iframe') return;
    // Without Page.enable on this session, Chromium does not run the added script.
    await node.session.send('Page.enable');
    await node.session.send('Page.addScriptToEvaluateOnNewDocument', { source });
  });
}

/**
 * The instant (`timeOrigin + now` of the frame's document) at which `selector`
 * first became visible in `frame`; waits page-side until it has.
 */
export async function firstVisibleAt(frame: Frame, selector: string, step: string, opts: WaitOptions): Promise<number> {
  try {
    const handle = await frame.waitForFunction(
      (key: string, sel: string) => {
        const seen = (globalThis as unknown as Record<symbol, Record<string, number> | undefined>)[Symbol.for(key)];
        return seen?.[sel] ?? false;
      },
      { polling: READ_POLL_MS, timeout: opts.timeoutMs, signal: opts.signal },
      STAMP_KEY,
      selector,
    );
    const at = (await handle.jsonValue()) as unknown;
    if (typeof at !== 'number') throw new StepError(step, `'${selector}': the page-side stamp is not a number`);
    return at;
  } catch (e) {
    if (e instanceof StepError) throw e;
    if (e instanceof Error && e.name === 'TimeoutError') {
      const state = await frame
        .evaluate(
          (key: string, sel: string) => ({
            watching: Symbol.for(key) in globalThis,
            present: document.querySelector(sel) !== null,
          }),
          STAMP_KEY,
          selector,
        )
        .catch(() => ({ watching: undefined, present: undefined }));
      const why =
        state.watching === false
          ? ' (the page-side watcher was not installed in this frame: attach the collectors before navigating)'
          : state.present
            ? ' (it is present but not visible)'
            : '';
      throw new StepError(
        step,
        `'${selector}' did not become visible within ${opts.timeoutMs} ms${why}; raise the profile's timeouts.step if the target is this slow`,
        {
          code: ERROR_CODES.STEP_TIMEOUT,
          cause: e,
          detail: { selector, ...state },
        },
      );
    }
    throw e;
  }
}
