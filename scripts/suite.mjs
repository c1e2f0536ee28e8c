#!/usr/bin/env node
// Runs the checks, the test suite and the fault drills in two phases (`pnpm test` runs this
// after `tsc -b`, which builds the dist/ the spawned CLIs run):
//
//  1. side by side: the checks (the tests' type check, ESLint, Prettier's check, the structure
//     check, one after the other); the suite's "unit" and "real-parts" projects
//     (vitest.config.ts; one vitest process, the projects one after the other); and the fault
//     drills' projects (vitest.drills.config.ts, one process each). These tests are
//     functional: they wait for events, not for time, and pass on a busy machine.
//  2. alone: the "timing" project, the experiments that prove a measured value equals an
//     injected delay. They are judged against the noise they measure, so on a quiet machine
//     their bar stays close to the stated accuracy and a 15 ms error in a collector fails.
//
// Phase 2 runs even when phase 1 failed, and every check runs even when one before it failed,
// so one run reports everything; the exit code is non-zero when anything failed (128 + the
// signal when stopped by SIGINT or SIGTERM). Extra arguments go to every vitest process (with
// a file filter, a process that has no such file passes).
import { drillStreams, interrupted, report, runSideBySide } from './lib/streams.mjs';

const CHECKS = ['npx tsc -p tsconfig.tests.json', 'npx eslint .', 'npx prettier --check .', 'node scripts/check-structure.mjs'];
const checks = `rc=0; ${CHECKS.map((c) => `${c} || rc=1;`).join(' ')} exit $rc`;

const given = process.argv.slice(2);
const extra = given.length > 0 ? ['--passWithNoTests', ...given] : [];
const started = Date.now();
const first = await runSideBySide([
  { name: 'checks', command: 'sh', args: ['-c', checks] },
  { name: 'suite', command: 'npx', args: ['vitest', 'run', '--project', 'unit', '--project', 'real-parts', ...extra] },
  ...drillStreams(given),
]);
const second = await runSideBySide([{ name: 'timing', command: 'npx', args: ['vitest', 'run', '--project', 'timing', ...extra] }]);
const passed = [report('phase 1', first), report('phase 2', second)];
const stopped = interrupted();
const ok = stopped === null && passed.every(Boolean);
process.stdout.write(`[suite] ${stopped !== null ? 'STOPPED' : ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
process.exit(stopped ?? (ok ? 0 : 1));
