#!/usr/bin/env node
// Runs the fault drills (vitest.drills.config.ts) alone: each drills project as its own vitest
// process, side by side, each line prefixed with its project; exits non-zero when any fails.
// Extra arguments go to every process (e.g. a file filter, --reporter verbose).
// `pnpm test` runs them through scripts/suite.mjs, beside the suite's first phase.
import { drillStreams, interrupted, report, runSideBySide } from './lib/streams.mjs';

const ok = report('drills', await runSideBySide(drillStreams(process.argv.slice(2))));
process.exit(interrupted() ?? (ok ? 0 : 1));
