import type { LayoutShift, TimelineState } from './timeline-watch.js';

/*
 * Web vitals from the raw timeline entries one or more documents collected
 * (timeline-watch.ts). Pure: no page, no clock.
 *
 *   fcp = startTime of `first-contentful-paint` (top document)
 *   lcp = startTime of the latest `largest-contentful-paint` candidate (top document)
 *   cls = the largest session window of layout-shift values without recent
 *         input; a window ends after a gap of 1 s or once it spans 5 s (the
 *         web-vitals library's definition)
 *   inp = the longest interaction (the worst one, not the 98th percentile:
 *         a session has a handful of interactions) over all given documents;
 *         when no interaction reached the 16 ms Event Timing threshold, the
 *         `first-input` duration (always reported) stands in; absent when no
 *         input happened at all.
 */

/** A layout-shift session window closes after this gap… */
export const CLS_WINDOW_GAP_MS = 1_000;
/** …or once it spans this long. */
export const CLS_WINDOW_MAX_MS = 5_000;

export interface WebVitals {
  readonly fcp: number | undefined;
  readonly lcp: number | undefined;
  readonly cls: number | undefined;
  readonly inp: number | undefined;
}

/** Largest session window of shifts without recent input; 0 when there was none. */
export function clsFromShifts(shifts: readonly LayoutShift[]): number {
  let best = 0;
  let sum = 0;
  let first = Number.NEGATIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const [t, value, hadRecentInput] of [...shifts].sort((a, b) => a[0] - b[0])) {
    if (hadRecentInput) continue;
    if (t - last > CLS_WINDOW_GAP_MS || t - first > CLS_WINDOW_MAX_MS) {
      sum = 0;
      first = t;
    }
    sum += value;
    last = t;
    best = Math.max(best, sum);
  }
  return best;
}

/** The worst interaction over the documents; undefined when none had any input. */
export function inpFromDocuments(docs: ReadonlyArray<Pick<TimelineState, 'interactions' | 'firstInput'>>): number | undefined {
  let worst: number | undefined;
  for (const d of docs) {
    for (const v of Object.values(d.interactions)) worst = Math.max(worst ?? 0, v);
  }
  if (worst !== undefined) return worst;
  const firsts = docs.map((d) => d.firstInput).filter((v): v is number => v !== undefined);
  return firsts.length > 0 ? Math.max(...firsts) : undefined;
}

/**
 * The vitals of a page: paint and layout from its top document, interactions
 * from the top document and `frames` (the widget frame, where the visitor acts).
 */
export function webVitals(top: TimelineState, frames: readonly TimelineState[] = []): WebVitals {
  return {
    fcp: top.fcp,
    lcp: top.lcp,
    cls: clsFromShifts(top.shifts),
    inp: inpFromDocuments([top, ...frames]),
  };
}
