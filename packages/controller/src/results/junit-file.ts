import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { describeError, type ScenarioName } from '@userprobe/shared';
import type { RunOutcome } from '../run/run-closer.js';
import { summarizeRun } from '../run/summary.js';
import { junitReport } from './junit-report.js';

/**
 * `--junit FILE` at the end of `controller run`: the outcome and the run's
 * unsuccessful sessions (the rows the run closed with) as JUnit XML. A run that
 * never started is one failed "run completed" case over an empty summary. A file
 * that cannot be written is said on stderr; the run's exit code stays the run's.
 */
export async function writeJunit(
  cfg: { readonly junitFile: string | null; readonly runId: string; readonly scenario: ScenarioName },
  o: RunOutcome,
  startedAt: Date,
  progress: { note(line: string): void },
): Promise<void> {
  if (cfg.junitFile === null) return;
  const summary =
    o.kind === 'completed'
      ? o.summary
      : summarizeRun({ runId: cfg.runId, scenario: cfg.scenario, expectedSessions: null, agents: [], samples: [], sessions: [] });
  const xml = junitReport({
    summary,
    runError: o.error === null ? null : { code: o.error.code, message: o.error.message },
    unsuccessful: o.kind === 'completed' ? o.rows.sessions.filter((s) => s.status !== 'ok') : [],
    agentNames: new Map(summary.agents.map((a) => [a.agentId, a.name])),
    startedAt: startedAt.toISOString(),
    durationS: (Date.now() - startedAt.getTime()) / 1000,
    hostname: hostname(),
  });
  try {
    await writeFile(cfg.junitFile, xml);
    progress.note(`junit: ${cfg.junitFile}`);
  } catch (e) {
    progress.note(`junit: could not write ${cfg.junitFile}: ${describeError(e).message}`);
  }
}
