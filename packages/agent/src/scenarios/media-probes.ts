import type { Frame, JSHandle, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';

/*
 * Page-side watchers for the video call, armed before the call starts. Every
 * instant is `performance.timeOrigin + now` in the page (one machine clock).
 */

type Target = Page | Frame;
const PAGE_TIMEOUT = 'userprobe-page-timeout';

export interface InstantWatch {
  /** Wait page-side for the instant (rejects with a StepError on its timeout). */
  instant(step: string): Promise<number>;
  dispose(): Promise<void>;
}

function watch(target: Target, handle: JSHandle<{ p: Promise<number>; stop: () => void }>, what: string, timeoutMs: number): InstantWatch {
  return {
    async instant(step: string): Promise<number> {
      try {
        return await target.evaluate((w) => w.p, handle);
      } catch (e) {
        if (e instanceof Error && e.message.includes(PAGE_TIMEOUT)) {
          throw new StepError(step, `${what} within ${timeoutMs} ms`, { code: ERROR_CODES.STEP_TIMEOUT });
        }
        throw e;
      }
    },
    async dispose(): Promise<void> {
      await target.evaluate((w) => w.stop(), handle).catch(() => undefined);
      await handle.dispose().catch(() => undefined);
    },
  };
}

/**
 * The first decoded remote frame: once an element matching `selector` exists
 * (now or later; a replaced element is picked up too), register
 * `requestVideoFrameCallback` on it and stamp `timeOrigin + now` of the first
 * callback (the frame's presentation to the compositor).
 */
export async function armFirstFrame(target: Target, selector: string, timeoutMs: number): Promise<InstantWatch> {
  const handle = await target.evaluateHandle(
    (sel: string, ms: number, tag: string) => {
      let settle: (t: number) => void = () => undefined;
      let fail: (e: Error) => void = () => undefined;
      const p = new Promise<number>((resolve, reject) => {
        settle = resolve;
        fail = reject;
      });
      p.catch(() => undefined);
      const armed = new WeakSet<Element>();
      let done = false;
      const finish = (): void => {
        done = true;
        mo.disconnect();
        clearTimeout(timer);
      };
      const bind = (): void => {
        const el = document.querySelector(sel);
        if (!(el instanceof HTMLVideoElement) || armed.has(el) || done) return;
        armed.add(el);
        el.requestVideoFrameCallback((now) => {
          if (done) return;
          finish();
          settle(performance.timeOrigin + now);
        });
      };
      const mo = new MutationObserver(bind);
      mo.observe(document, { childList: true, subtree: true });
      const timer = setTimeout(() => {
        finish();
        fail(new Error(`${tag}: no frame`));
      }, ms);
      bind();
      return { p, stop: finish };
    },
    selector,
    timeoutMs,
    PAGE_TIMEOUT,
  );
  return watch(target, handle, `no video frame was presented in '${selector}'`, timeoutMs);
}

/**
 * Click `selector` page-side as soon as it is visible and enabled (the
 * visitor accepting an incoming call at once); the instant of the click is
 * the watch's value.
 */
export async function armAutoClick(target: Target, selector: string, timeoutMs: number): Promise<InstantWatch> {
  const handle = await target.evaluateHandle(
    (sel: string, ms: number, tag: string) => {
      let settle: (t: number) => void = () => undefined;
      let fail: (e: Error) => void = () => undefined;
      const p = new Promise<number>((resolve, reject) => {
        settle = resolve;
        fail = reject;
      });
      p.catch(() => undefined);
      let done = false;
      const finish = (): void => {
        done = true;
        mo.disconnect();
        clearTimeout(timer);
      };
      const check = (): void => {
        if (done) return;
        const el = document.querySelector(sel);
        if (!(el instanceof HTMLElement) || (el as HTMLButtonElement).disabled) return;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) return;
        finish();
        const at = performance.timeOrigin + performance.now();
        el.click();
        settle(at);
      };
      const mo = new MutationObserver(check);
      mo.observe(document, { childList: true, subtree: true, attributes: true });
      const timer = setTimeout(() => {
        finish();
        fail(new Error(`${tag}: not clickable`));
      }, ms);
      check();
      return { p, stop: finish };
    },
    selector,
    timeoutMs,
    PAGE_TIMEOUT,
  );
  return watch(target, handle, `'${selector}' did not become clickable`, timeoutMs);
}
