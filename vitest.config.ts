import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests resolve workspace packages to their TypeScript sources (the "source"
// export condition); spawned CLIs run the built dist/ (the test command builds first).
//
// Two groups, run one after the other:
//  1. "unit": files that touch no real part run two at a time (they only share the CPU);
//  2. "real-parts": files that start Chromium, the demo target, a CLI process or MariaDB
//     run one at a time, on a machine the unit files have left: browser-driving tests
//     compete for 2 cores, and timing experiments want the machine to themselves.
// A file is sorted by what it uses (REAL_PARTS below), so a new test lands in the right group
// without a list to keep.
const TEST_FILE = /^(packages\/[^/]+\/(src|test)\/.*|bench\/.*)\.test\.ts$/;
const REAL_PARTS =
  /from '(puppeteer-core|@userprobe\/testkit|@userprobe\/demo-target|node:child_process|mysql2\/promise)'|\/(processes|test-db|browser-pool|test-controller)\.js'/;

function testFiles(): string[] {
  const files: string[] = [];
  for (const top of ['packages', 'bench']) {
    for (const entry of readdirSync(top, { recursive: true, encoding: 'utf8' })) {
      const path = `${top}/${entry}`;
      if (TEST_FILE.test(path) && !path.includes('/node_modules/') && !path.includes('/dist/') && !path.endsWith('.drill.test.ts')) files.push(path);
    }
  }
  return files.sort();
}

const all = testFiles();
const usesRealParts = (file: string): boolean => REAL_PARTS.test(readFileSync(file, 'utf8'));

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // Fault drills (minutes of real time each: a 150 s MySQL pause, lossy links) run after the suite: vitest.drills.config.ts.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: all.filter((f) => !usesRealParts(f)),
          typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: 'tsconfig.typetest.json' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'real-parts',
          include: all.filter(usesRealParts),
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
