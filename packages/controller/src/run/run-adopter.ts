import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AssignmentSchema, SCENARIO_OPTIONS, describeError, skippedMetrics, thresholdOfEntry, type Assignment, type SessionStatus } from '@userprobe/shared';
import type { AgentPool } from '../hub/agent-pool.js';
import type { Progress } from './progress.js';
import { RESULT_FILES, type BatchKeyLine, type SessionLine } from '../results/run-folder.js';
import { readJsonl } from '../results/run-folder-reader.js';
import type { Sink } from '../results/sink.js';
import type { EvidenceBudget, EvidenceUsage } from '../results/evidence-store.js';
import { closeRun, type RunOutcome, type RunResultsStore } from './run-closer.js';
import { RunDriver } from './run-driver.js';
import { noteStored, type Command, type MachineState } from './run-machine.js';
import type { RunRegistry } from './run-registry.js';
import { fromStateFile, parseStateFile, toStateFile, type RunMeta, type RunStateFile } from './run-state-file.js';

/*
 * Runs left open by a controller that died (SIGKILL, a crash, a lost machine):
 * a restarted controller (`controller serve` on the same results folder)
 * re-adopts each one. It restores the run's state from run-state.json, learns
 * what is already durable from the results folder, gives every agent of the
 * run the loss grace to come back and say what it holds (agents reconnect by
 * themselves and keep their unacknowledged batches spooled), then follows the
 * run as its first controller would — reassigning a lost agent's unstarted
 * sessions — and closes it with a summary. No run stays open past its bound.
 */

export interface AdoptDeps {
  readonly outDir: string;
  readonly pool: AgentPool;
  readonly registry: RunRegistry;
  readonly sinks: readonly Sink[];
  readonly results: RunResultsStore & { writeRunJson(runId: string, file: string, value: unknown): Promise<unknown> };
  readonly progress: Progress;
  readonly log: Logger;
  readonly now: () => number;
  readonly evidence?: { usage(runId: string): Promise<EvidenceUsage & { readonly budget: EvidenceBudget }> };
}

/** A run being followed again; `closed` resolves with its outcome. */
export interface AdoptedRun {
  readonly runId: string;
  readonly closed: Promise<Extract<RunOutcome, { kind: 'completed' }>>;
  abort(reason: string): void;
}

/** The run-state files of the results folder that are still open. */
export async function openRunStates(outDir: string, log: Logger): Promise<RunStateFile[]> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: RunStateFile[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(outDir, name, RESULT_FILES.state);
    try {
      const f = parseStateFile(await readFile(path, 'utf8'), path);
      if (f.status === 'open') out.push(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') {
        log.warn({ path, err: describeError(e) }, 'a run state file could not be read; that run is not re-adopted');
      }
    }
  }
  return out;
}

/** What the results folder already holds of a run: stored batch seqs per agent and the session records. */
export async function storedProgress(
  outDir: string,
  runId: string,
): Promise<{ seqs: Map<string, number[]>; records: { sessionId: string; status: SessionStatus }[] }> {
  const dir = join(outDir, runId);
  const [batches, sessions] = await Promise.all([
    readJsonl<BatchKeyLine>(join(dir, RESULT_FILES.batches)),
    readJsonl<SessionLine>(join(dir, RESULT_FILES.sessions)),
  ]);
  const seqs = new Map<string, number[]>();
  for (const b of batches) seqs.set(b.agentId, [...(seqs.get(b.agentId) ?? []), b.seq]);
  return { seqs, records: sessions.map((s) => ({ sessionId: s.sessionId, status: s.status })) };
}

export function metaOf(f: RunStateFile): RunMeta {
  return {
    runId: f.runId,
    scenario: f.scenario,
    browser: f.browser,
    targetName: f.targetName,
    total: f.total,
    startedAt: f.startedAt,
    deadlineAt: f.deadlineAt,
    thresholds: (f.thresholds ?? []).map(thresholdOfEntry),
  };
}

/** Everything a re-adoption reads from disk, read before the hub listens (so no agent's event can come before its run is followed). */
export interface PreparedRun {
  readonly file: RunStateFile;
  readonly stored: Awaited<ReturnType<typeof storedProgress>>;
  readonly template: Assignment | null;
}

export async function prepareAdoption(outDir: string, log: Logger): Promise<PreparedRun[]> {
  const out: PreparedRun[] = [];
  for (const file of await openRunStates(outDir, log)) {
    out.push({ file, stored: await storedProgress(outDir, file.runId), template: await readAssignmentTemplate(outDir, file.runId) });
  }
  return out;
}

