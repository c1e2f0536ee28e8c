import type { Frame, Page } from 'puppeteer-core';
import { StepError, type InputMode } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';

/**
 * Put `text` into the input `selector` of `target` (a page, or a frame such as
 * the cross-origin widget's), replacing what it holds. Both modes first wait
 * until the input is visible and enabled (Puppeteer locator semantics).
 * - type: Locator.fill, key by key through the keyboard, as a person types.
 * - insert: wait until it is not disabled or read-only, focus it (checked) and
 *   select its content inside its document, then
 *   one CDP Input.insertText through the page's keyboard; the browser routes it
 *   to the focused frame (out-of-process widget frames included) and fires
 *   beforeinput/input as for an IME commit. The input is checked to hold the
 *   text afterwards, so a widget that rejects inserted text fails the step
 *   instead of sending nothing.
 */
export async function enterText(target: Page | Frame, selector: string, text: string, mode: InputMode, step: string, w: WaitOptions): Promise<void> {
  switch (mode) {
    case 'type':
      await target.locator(selector).setTimeout(w.timeoutMs).fill(text, { signal: w.signal });
      return;
    case 'insert':
      await insertText(target, selector, text, step, w);
      return;
    default: {
      const never: never = mode;
      throw new StepError(step, `unknown input mode ${JSON.stringify(never)}; accepted: type, insert`);
    }
  }
}

async function insertText(target: Page | Frame, selector: string, text: string, step: string, w: WaitOptions): Promise<void> {
  // visible, and editable now: not disabled, not read-only (a widget may hold its box so until the chat connects)
  const handle = await target
    .locator(selector)
    .setTimeout(w.timeoutMs)
    .filter((el) => !((el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) && (el.disabled || el.readOnly)))
    .waitHandle({ signal: w.signal });
  try {
    const focused = await handle.evaluate((el) => {
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
      return document.activeElement === el;
    });
    if (!focused) {
      throw new StepError(step, `'${selector}' did not take keyboard focus, so text cannot be inserted into it; check the selector names the message input`, {
        detail: { selector, input: 'insert' },
      });
    }
    const page = 'parentFrame' in target ? target.page() : target;
    await page.keyboard.sendCharacter(text);
    // as Locator.fill compares: the value, or the element's text with non-breaking spaces as spaces
    const held = await handle.evaluate((el) =>
      el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement ? el.value : (el as HTMLElement).innerText.replace(/\u00a0/g, ' ').trim(),
    );
    if (held !== text) {
      throw new StepError(
        step,
        `'${selector}' did not take the inserted text (it holds ${JSON.stringify(held.slice(0, 80))}); this input may need key events: use --input type`,
        {
          detail: { selector, input: 'insert' },
        },
      );
    }
  } finally {
    await handle.dispose();
  }
}

/**
 * Blur whatever has keyboard focus in each document. A focused input's
 * blinking caret repaints twice a second, which in headless Chromium doubles
 * what a waiting chat session costs (bench/fidelity/idle-cost.mjs); a session
 * that pauses between exchanges releases focus first so that its pause costs
 * what waiting costs. Nothing is measured while focus is released.
 */
export async function releaseFocus(targets: readonly (Page | Frame)[]): Promise<void> {
  await Promise.all(
    targets.map((t) =>
      t.evaluate(() => {
        const el = document.activeElement;
        if (el instanceof HTMLElement && el !== document.body) el.blur();
      }),
    ),
  );
}
