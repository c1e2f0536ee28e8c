import type { Frame, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError, type WidgetUsable } from '@userprobe/shared';
import type { CdpTargetTree } from './cdp-tree.js';
import type { WaitOptions } from './deadline.js';
import { firstVisibleAt } from './first-visible.js';
import type { NetworkCollector } from './network.js';
import { markInstant } from './timeline-watch.js';

/*
 * widget_load: the visitor page's navigation start → the profile's "usable"
 * condition, in one of three modes (`visitor.widget.usable`):
 *
 *   selector: the instant the selector was first visible in the widget frame
 *             (frame timeOrigin + now, stamped page-side) − page timeOrigin
 *   mark:     the widget frame's mark instant (frame timeOrigin + startTime) − page timeOrigin
 *   request:  (loadingFinished of the first request of the named pattern −
 *             the page's CDP NavigationStart) × 1000, both CDP monotonic seconds
 *
 * `timeOrigin` of two documents on one machine are instants on the same clock
 * (see page-probes.ts), so frame − page is a true interval.
 */

export type UsableMode = 'selector' | 'mark' | 'request';

/** How often Node polls the frame for a mark (does not affect the instant read). */
const MARK_POLL_MS = 20;

export function usableMode(u: WidgetUsable): UsableMode {
  if ('selector' in u) return 'selector';
  if ('mark' in u) return 'mark';
  return 'request';
}

/** The selector a `selector`-mode condition watches (for the first-visible watcher), if any. */
export function usableSelector(u: WidgetUsable): string | undefined {
  return 'selector' in u ? u.selector : undefined;
}

/** The mark a `mark`-mode condition waits for (for the timeline watcher), if any. */
export function usableMark(u: WidgetUsable): string | undefined {
  return 'mark' in u ? u.mark : undefined;
}

/**
 * The CDP NavigationStart of the page's current document, in CDP monotonic
 * seconds (the clock of Network event timestamps), from Performance.getMetrics.
 */
export async function cdpNavigationStart(tree: CdpTargetTree): Promise<number> {
  const session = tree.root.session;
  await session.send('Performance.enable');
  try {
    const { metrics } = await session.send('Performance.getMetrics');
    const ns = metrics.find((m) => m.name === 'NavigationStart')?.value;
    if (ns === undefined || ns <= 0) throw new Error('Performance.getMetrics reported no NavigationStart');
    return ns;
  } finally {
    await session.send('Performance.disable').catch(() => undefined);
  }
}

export interface WidgetUsableContext {
  readonly page: Page;
  /** The widget's frame (the page's main frame for an inline widget). */
  readonly frame: Frame;
  readonly tree: CdpTargetTree;
  readonly network: NetworkCollector;
}

/** ms from the page's navigation start until the widget was usable, and how that was decided. */
export async function widgetUsableMs(c: WidgetUsableContext, usable: WidgetUsable, step: string, w: WaitOptions): Promise<{ ms: number; mode: UsableMode }> {
  const pageOrigin = (): Promise<number> => c.page.evaluate(() => performance.timeOrigin);
  if ('selector' in usable) {
    const at = await firstVisibleAt(c.frame, usable.selector, step, w);
    return { ms: at - (await pageOrigin()), mode: 'selector' };
  }
  if ('mark' in usable) {
    let at: number;
    try {
      at = await markInstant(c.frame, usable.mark, { ...w, pollMs: MARK_POLL_MS });
    } catch (e) {
      if (e instanceof Error && e.name === 'TimeoutError') {
        throw new StepError(
          step,
          `the widget frame made no performance mark '${usable.mark}' within ${w.timeoutMs} ms (visitor.widget.usable.mark); raise the profile's timeouts.step if the target is this slow`,
          {
            code: ERROR_CODES.STEP_TIMEOUT,
            cause: e,
            detail: { mark: usable.mark },
          },
        );
      }
      throw e;
    }
    return { ms: at - (await pageOrigin()), mode: 'mark' };
  }
  const t = await c.network.waitForRequest(usable.request, { ...w, step });
  const finishedAt = t.record.finishedAt;
  if (finishedAt === undefined) throw new StepError(step, `request '${usable.request}' finished without a timestamp`);
  return { ms: (finishedAt - (await cdpNavigationStart(c.tree))) * 1000, mode: 'request' };
}
