import type { Page } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import type { WaitOptions } from './deadline.js';

/*
 * The navigation timing breakdown of a page's current document, from its
 * PerformanceNavigationTiming entry (every field is ms from navigation start,
 * startTime = 0, on the browser's monotonic clock):
 *
 *   dns  = domainLookupEnd − domainLookupStart (0: no lookup — IP literal, cache, reused connection)
 *   tcp  = (secureConnectionStart > 0 ? secureConnectionStart : connectEnd) − connectStart
 *   tls  = connectEnd − secureConnectionStart, only when secureConnectionStart > 0 (https, new connection)
 *   ttfb = responseStart − startTime
 *   dcl  = domContentLoadedEventEnd − startTime
 *   load = loadEventEnd − startTime
 */

/** The fields of PerformanceNavigationTiming the breakdown reads. */
export interface NavTimingFields {
  readonly startTime: number;
  readonly domainLookupStart: number;
  readonly domainLookupEnd: number;
  readonly connectStart: number;
  readonly secureConnectionStart: number;
  readonly connectEnd: number;
  readonly responseStart: number;
  readonly domContentLoadedEventEnd: number;
  readonly loadEventEnd: number;
}

export interface NavBreakdown {
  readonly dns: number;
  readonly tcp: number;
  /** Absent when the navigation set up no TLS connection. */
  readonly tls: number | undefined;
  readonly ttfb: number;
  readonly dcl: number;
  readonly load: number;
}

export const NAV_PARTS = ['dns', 'tcp', 'tls', 'ttfb', 'dcl', 'load'] as const;
export type NavPart = (typeof NAV_PARTS)[number];

/** How often Node polls for the load event's end (does not affect the values read). */
const LOAD_POLL_MS = 10;

/** Pure: the breakdown of one navigation entry. */
export function navBreakdown(t: NavTimingFields): NavBreakdown {
  const tls = t.secureConnectionStart > 0;
  return {
    dns: t.domainLookupEnd - t.domainLookupStart,
    tcp: (tls ? t.secureConnectionStart : t.connectEnd) - t.connectStart,
    tls: tls ? t.connectEnd - t.secureConnectionStart : undefined,
    ttfb: t.responseStart - t.startTime,
    dcl: t.domContentLoadedEventEnd - t.startTime,
    load: t.loadEventEnd - t.startTime,
  };
}

/** Wait until the page's load event has finished, then read its navigation entry. */
export async function readNavigation(page: Page, step: string, opts: WaitOptions): Promise<NavBreakdown> {
  try {
    const handle = await page.waitForFunction(
      () => {
        const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
        if (!n || n.loadEventEnd <= 0) return false;
        return {
          startTime: n.startTime,
          domainLookupStart: n.domainLookupStart,
          domainLookupEnd: n.domainLookupEnd,
          connectStart: n.connectStart,
          secureConnectionStart: n.secureConnectionStart,
          connectEnd: n.connectEnd,
          responseStart: n.responseStart,
          domContentLoadedEventEnd: n.domContentLoadedEventEnd,
          loadEventEnd: n.loadEventEnd,
        };
      },
      { polling: LOAD_POLL_MS, timeout: opts.timeoutMs, signal: opts.signal },
    );
    const fields = (await handle.jsonValue()) as NavTimingFields;
    await handle.dispose();
    return navBreakdown(fields);
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') {
      throw new StepError(step, `the page's load event did not finish within ${opts.timeoutMs} ms`, { code: ERROR_CODES.STEP_TIMEOUT, cause: e });
    }
    throw e;
  }
}
