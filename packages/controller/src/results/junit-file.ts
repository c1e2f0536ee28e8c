import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { describeError, type ScenarioName } from '@userprobe/shared';
import type { RunOutcome } from '../run/run-closer.js';
import { junitReport } from './junit-report.js';
import { readRunResults } from './run-folder-reader.js';

/**
 * `--junit FILE` at the end of `controller run`: the outcome and the run's
 * unsuccessful sessions (from its results folder) as JUnit XML. A run that
 * never started is one failed "run completed" case. A file that cannot be
 * written is said on stderr; the run's exit code stays the run's.
 */
export async function writeJunit(
  cfg: { readonly junitFile: string | null; readonly outDir: string; readonly runId: string; readonly scenario: ScenarioName },
  o: RunOutcome,
  startedAt: Date,
  progress: { note(line: string): void },
): Promise<void> {
  if (cfg.junitFile === null) return;
  const durationS = (Date.now() - startedAt.getTime()) / 1000;
  let xml: string;
  if (o.kind === 'not-run') {
    xml = junitReport({
      summary: {
        runId: cfg.runId,
        scenario: cfg.scenario,
        browser: null,
        evidence: null,
        ramp: null,
        sessions: { expected: null, recorded: 0, ok: 0, failed: 0, aborted: 0, missing: 0, lost: 0, notRun: 0, reassigned: 0 },
        partial: { sessions: 0, samples: 0 },
        gapIds: { lost: [], notRun: [] },
        metrics: [],
        agents: [],
        failedSteps: [],
        abortedSteps: [],
        thresholds: [],
        stoppedBy: null,
      },
      runError: { code: o.error.code, message: o.error.message },
      unsuccessful: [],
      agentNames: new Map(),
      startedAt: startedAt.toISOString(),
      durationS,
      hostname: hostname(),
    });
  } else {
    const { sessions } = await readRunResults(cfg.outDir, cfg.runId);
    xml = junitReport({
      summary: o.summary,
      runError: o.error === null ? null : { code: o.error.code, message: o.error.message },
      unsuccessful: sessions.filter((s) => s.status !== 'ok'),
      agentNames: new Map(o.summary.agents.map((a) => [a.agentId, a.name])),
      startedAt: startedAt.toISOString(),
      durationS,
      hostname: hostname(),
    });
  }
  try {
    await writeFile(cfg.junitFile, xml);
    progress.note(`junit: ${cfg.junitFile}`);
  } catch (e) {
    progress.note(`junit: could not write ${cfg.junitFile}: ${describeError(e).message}`);
  }
}
