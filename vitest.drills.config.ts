import { defineConfig } from 'vitest/config';

// The fault drills (packages/*/test/drills/*.drill.test.ts): controller and agents as real
// processes, faults injected as an operator meets them (a 150 s MySQL pause, a lossy link,
// kill -9). Minutes of real time, so they run after the suite: `pnpm test` runs both.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/test/drills/**/*.drill.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
