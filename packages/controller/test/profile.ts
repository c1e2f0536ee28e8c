import { readFileSync } from 'node:fs';
import { BUNDLED_PROFILES, parseProfile, type TargetProfile } from '@userprobe/shared';

/** The bundled demo profile (profiles/demo.yaml), filled with loopback URLs (no demo server needed). */
const path = BUNDLED_PROFILES.demo!;
export const demoLikeProfile: TargetProfile = parseProfile(readFileSync(path, 'utf8'), path, {
  DEMO_SITE_URL: 'http://127.0.0.1:1', DEMO_APP_URL: 'http://127.0.0.2:1',
});
