import type { Frame } from 'puppeteer-core';
import type { CdpTargetTree } from './cdp-tree.js';

/*
 * Page-side Performance Timeline observers, installed in every document of a
 * page (the cross-origin widget frame included) before any of its own scripts
 * run, so nothing is missed and the Event Timing threshold is ours:
 *
 * - `largest-contentful-paint`: the latest candidate's startTime;
 * - `layout-shift`: every shift (startTime, value, hadRecentInput);
 * - `event` with `durationThreshold: 16` (the smallest the API allows; the
 *   buffered default is 104 ms, which would hide most interactions) and
 *   `first-input`: the longest duration per interactionId;
 * - `mark`: the first instant (`timeOrigin + startTime`) of each named mark,
 *   kept even if the page clears its marks later.
 *
 * Nothing is computed page-side: Node reads the raw entries and the pure
 * functions in web-vitals.ts turn them into metrics.
 */

const STATE_KEY = 'userprobe.timeline';
/** Smallest `durationThreshold` the Event Timing API accepts. */
export const EVENT_DURATION_THRESHOLD_MS = 16;

/** One layout shift: [startTime, value, hadRecentInput]. */
export type LayoutShift = readonly [number, number, boolean];

/** What the page-side observers collected in one document. */
export interface TimelineState {
  /** startTime of the latest `largest-contentful-paint` entry. */
  readonly lcp: number | undefined;
  /** startTime of `first-contentful-paint` (read from the paint timeline at read time). */
  readonly fcp: number | undefined;
  readonly shifts: readonly LayoutShift[];
  /** interactionId → longest event duration of that interaction. */
  readonly interactions: Readonly<Record<string, number>>;
  /** Duration of the `first-input` entry (always reported, whatever its duration). */
  readonly firstInput: number | undefined;
  /** Mark name → first instant (`performance.timeOrigin + startTime`). */
  readonly marks: Readonly<Record<string, number>>;
  /** The document's performance.timeOrigin. */
  readonly timeOrigin: number;
}

/** The page-side observers, as the source of a new-document script. `marks`: the mark names to keep. */
export function timelineScript(marks: readonly string[]): string {
  const install = (key: string, threshold: number, markNames: string[]): void => {
    const g = globalThis as unknown as Record<symbol, unknown>;
    const sym = Symbol.for(key);
    if (g[sym]) return;
    const st = {
      lcp: undefined as number | undefined,
      shifts: [] as Array<[number, number, boolean]>,
      interactions: {} as Record<string, number>,
      firstInput: undefined as number | undefined,
      marks: {} as Record<string, number>,
    };
    Object.defineProperty(g, sym, { value: st, enumerable: false });
    const wanted = new Set(markNames);
    const observe = (type: string, extra: Record<string, unknown>, each: (e: PerformanceEntry) => void): void => {
      try {
        new PerformanceObserver((list) => list.getEntries().forEach(each)).observe({ type, buffered: true, ...extra });
      } catch {
        // An entry type this browser does not support: its metric is simply absent.
      }
    };
    observe('largest-contentful-paint', {}, (e) => {
      st.lcp = e.startTime;
    });
    observe('layout-shift', {}, (e) => {
      const s = e as PerformanceEntry & { value: number; hadRecentInput: boolean };
      st.shifts.push([s.startTime, s.value, s.hadRecentInput]);
    });
    observe('event', { durationThreshold: threshold }, (e) => {
      const id = (e as PerformanceEntry & { interactionId?: number }).interactionId;
      if (!id) return;
      st.interactions[id] = Math.max(st.interactions[id] ?? 0, e.duration);
    });
    observe('first-input', {}, (e) => {
      st.firstInput ??= e.duration;
    });
    if (wanted.size > 0) {
      observe('mark', {}, (e) => {
        if (wanted.has(e.name) && !(e.name in st.marks)) st.marks[e.name] = performance.timeOrigin + e.startTime;
      });
    }
  };
  return `(${install.toString()})(${JSON.stringify(STATE_KEY)}, ${EVENT_DURATION_THRESHOLD_MS}, ${JSON.stringify(marks)});`;
}

/** Install the observers on every page and frame session of the tree (call before `tree.start()`). */
export function watchTimeline(tree: CdpTargetTree, marks: readonly string[]): void {
  const source = timelineScript(marks);
  tree.prepare(async (node) => {
    if (node.type !== 'page' && node.type !== 'iframe') return;
    await node.session.send('Page.enable');
    await node.session.send('Page.addScriptToEvaluateOnNewDocument', { source });
  });
}

/** What the observers of `frame`'s document collected so far; undefined when they were not installed there. */
export async function readTimeline(frame: Frame): Promise<TimelineState | undefined> {
  return frame.evaluate((key: string) => {
    const st = (globalThis as unknown as Record<symbol, Omit<TimelineState, 'fcp' | 'timeOrigin'> | undefined>)[Symbol.for(key)];
    if (!st) return undefined;
    const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime;
    return { ...st, shifts: [...st.shifts], interactions: { ...st.interactions }, marks: { ...st.marks }, fcp, timeOrigin: performance.timeOrigin };
  }, STATE_KEY);
}

/** Read `readTimeline` until `mark` was made in `frame` (the widget-usable-by-mark wait). */
export async function markInstant(frame: Frame, mark: string, opts: { timeoutMs: number; signal?: AbortSignal | undefined; pollMs: number }): Promise<number> {
  const handle = await frame.waitForFunction(
    (key: string, name: string) => {
      const st = (globalThis as unknown as Record<symbol, { marks: Record<string, number> } | undefined>)[Symbol.for(key)];
      return st?.marks[name] ?? false;
    },
    { polling: opts.pollMs, timeout: opts.timeoutMs, signal: opts.signal },
    STATE_KEY,
    mark,
  );
  const at = (await handle.jsonValue()) as unknown;
  await handle.dispose();
  if (typeof at !== 'number') throw new Error(`mark '${mark}': the page-side instant is not a number`);
  return at;
}
