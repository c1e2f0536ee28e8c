import { describe, expect, it } from 'vitest';
import { navBreakdown, type NavTimingFields } from './navigation.js';
import type { LayoutShift, TimelineState } from './timeline-watch.js';
import { clsFromShifts, inpFromDocuments, webVitals } from './web-vitals.js';

describe('clsFromShifts', () => {
  const table: Array<[string, LayoutShift[], number]> = [
    ['no shifts', [], 0],
    [
      'one window',
      [
        [100, 0.1, false],
        [600, 0.05, false],
      ],
      0.15,
    ],
    [
      'shifts after input are ignored',
      [
        [100, 0.1, false],
        [200, 0.3, true],
      ],
      0.1,
    ],
    [
      'a 1 s gap starts a new window; the largest wins',
      [
        [100, 0.1, false],
        [1200, 0.2, false],
        [1300, 0.05, false],
      ],
      0.25,
    ],
    [
      'a window spans at most 5 s',
      [
        [0, 0.1, false],
        [900, 0.1, false],
        [1800, 0.1, false],
        [2700, 0.1, false],
        [3600, 0.1, false],
        [4500, 0.1, false],
        [5400, 0.1, false],
      ],
      0.6,
    ],
    [
      'unsorted input is sorted first',
      [
        [1300, 0.05, false],
        [100, 0.1, false],
        [1200, 0.2, false],
      ],
      0.25,
    ],
  ];
  for (const [name, shifts, expected] of table) {
    it(name, () => expect(clsFromShifts(shifts)).toBeCloseTo(expected, 10));
  }
});

describe('inpFromDocuments', () => {
  const doc = (interactions: Record<string, number>, firstInput?: number) => ({ interactions, firstInput });
  const table: Array<[string, Array<ReturnType<typeof doc>>, number | undefined]> = [
    ['no input anywhere', [doc({}), doc({})], undefined],
    ['the worst interaction over all documents', [doc({ 1: 24, 2: 40 }), doc({ 7: 72 })], 72],
    ['only fast input: first-input stands in', [doc({}, 8), doc({})], 8],
    ['interactions beat a first-input', [doc({ 3: 16 }, 8)], 16],
  ];
  for (const [name, docs, expected] of table) it(name, () => expect(inpFromDocuments(docs)).toBe(expected));
});

describe('webVitals', () => {
  it('takes paint and layout from the top document, interactions from every document', () => {
    const base: TimelineState = { lcp: 120, fcp: 80, shifts: [[50, 0.02, false]], interactions: {}, firstInput: undefined, marks: {}, timeOrigin: 0 };
    const widget: TimelineState = { ...base, lcp: 999, fcp: 999, shifts: [[1, 0.9, false]], interactions: { 5: 48 } };
    expect(webVitals(base, [widget])).toEqual({ fcp: 80, lcp: 120, cls: 0.02, inp: 48 });
    expect(webVitals(base)).toEqual({ fcp: 80, lcp: 120, cls: 0.02, inp: undefined });
  });
});

describe('navBreakdown', () => {
  const http: NavTimingFields = {
    startTime: 0,
    domainLookupStart: 2,
    domainLookupEnd: 7,
    connectStart: 7,
    secureConnectionStart: 0,
    connectEnd: 10,
    responseStart: 160,
    domContentLoadedEventEnd: 200,
    loadEventEnd: 260,
  };
  it('http: no TLS part, TCP is the whole connect', () => {
    expect(navBreakdown(http)).toEqual({ dns: 5, tcp: 3, tls: undefined, ttfb: 160, dcl: 200, load: 260 });
  });
  it('https: TLS split off the connect', () => {
    expect(navBreakdown({ ...http, secureConnectionStart: 9, connectEnd: 30 })).toEqual({ dns: 5, tcp: 2, tls: 21, ttfb: 160, dcl: 200, load: 260 });
  });
  it('a reused connection: zero DNS and TCP', () => {
    expect(navBreakdown({ ...http, domainLookupStart: 1, domainLookupEnd: 1, connectStart: 1, connectEnd: 1 })).toMatchObject({
      dns: 0,
      tcp: 0,
      tls: undefined,
    });
  });
});
