import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ERROR_CODES, describeError, type MetricBatch } from '@userprobe/shared';
import { RESULT_FILES, runDir } from '../results/run-folder.js';
import { parseStateFile, type RunStateFile } from './run-state-file.js';
import { parseSessionId } from './session-ids.js';

/*
 * What the hub checks before it stores a batch: the controller trusts an agent
 * only for the runs and sessions it assigned to it. Runs are known from their
 * run-state files (`<out>/<runId>/run-state.json`): kept in memory while this
 * controller follows them, read from disk for any other (a run of an earlier
 * controller process whose batches arrive late from an agent's spool).
 */

/** Stored times may stray this far outside a run's window (clock-offset estimates, agents' spools). */
export const RUN_TIME_SLACK_MS = 5 * 60_000;

export type BatchVerdict = { readonly ok: true } | { readonly ok: false; readonly retryable: boolean; readonly code: string; readonly reason: string };

type StateIndex = { readonly slots: ReadonlyMap<string, RunStateFile['slots'][number]>; readonly agents: ReadonlySet<string> };
/** Per state file (a new object each time the run's state is written): its slots by id and every agent that held one. */
const indexes = new WeakMap<RunStateFile, StateIndex>();

/** A lookup per batch instead of a walk over every slot: a run over 5,000 agents checks 5,000 batches at once. */
function indexOf(f: RunStateFile): StateIndex {
  let ix = indexes.get(f);
  if (!ix) {
    const agents = new Set<string>();
    for (const s of f.slots) {
      if (s.agentId !== null) agents.add(s.agentId);
      for (const m of s.movedFrom) agents.add(m.agentId);
    }
    ix = { slots: new Map(f.slots.map((s) => [s.slot, s])), agents };
    indexes.set(f, ix);
  }
  return ix;
}

/**
 * Pure: did the run give this session to `agentId`? Its slot's attempt must
 * be one the agent held (now, or before the slot was reassigned), and a round
 * (`.rN`) exists only in a run with a duration.
 */
export function holdsSession(f: RunStateFile, agentId: string, sessionId: string): boolean {
  const id = parseSessionId(sessionId);
  if (id.round > 0 && f.durationMs === null) return false;
  const s = indexOf(f).slots.get(id.slot);
  if (!s) return false;
  return (s.agentId === agentId && s.attempt === id.attempt) || s.movedFrom.some((m) => m.agentId === agentId && m.attempt === id.attempt);
}

/** Pure: may `agentId` store this batch of the run described by `f`? */
export function checkBatch(f: RunStateFile | null, agentId: string, batch: MetricBatch, now: number): BatchVerdict {
  if (f === null) {
    return {
      ok: false,
      retryable: true,
      code: ERROR_CODES.RUN_UNKNOWN,
      reason: `this controller has no record of run ${batch.runId} (no ${RESULT_FILES.state} in its results folder); the batch stays in the agent's spool for a controller that has it`,
    };
  }
  // Assigned: it holds a planned session, or held one before it was reassigned.
  if (!indexOf(f).agents.has(agentId)) {
    return { ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID, reason: `agent ${agentId} was never assigned run ${batch.runId}` };
  }
  const ids = new Set([...batch.samples.map((s) => s.sessionId), ...batch.sessions.map((s) => s.sessionId)]);
  const foreign = [...ids].filter((id) => !holdsSession(f, agentId, id));
  if (foreign.length > 0) {
    // While the run is open, a part just placed may not be written yet: ask again later. Once closed, it is final.
    const open = f.status === 'open';
    return {
      ok: false,
      retryable: open,
      code: ERROR_CODES.MESSAGE_INVALID,
      reason:
        `session(s) ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ` (+${foreign.length - 5})` : ''} of run ${batch.runId} were not assigned to agent ${agentId}` +
        (open ? ' (as far as this controller has written yet; the batch is asked for again)' : ''),
    };
  }
  const from = f.startedAt - RUN_TIME_SLACK_MS;
  const to = (f.endedAt ?? now) + RUN_TIME_SLACK_MS;
  const times = [...batch.samples.map((s) => s.ts), ...batch.sessions.flatMap((s) => [s.startedAt, s.endedAt])];
  const outside = times.filter((t) => t < from || t > to);
  if (outside.length > 0) {
    return {
      ok: false,
      retryable: false,
      code: ERROR_CODES.MESSAGE_INVALID,
      reason: `${outside.length} time(s) outside run ${batch.runId}'s window ${new Date(from).toISOString()} … ${new Date(to).toISOString()} (e.g. ${new Date(outside[0]!).toISOString()})`,
    };
  }
  return { ok: true };
}

export class RunRegistry {
  readonly #runs = new Map<string, RunStateFile>();
  readonly #outDir: string;
  readonly #log: Logger;

  constructor(outDir: string, log: Logger) {
    this.#outDir = outDir;
    this.#log = log.child({ component: 'run-registry' });
  }

  /** The run's latest state (from a coordinator following it). */
  set(f: RunStateFile): void {
    this.#runs.set(f.runId, f);
  }

  /** The run's state: in memory, else its file; null when neither exists. */
  async get(runId: string): Promise<RunStateFile | null> {
    const known = this.#runs.get(runId);
    if (known) return known;
    let dir: string;
    try {
      dir = runDir(this.#outDir, runId);
    } catch {
      return null;
    }
    const path = join(dir, RESULT_FILES.state);
    try {
      const f = parseStateFile(await readFile(path, 'utf8'), path);
      this.#runs.set(runId, f);
      return f;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ runId, err: describeError(e) }, 'cannot read a run state file');
      return null;
    }
  }

  async checkBatch(agentId: string, batch: MetricBatch, now: number): Promise<BatchVerdict> {
    return checkBatch(await this.get(batch.runId), agentId, batch, now);
  }
}
