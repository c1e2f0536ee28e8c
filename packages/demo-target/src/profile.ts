import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProfile, type TargetProfile } from '@userprobe/shared';

/** The demo's target profile (resolves from src/ and dist/ alike). */
export const DEMO_PROFILE_PATH = fileURLToPath(new URL('../profile.yaml', import.meta.url));

export interface DemoVars {
  /** Visitor website origin, no trailing slash. */
  DEMO_SITE_URL: string;
  /** App origin (widget, API, console), no trailing slash. */
  DEMO_APP_URL: string;
}

export function loadDemoProfile(vars: DemoVars): TargetProfile {
  return parseProfile(readFileSync(DEMO_PROFILE_PATH, 'utf8'), DEMO_PROFILE_PATH, { ...vars });
}
