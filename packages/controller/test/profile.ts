import { readFileSync } from 'node:fs';
import { BUNDLED_PROFILES, parseProfile, type TargetProfile } from '@userprobe/shared';

const path = BUNDLED_PROFILES.demo!;
/** The bundled demo profile (profiles/demo.yaml), filled with loopback URLs (no demo server needed). */
export const demoLikeProfile: TargetProfile = parseProfile(readFileSync(path, 'utf8'), path, {
  DEMO_SITE_URL: 'http://127.0.0.1:1',
  DEMO_APP_URL: 'http://127.0.0.2:1',
});