/**
 * Re-adopt one open run: synchronous from here on, so call it right after the
 * hub starts listening (before any agent's event can be handled).
 */
export function adoptRun(p: PreparedRun, d: AdoptDeps): AdoptedRun {
  const f = p.file;
  const log = d.log.child({ component: 'adopter', runId: f.runId });
  const state: MachineState = fromStateFile(f);
  noteStored(state, p.stored.seqs, p.stored.records);
  const meta = metaOf(f);
  d.registry.set(f);
  const persist = async (s: MachineState): Promise<void> => {
    const file = toStateFile(meta, s, s.phase === 'ended' ? d.now() : null);
    d.registry.set(file);
    await d.results.writeRunJson(f.runId, RESULT_FILES.state, file);
  };
  const away = [...state.agents.values()].filter((a) => a.inRun && !a.lost && a.finished === null);
  d.progress.note(
    `re-adopting run ${f.runId} (${f.scenario}, ${f.total} session(s)): waiting up to ${Math.round(f.config.lossGraceMs / 1000)} s for ` +
      `${away.map((a) => a.name).join(', ') || 'no agent'} to come back`,
  );
  const first: Command[] = away.map((a) => ({ kind: 'timer', key: `loss:${a.agentId}`, ms: f.config.lossGraceMs }));
  first.push({ kind: 'persist' });
  const template = p.template;
  const driver = new RunDriver(state, {
    pool: d.pool,
    progress: d.progress,
    log,
    now: d.now,
    scenario: f.scenario,
    persist,
    onDeadline: (at) => {
      meta.deadlineAt = Math.max(meta.deadlineAt, at);
    },
    // Reassigned parts reuse the run's first assignment (profile, options), kept in its results folder.
    assignment: (part) => {
      if (!template) {
        throw new Error(
          `run ${f.runId} has no ${RESULT_FILES.assignment} in its results folder, so its sessions cannot be reassigned; ` +
            'they are recorded as not run (`controller reconcile` judges the run from what is stored)',
        );
      }
      return { ...template, part: part.part, sessions: [...part.sessions], startAt: part.startAt, durationMs: part.durationMs };
    },
  });
  const boundMs = Math.max(f.deadlineAt - d.now(), f.config.lossGraceMs + f.config.drainMs);
  // start() subscribes and arms the loss timers at once; agents already here are fed as back; then judge what is stored.
  const ended = driver.start(first, boundMs);
  for (const h of d.pool.agents()) {
    driver.dispatch({
      kind: 'connected',
      agent: { agentId: h.info.agentId, name: h.info.name, capacity: h.info.capacity[f.scenario], instanceId: h.hello.instanceId },
      runs: h.hello.runs,
    });
  }
  driver.dispatch({ kind: 'restored' });
  const closed = ended.then((end) => {
    const s = driver.state;
    return closeRun(
      {
        runId: f.runId,
        scenario: f.scenario,
        browser: f.browser,
        har: template?.options.har ?? SCENARIO_OPTIONS.har.default,
        expectedSessions: f.durationMs === null ? f.total : null,
        skipped: template ? skippedMetrics(f.scenario, template.profile) : undefined,
        agents: [...s.agents.values()]
          .filter((a) => a.inRun || a.parts.length > 0)
          .map((a) => ({ agentId: a.agentId, name: a.name, location: locationOf(d.pool, a.agentId) })),
        finished: new Map([...s.agents].filter(([, a]) => a.finished !== null).map(([id, a]) => [id, a.finished!])),
        state: s,
        end,
        endedAt: d.now(),
        thresholds: (f.thresholds ?? []).map(thresholdOfEntry),
      },
      { sinks: d.sinks, results: d.results, log, evidence: d.evidence },
    );
  });
  return { runId: f.runId, closed, abort: (reason) => driver.abort(reason) };
}

function locationOf(pool: AgentPool, agentId: string): string {
  return pool.agent(agentId)?.info.location ?? '?';
}

/** The run's first assignment as the coordinator wrote it (`assignment.json`): what a reassigned part is made from. */
export async function readAssignmentTemplate(outDir: string, runId: string): Promise<Assignment | null> {
  try {
    return AssignmentSchema.parse(JSON.parse(await readFile(join(outDir, runId, RESULT_FILES.assignment), 'utf8')));
  } catch {
    return null;
  }
}
