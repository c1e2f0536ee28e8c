import { thresholdEntryOf, type BrowserKind, type ScenarioName, type Threshold } from '@userprobe/shared';
import type { AgentInRun, MachineState } from './run-machine.js';
import { RunStateFileSchema, type RunStateFile } from './run-state-schema.js';

export { RunStateFileSchema, type RunStateFile } from './run-state-schema.js';

/**
 * A run's state on disk (`<out>/<runId>/run-state.json`), written whenever the
 * run's assignments change (start, a new part, an agent finished or lost, the
 * end) — a new part before it is sent. It is what lets a controller that
 * crashed and restarted re-adopt the run (`controller serve`), what tells the
 * hub which agent may send batches for which sessions, and what `controller
 * reconcile` recomputes a verdict from. Pure conversion here; the results sink
 * writes it durably.
 */

export interface RunMeta {
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly browser: BrowserKind;
  readonly targetName: string;
  readonly total: number;
  readonly startedAt: number;
  /** The run's bound (controller clock); a re-adopted run is closed by then at the latest. */
  deadlineAt: number;
  /** Judged when the run closes (run/thresholds.ts). */
  readonly thresholds?: readonly Threshold[];
}

/** Pure: the machine's state → the file. */
export function toStateFile(meta: RunMeta, s: MachineState, endedAt: number | null): RunStateFile {
  return {
    version: 2,
    runId: meta.runId,
    status: s.phase === 'ended' ? 'closed' : 'open',
    scenario: meta.scenario,
    browser: meta.browser,
    targetName: meta.targetName,
    total: meta.total,
    startedAt: meta.startedAt,
    startAt: s.startAt,
    deadlineAt: meta.deadlineAt,
    durationMs: s.config.durationMs,
    config: {
      onAgentLoss: s.config.onAgentLoss,
      lossGraceMs: s.config.lossGraceMs,
      drainMs: s.config.drainMs,
      startLeadMs: s.config.startLeadMs,
      reassignSpacingMs: s.config.reassignSpacingMs,
      sessionTimeoutMs: s.config.sessionTimeoutMs,
    },
    nextPart: s.nextPart,
    agents: [...s.agents.values()].map((a) => ({
      agentId: a.agentId,
      name: a.name,
      capacity: a.capacity,
      instanceId: a.instanceId,
      inRun: a.inRun,
      parts: [...a.parts],
      sentParts: [...a.sentParts],
      finished: a.finished,
      lost: a.lost,
    })),
    slots: [...s.slots.values()].map((x) => ({ ...x, movedFrom: x.movedFrom.map((m) => ({ ...m })) })),
    lostSessions: [...s.lostSessions],
    end: s.end,
    endedAt,
    ...(meta.thresholds?.length ? { thresholds: meta.thresholds.map(thresholdEntryOf) } : {}),
  };
}

/**
 * Pure: a file → the machine's state as a restarted controller re-adopts it:
 * every agent away (it has to come back and say what it holds), phases as
 * written. A closed run is restored as ended.
 */
export function fromStateFile(f: RunStateFile): MachineState {
  const agents = new Map<string, AgentInRun>(
    f.agents.map((a) => [
      a.agentId,
      {
        ...a,
        parts: [...a.parts],
        sentParts: [...a.sentParts],
        connected: false,
        seqs: new Set<number>(),
        awaySince: null,
      },
    ]),
  );
  return {
    config: { runId: f.runId, durationMs: f.durationMs, ...f.config },
    startAt: f.startAt,
    slots: new Map(f.slots.map((x) => [x.slot, { ...x, movedFrom: x.movedFrom.map((m) => ({ ...m })) }])),
    agents,
    nextPart: f.nextPart,
    phase: f.status === 'closed' ? 'ended' : 'running',
    abortReason: null,
    drainArmed: false,
    end: f.end,
    lostSessions: new Set(f.lostSessions),
  };
}

/** Parse a file's text; throws with what is wrong. */
export function parseStateFile(text: string, where: string): RunStateFile {
  const r = RunStateFileSchema.safeParse(JSON.parse(text));
  if (!r.success)
    throw new Error(
      `${where} is not a run state file this controller reads: ${r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return r.data;
}
