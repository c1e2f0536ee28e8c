import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Tests resolve workspace packages to their TypeScript sources (the "source"
// export condition); spawned CLIs run the built dist/ (the test command builds first).
//
// Three groups, run one after the other:
//  1. "unit": files that touch no real part run two at a time (they only share the CPU);
//  2. "real-parts": files that start Chromium, the demo target, a CLI process or MariaDB
//     run one at a time (browser-driving tests compete for 2 cores); they are functional:
//     they wait for events, not for time, and pass on a busy machine;
//  3. "timing": the experiments that prove a measured value equals an injected delay, or
//     compare timings (files that use the testkit's experiment helpers or say they are one:
//     EXPERIMENT_HELPERS, TIMING_MARK below), one at a time, last.
// `pnpm test` (scripts/suite.mjs) runs groups 1-2 beside the fault drills, then group 3 with
// the machine to itself: on a quiet machine an experiment's bar stays close to the stated
// accuracy, so a 15 ms error in a collector fails.
// A file is sorted by what it uses (REAL_PARTS, EXPERIMENT_HELPERS), so a new test lands in the right
// group without a list to keep.
const TEST_FILE = /^(packages\/[^/]+\/(src|test)\/.*|bench\/.*)\.test\.ts$/;
const REAL_PARTS =
  /from '(puppeteer-core|@userprobe\/testkit|@userprobe\/demo-target|node:child_process|mysql2\/promise)'|\/(processes|test-db|browser-pool|test-controller)\.js'/;
// A timing experiment is a real-parts file that uses the testkit's experiment helpers (the
// testkit's own tests of them are unit tests), or a file that says it is one at the start of a
// line: `// vitest-group: timing — why`.
const EXPERIMENT_HELPERS = /\b(runExperiment|doseResponse|judgeDelay|judgeAgreement|judgeOffset|ReferenceClient|MachineWatch)\b/;
const TIMING_MARK = /^\/\/ vitest-group: timing\b/m;

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
const source = new Map(all.map((f) => [f, readFileSync(f, 'utf8')]));
const usesRealParts = (file: string): boolean => REAL_PARTS.test(source.get(file)!);
const isTiming = (file: string): boolean => TIMING_MARK.test(source.get(file)!) || (usesRealParts(file) && EXPERIMENT_HELPERS.test(source.get(file)!));

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // Fault drills (minutes of real time each: a 150 s MySQL pause, lossy links): vitest.drills.config.ts, run beside groups 1-2 by scripts/suite.mjs.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: all.filter((f) => !usesRealParts(f) && !isTiming(f)),
          typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: 'tsconfig.typetest.json' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'real-parts',
          include: all.filter((f) => usesRealParts(f) && !isTiming(f)),
          fileParallelism: false,
          // it.concurrent cases (cli.test.ts: one CLI process each) two at a time: 2 cores, and each case's timeout
          // runs from its own start, so more at once only makes each one slower (5 at once timed out on a loaded run).
          maxConcurrency: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timing',
          include: all.filter(isTiming),
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
