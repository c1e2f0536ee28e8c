import { defineConfig } from 'vitest/config';

// Tests resolve workspace packages to their TypeScript sources (the "source"
// export condition); spawned CLIs run the built dist/ (the test command builds first).
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Fault drills (minutes of real time each: a 150 s MySQL pause, lossy links) run after the suite: vitest.drills.config.ts.
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.drill.test.ts'],
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: 'tsconfig.typetest.json' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Browser-driving tests compete for 2 cores; timing assertions need a quiet machine.
    fileParallelism: false,
    pool: 'forks',
  },
});
