import type { MetricName } from '@userprobe/shared';
import type { Recorder } from '../runner/scenario-api.js';
import { NAV_PARTS, type NavBreakdown, type NavPart } from './navigation.js';
import type { WebVitals } from './web-vitals.js';

/*
 * Navigation and web-vital samples of one page. Each page role has its own
 * metric names (`nav_ttfb_visitor`, `nav_ttfb_agent`, …) rather than one name
 * with the role in `detail`: the summary, the rollups and Grafana's panels
 * aggregate by metric name, and a percentile over two different pages would
 * mean nothing.
 */

export const PAGE_ROLES = ['visitor', 'agent'] as const;
export type PageRole = (typeof PAGE_ROLES)[number];

export const VITALS = ['fcp', 'lcp', 'cls', 'inp'] as const;
export type Vital = (typeof VITALS)[number];

export function navMetric(part: NavPart, role: PageRole): MetricName {
  const name: `nav_${NavPart}_${PageRole}` = `nav_${part}_${role}`;
  return name;
}

export function vitalMetric(vital: Vital, role: PageRole): MetricName {
  const name: `web_${Vital}_${PageRole}` = `web_${vital}_${role}`;
  return name;
}

/** Record the breakdown; a part that did not happen (tls without TLS) records nothing. */
export function recordNavigation(recorder: Recorder, role: PageRole, b: NavBreakdown): void {
  for (const part of NAV_PARTS) {
    const v = b[part];
    if (v !== undefined) recorder.value(navMetric(part, role), v);
  }
}

/** Record the vitals that were observed; an absent one (no input → no INP) records nothing. */
export function recordWebVitals(recorder: Recorder, role: PageRole, v: WebVitals): void {
  for (const vital of VITALS) {
    const value = v[vital];
    if (value !== undefined) recorder.value(vitalMetric(vital, role), value);
  }
}
