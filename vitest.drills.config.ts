import { defineConfig } from 'vitest/config';

// The fault drills (packages/*/test/drills/*.drill.test.ts): controller and agents as real
// processes, faults injected as an operator meets them (a 150 s MySQL pause, a lossy link,
// kill -9). Minutes of real time, mostly spent waiting.
//
// Three projects, each run as its own vitest process side by side (scripts/lib/streams.mjs;
// a vitest process runs its projects one after the other): "drills-waiting", the MySQL
// pause, whose 150 s are spent waiting with nothing running; "drills-monitor", the monitoring
// daemon's 20 rounds per check on a grid of 10-11 s; "drills", the others, one file at a time.
// `pnpm test` runs them beside the suite's functional tests (scripts/suite.mjs); a drill
// waits for events and passes on a busy machine, as the suite's functional tests do.
const WAITING = ['packages/controller/test/drills/mysql-pause.drill.test.ts'];
const MONITOR = ['packages/controller/test/drills/monitor.drill.test.ts'];

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'drills', include: ['packages/*/test/drills/**/*.drill.test.ts'], exclude: [...WAITING, ...MONITOR] } },
      { extends: true, test: { name: 'drills-monitor', include: MONITOR } },
      { extends: true, test: { name: 'drills-waiting', include: WAITING } },
    ],
  },
});
