import type { Frame, Page } from 'puppeteer-core';
import { StepError, type InputMode } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';

/**
 * Put `text` into the input `selector` of `target` (a page, or a frame such as
 * the cross-origin widget's), replacing what it holds. Both modes first wait
 * until the input is visible and enabled (Puppeteer locator semantics).
 * - type: Locator.fill, key by key through the keyboard, as a person types.
 * - insert: focus the input and select its content inside its document, then
 *   one CDP Input.insertText through the page's keyboard; the browser routes it
 *   to the focused frame (out-of-process widget frames included) and fires
 *   beforeinput/input as for an IME commit. The input is checked to hold the
 *   text afterwards, so a widget that rejects inserted text fails the step
 *   instead of sending nothing.
 */
export async function enterText(target: Page | Frame, selector: string, text: string, mode: InputMode, step: string, w: WaitOptions): Promise<void> {
  const locator = target.locator(selector).setTimeout(w.timeoutMs);
  if (mode === 'type') {
    await locator.fill(text, { signal: w.signal });
    return;
  }
  const handle = await locator.waitHandle({ signal: w.signal });
  try {
    await handle.evaluate((el) => {
      (el as HTMLElement).focus();
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
        el.select();
      } else {
        const range = document.createRange();
        range.selectNodeContents(el);
        const sel = getSelection();
        sel?.removeAllRanges();
        sel?.addRange(range);
      }
    });
    const page = 'parentFrame' in target ? target.page() : target;
    await page.keyboard.sendCharacter(text);
    const held = await handle.evaluate((el) => (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : el.textContent ?? ''));
    if (held !== text) {
      throw new StepError(step, `'${selector}' did not take the inserted text (it holds ${JSON.stringify(held.slice(0, 80))}); this input may need key events: use --input type`, {
        detail: { selector, input: mode },
      });
    }
  } finally {
    await handle.dispose();
  }
}

/**
 * Blur whatever has keyboard focus in each document. A focused input's
 * blinking caret repaints twice a second, which in headless Chromium costs
 * about three times an idle page (bench/fidelity/idle-cost.mjs); a session
 * that pauses between exchanges releases focus first so that its pause costs
 * what waiting costs. Nothing is measured while focus is released.
 */
export async function releaseFocus(targets: readonly (Page | Frame)[]): Promise<void> {
  await Promise.all(targets.map((t) => t.evaluate(() => {
    const el = document.activeElement;
    if (el instanceof HTMLElement && el !== document.body) el.blur();
  })));
}
