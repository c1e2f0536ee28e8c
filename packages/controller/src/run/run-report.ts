import type { RunConfig } from '../config/config.js';
import { EXIT, type RunOutcome } from './coordinator.js';
import { renderSummary, unsuccessfulLine } from './summary.js';

/** The end of a run for the operator: the summary on stdout (or one JSON object with --json), the reason on stderr; returns the exit code. */
export function report(
  o: RunOutcome,
  cfg: Pick<RunConfig, 'runId' | 'json'>,
  io: { readonly stdout: { write(s: string): unknown } },
  progress: { note(line: string): void },
): number {
  if (o.kind === 'not-run') {
    progress.note(`controller: ${o.error.message}`);
    if (cfg.json) io.stdout.write(JSON.stringify({ runId: cfg.runId, status: 'not-run', exitCode: o.exitCode, error: o.error.toJSON() }) + '\n');
    return o.exitCode;
  }
  if (cfg.json) {
    io.stdout.write(
      JSON.stringify({
        runId: cfg.runId,
        status: o.status,
        exitCode: o.exitCode,
        summaryPath: o.summaryPath,
        error: o.error?.toJSON() ?? null,
        summary: o.summary,
      }) + '\n',
    );
  } else {
    io.stdout.write('\n' + renderSummary(o.summary) + `\nresults: ${o.summaryPath.replace(/summary\.json$/, '')}\n`);
  }
  if (o.error) progress.note(`controller: ${o.error.message}`);
  else if (o.exitCode === EXIT.SESSIONS_FAILED) progress.note(`controller: ${unsuccessfulLine(o.summary)}`);
  return o.exitCode;
}
