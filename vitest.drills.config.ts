import { defineConfig } from 'vitest/config';

// The fault drills (packages/*/test/drills/*.drill.test.ts): controller and agents as real
// processes, faults injected as an operator meets them (a 150 s MySQL pause, a lossy link,
// kill -9). Minutes of real time, so they run after the suite: `pnpm test` runs both.
//
// Two projects: "drills" one file at a time, and "drills-waiting", the MySQL pause, whose
// 150 s are spent waiting with nothing running. scripts/drills.mjs runs the two side by
// side (one vitest process each: vitest runs the projects of one process one after the
// other), so the pause costs no wall time of its own.
const WAITING = ['packages/controller/test/drills/mysql-pause.drill.test.ts'];

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'drills', include: ['packages/*/test/drills/**/*.drill.test.ts'], exclude: WAITING } },
      { extends: true, test: { name: 'drills-waiting', include: WAITING } },
    ],
  },
});
