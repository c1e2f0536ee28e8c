import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProfile, type TargetProfile } from '@userprobe/shared';

/** The demo target's own profile, filled with loopback URLs (no demo server needed). */
const path = fileURLToPath(new URL('../../demo-target/profile.yaml', import.meta.url));
export const demoLikeProfile: TargetProfile = parseProfile(readFileSync(path, 'utf8'), path, {
  DEMO_SITE_URL: 'http://127.0.0.1:1', DEMO_APP_URL: 'http://127.0.0.2:1',
});
