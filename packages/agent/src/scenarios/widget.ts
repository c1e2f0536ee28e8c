import { randomBytes } from 'node:crypto';
import type { Frame, Page } from 'puppeteer-core';
import { StepError } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';

/** The widget's document: its iframe's frame, or the page when the widget is inline. */
export async function widgetFrame(page: Page, frameSelector: string | undefined, step: string, w: WaitOptions): Promise<Frame> {
  if (frameSelector === undefined) return page.mainFrame();
  const el = await page.waitForSelector(frameSelector, { timeout: w.timeoutMs, signal: w.signal });
  const frame = await el?.contentFrame();
  await el?.dispose();
  if (!frame) throw new StepError(step, `'${frameSelector}' (visitor.widget.frame) is not an iframe with a document`, { detail: { selector: frameSelector } });
  return frame;
}

/** A text no other session or exchange will contain. */
export function probeText(kind: 'probe' | 'reply', sessionId: string, n: number): string {
  return `${kind} ${sessionId} ${n} ${randomBytes(4).toString('hex')}`;
}
