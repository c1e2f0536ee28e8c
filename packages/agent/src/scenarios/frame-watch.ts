import type { Frame, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import { FRAME_STATE_KEY } from '../collectors/frame-hook.js';
import type { DeliveryBy } from '@userprobe/shared';
import { armTextWatch, type TextWatch } from './page-probes.js';

/*
 * Message delivery seen on the wire instead of in the DOM (a profile's `delivery: { toAgent:
 * { frame: <socket> } }`): the page-side hook (collectors/frame-hook.ts) stamps each text message
 * a watched socket receives on the page's clock, the clock the DOM watch uses, so a delivery is
 * still timed on one browser clock: the send's instant in one page, the frame's in the other.
 */

/** The frames to look in: a page's every frame, or one frame (a widget's) and the page it is in. */
function framesOf(target: Page | Frame): Frame[] {
  return 'mainFrame' in target ? target.frames() : [target, ...(target.page().mainFrame() === target ? [] : [target.page().mainFrame()])];
}

/**
 * A TextWatch (page-probes.ts) on frames instead of the DOM: `instant()` resolves with the page-side
 * instant of the first text message received after arming (on a socket the hook watches, in any
 * document of `target`) that contains `text`. `socket` names the profile's socket, for messages.
 */
export async function armFrameWatch(target: Page | Frame, socket: string, text: string, timeoutMs: number): Promise<TextWatch> {
  // Messages received before arming are not this one's: each document's clock now, page-side.
  const frames = framesOf(target);
  const armedAt = await Promise.all(frames.map((f) => f.evaluate(() => performance.timeOrigin + performance.now()).catch(() => Number.MAX_SAFE_INTEGER)));
  const stop = new AbortController();
  return {
    async instant(step, signal, notBefore) {
      const onAbort = () => stop.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const waits = frames.map(async (f, i) => {
          const handle = await f.waitForFunction(
            (key: string, needle: string, from: number) => {
              const buf = (globalThis as unknown as Record<symbol, Array<[number, string]> | undefined>)[Symbol.for(key)];
              if (!buf) return false;
              for (const [at, data] of buf) if (at >= from && data.includes(needle)) return at;
              return false;
            },
            { polling: 50, timeout: timeoutMs, signal: stop.signal },
            FRAME_STATE_KEY,
            text,
            Math.max(armedAt[i]!, notBefore ?? 0),
          );
          const at = (await handle.jsonValue()) as unknown;
          await handle.dispose();
          if (typeof at !== 'number') throw new Error('the page-side instant is not a number');
          return at;
        });
        try {
          return await Promise.any(waits);
        } catch (e) {
          if (signal?.aborted) throw signal.reason;
          throw new StepError(
            step,
            `no websocket message containing the text arrived on socket '${socket}' within ${timeoutMs} ms (delivery by frame; the page's socket must use websocket frames, not long-polling)`,
            { code: ERROR_CODES.STEP_TIMEOUT, cause: e, detail: { socket } },
          );
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        stop.abort();
      }
    },
    async dispose() {
      stop.abort();
    },
  };
}

/**
 * A delivery's watch on the receiving side, as the profile's `delivery` says: the text in the DOM
 * (inside `container`, the whole document when null) or a websocket frame holding it.
 */
export async function armDelivery(by: DeliveryBy, target: Page | Frame, container: string | null, text: string, timeoutMs: number): Promise<TextWatch> {
  return by === 'dom' ? armTextWatch(target, container, text, timeoutMs) : armFrameWatch(target, by.frame, text, timeoutMs);
}

/** What a delivery step is waiting for, for its `doing()`: the DOM description given, or the frame's socket in `where`. */
export function deliveryDoing(by: DeliveryBy, dom: string, what: string, where: string): string {
  return by === 'dom' ? dom : `wait for a websocket message holding ${what} on network.sockets.${by.frame} in ${where}`;
}
