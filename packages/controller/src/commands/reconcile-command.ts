import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  SCENARIO_OPTIONS,
  ScenarioOptionsSchema,
  describeError,
  skippedMetrics,
  thresholdOfEntry,
  type BrowserKind,
  type ScenarioName,
} from '@userprobe/shared';
import { RESULT_FILES, runDir } from '../results/run-folder.js';
import { readRunResults } from '../results/run-folder-reader.js';
import { reportClosedRun } from '../results/report-file.js';
import { renderSummary, unsuccessfulLine } from '../run/summary.js';
import { openSinks, type DbSinkFactory } from '../results/sink-set.js';
import type { CommandIo } from './run-command.js';
import { closeRun } from '../run/run-closer.js';
import { judgeStored, noteStored, type MachineState } from '../run/run-machine.js';
import { fromStateFile, parseStateFile, toStateFile } from '../run/run-state-file.js';
import { metaOf, readAssignmentTemplate, storedProgress } from '../run/run-adopter.js';
import { runFolderStore } from '../results/run-results-store.js';

export interface ReconcileConfig {
  readonly runId: string;
  readonly outDir: string;
  readonly dbUrl: string | null;
  readonly json: boolean;
  /** Judge a run that is still open and within its bound (a controller may still be following it). */
  readonly force: boolean;
}

interface RunJson {
  scenario?: ScenarioName;
  browser?: BrowserKind;
  total?: number;
  status?: string;
  params?: { har?: unknown; duration?: unknown };
}

/**
 * `controller reconcile RUN`: recompute a run's verdict from what is stored —
 * batches that arrived after the run was judged (an agent's spool delivered
 * late), or a run whose controller died and that no controller re-adopted.
 * Reads the run's results folder (and run-state.json when it has one),
 * rewrites summary.json and run.json, closes run-state.json, and updates the
 * run's row in MySQL when --db is set. Exit codes as for `controller run`.
 */
export async function reconcileCommand(cfg: ReconcileConfig, io: CommandIo & { dbSinkFactory?: DbSinkFactory }): Promise<number> {
  let dir: string;
  try {
    dir = runDir(cfg.outDir, cfg.runId);
  } catch (e) {
    throw new ConfigError(describeError(e).message);
  }
  let runJson: RunJson;
  try {
    runJson = JSON.parse(await readFile(join(dir, RESULT_FILES.run), 'utf8')) as RunJson;
  } catch {
    throw new ConfigError(`no run ${cfg.runId} in ${cfg.outDir} (no ${join(dir, RESULT_FILES.run)}); pass --out with the results folder the run wrote to`);
  }
  let stateText: string | null = null;
  try {
    stateText = await readFile(join(dir, RESULT_FILES.state), 'utf8');
  } catch {
    stateText = null;
  }
  const sinks = await openSinks({ outDir: cfg.outDir, dbUrl: cfg.dbUrl, log: io.log, dbSinkFactory: io.dbSinkFactory });
  try {
    const file = stateText === null ? null : parseStateFile(stateText, join(dir, RESULT_FILES.state));
    if (file && file.status === 'open' && Date.now() < file.deadlineAt && !cfg.force) {
      throw new ConfigError(
        `run ${cfg.runId} is still open and within its bound (until ${new Date(file.deadlineAt).toISOString()}): a controller may be following it. ` +
          'Let it finish, or run `controller serve` on this results folder to re-adopt it; pass --force to judge it now anyway',
      );
    }
    const scenario = file?.scenario ?? runJson.scenario;
    const browser = file?.browser ?? runJson.browser ?? 'shell';
    if (!scenario) throw new ConfigError(`run ${cfg.runId}'s run.json names no scenario; it cannot be reconciled`);
    const state: MachineState = file
      ? fromStateFile({ ...file, status: 'open' })
      : {
          config: {
            runId: cfg.runId,
            onAgentLoss: 'reassign',
            lossGraceMs: 0,
            drainMs: 0,
            startLeadMs: 0,
            reassignSpacingMs: 0,
            durationMs: null,
            sessionTimeoutMs: 1,
          },
          startAt: 0,
          slots: new Map(),
          agents: new Map(),
          nextPart: 1,
          phase: 'running',
          abortReason: null,
          drainArmed: false,
          end: null,
          lostSessions: new Set(),
        };
    const stored = await storedProgress(cfg.outDir, cfg.runId);
    noteStored(state, stored.seqs, stored.records);
    const end = judgeStored(state);
    const { sessions } = await readRunResults(cfg.outDir, cfg.runId);
    const agentIds = new Set([...state.agents.keys(), ...sessions.map((s) => s.agentId)]);
    const now = Date.now();
    const template = await readAssignmentTemplate(cfg.outDir, cfg.runId);
    const outcome = await closeRun(
      {
        runId: cfg.runId,
        scenario,
        browser,
        har: ScenarioOptionsSchema.shape.har.safeParse(runJson.params?.har).data ?? SCENARIO_OPTIONS.har.default,
        expectedSessions: file ? (file.durationMs === null ? file.total : null) : runJson.params?.duration ? null : (runJson.total ?? null),
        skipped: template ? skippedMetrics(scenario, template.profile) : undefined,
        agents: [...agentIds].map((agentId) => ({
          agentId,
          name: state.agents.get(agentId)?.name ?? agentId,
          location: sessions.find((s) => s.agentId === agentId)?.location ?? '?',
        })),
        finished: new Map([...state.agents].filter(([, a]) => a.finished !== null).map(([id, a]) => [id, a.finished!])),
        state,
        end,
        endedAt: now,
        thresholds: (file?.thresholds ?? []).map(thresholdOfEntry),
      },
      {
        sinks: sinks.all,
        log: io.log,
        results: runFolderStore(cfg.outDir, sinks.results),
      },
    );
    if (file) await sinks.results.writeRunJson(cfg.runId, RESULT_FILES.state, toStateFile(metaOf(file), state, file.endedAt ?? now));
    await reportClosedRun(cfg.outDir, cfg.runId, outcome, { note: (line) => io.stderr.write(`${line}\n`) });
    if (cfg.json) {
      io.stdout.write(
        JSON.stringify({
          runId: cfg.runId,
          status: outcome.status,
          exitCode: outcome.exitCode,
          summaryPath: outcome.summaryPath,
          error: outcome.error?.toJSON() ?? null,
          summary: outcome.summary,
        }) + '\n',
      );
    } else {
      io.stdout.write(`\n${renderSummary(outcome.summary)}\nreconciled: ${outcome.summaryPath}\n`);
      if (outcome.error) io.stderr.write(`controller: ${outcome.error.message}\n`);
      else if (outcome.exitCode === 1) io.stderr.write(`controller: ${unsuccessfulLine(outcome.summary)}\n`);
    }
    return outcome.exitCode;
  } finally {
    await sinks.close();
  }
}
