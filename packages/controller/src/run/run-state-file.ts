import { z } from 'zod';
import { BROWSER_KINDS, IdSchema, RunFinishedSchema, SCENARIOS, SESSION_STATUSES, type BrowserKind, type ScenarioName } from '@userprobe/shared';
import { ON_AGENT_LOSS, type AgentInRun, type EndReason, type MachineState, type Slot } from './run-machine.js';

/**
 * A run's state on disk (`<out>/<runId>/run-state.json`), written whenever the
 * run's assignments change (start, a new part, an agent finished or lost, the
 * end). It is what lets a controller that crashed and restarted re-adopt the
 * run (`controller serve`), what tells the hub which agent may send batches
 * for which sessions, and what `controller reconcile` recomputes a verdict
 * from. Pure conversion here; the results sink writes it durably.
 */

const SlotSchema = z.strictObject({
  slot: IdSchema,
  agentId: IdSchema.nullable(),
  attempt: z.number().int().positive(),
  part: z.number().int().nonnegative(),
  current: IdSchema.nullable(),
  offsetMs: z.number().int().nonnegative(),
  phase: z.enum(['waiting', 'pending', 'running', 'done', 'lost', 'over']),
  status: z.enum(SESSION_STATUSES).nullable(),
  movedFrom: z.array(IdSchema),
});

const AgentSchema = z.strictObject({
  agentId: IdSchema,
  name: z.string(),
  capacity: z.number().int().nonnegative(),
  inRun: z.boolean(),
  parts: z.array(z.number().int().nonnegative()),
  finished: RunFinishedSchema.nullable(),
  lost: z.boolean(),
});

const EndSchema = z.union([
  z.strictObject({ kind: z.literal('completed') }),
  z.strictObject({ kind: z.literal('aborted'), reason: z.string() }),
  z.strictObject({ kind: z.literal('start-failed'), reason: z.string() }),
  z.strictObject({ kind: z.literal('agent-lost'), agentId: z.string(), name: z.string(), reason: z.string() }),
  z.strictObject({ kind: z.literal('drain-timeout'), missing: z.array(z.string()) }),
  z.strictObject({ kind: z.literal('bound'), running: z.array(z.string()) }),
]);

export const RunStateFileSchema = z.strictObject({
  version: z.literal(1),
  runId: IdSchema,
  /** open: the run is being followed (or its controller died); closed: it has its summary. */
  status: z.enum(['open', 'closed']),
  scenario: z.enum(SCENARIOS),
  browser: z.enum(BROWSER_KINDS),
  targetName: z.string(),
  total: z.number().int().nonnegative(),
  /** When the run was planned, and its agreed start (controller clock, epoch ms). */
  startedAt: z.number(),
  startAt: z.number(),
  /** The run's overall bound: no run stays open past it. */
  deadlineAt: z.number(),
  durationMs: z.number().int().positive().nullable(),
  config: z.strictObject({
    onAgentLoss: z.enum(ON_AGENT_LOSS as ['reassign', 'fail']),
    lossGraceMs: z.number().int().nonnegative(),
    drainMs: z.number().int().nonnegative(),
    startLeadMs: z.number().int().nonnegative(),
    reassignSpacingMs: z.number().int().nonnegative(),
  }),
  nextPart: z.number().int().positive(),
  agents: z.array(AgentSchema),
  slots: z.array(SlotSchema),
  lostSessions: z.array(IdSchema),
  end: EndSchema.nullable(),
  endedAt: z.number().nullable(),
});
export type RunStateFile = z.infer<typeof RunStateFileSchema>;

export interface RunMeta {
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly browser: BrowserKind;
  readonly targetName: string;
  readonly total: number;
  readonly startedAt: number;
  readonly deadlineAt: number;
}

/** Pure: the machine's state → the file. */
export function toStateFile(meta: RunMeta, s: MachineState, endedAt: number | null): RunStateFile {
  return {
    version: 1, runId: meta.runId, status: s.phase === 'ended' ? 'closed' : 'open',
    scenario: meta.scenario, browser: meta.browser, targetName: meta.targetName, total: meta.total,
    startedAt: meta.startedAt, startAt: s.startAt, deadlineAt: meta.deadlineAt, durationMs: s.config.durationMs,
    config: {
      onAgentLoss: s.config.onAgentLoss, lossGraceMs: s.config.lossGraceMs, drainMs: s.config.drainMs,
      startLeadMs: s.config.startLeadMs, reassignSpacingMs: s.config.reassignSpacingMs,
    },
    nextPart: s.nextPart,
    agents: [...s.agents.values()].map((a) => ({
      agentId: a.agentId, name: a.name, capacity: a.capacity, inRun: a.inRun, parts: [...a.parts], finished: a.finished, lost: a.lost,
    })),
    slots: [...s.slots.values()].map((x) => ({ ...x, movedFrom: [...x.movedFrom] })),
    lostSessions: [...s.lostSessions],
    end: s.end as RunStateFile['end'],
    endedAt,
  };
}

/**
 * Pure: a file → the machine's state as a restarted controller re-adopts it:
 * every agent away (it has to come back and say what it holds), phases as
 * written. A closed run is restored as ended.
 */
export function fromStateFile(f: RunStateFile): MachineState {
  const agents = new Map<string, AgentInRun>(f.agents.map((a) => [a.agentId, {
    agentId: a.agentId, name: a.name, capacity: a.capacity, connected: false, inRun: a.inRun, parts: [...a.parts],
    finished: a.finished, seqs: new Set<number>(), lost: a.lost, awaySince: null,
  }]));
  const slots = new Map<string, Slot>(f.slots.map((x) => [x.slot, { ...x, movedFrom: [...x.movedFrom] }]));
  return {
    config: { runId: f.runId, durationMs: f.durationMs, ...f.config },
    startAt: f.startAt,
    slots,
    agents,
    nextPart: f.nextPart,
    phase: f.status === 'closed' ? 'ended' : 'running',
    abortReason: null,
    drainArmed: false,
    end: f.end as EndReason | null,
    lostSessions: new Set(f.lostSessions),
  };
}

/** Parse a file's text; throws with what is wrong. */
export function parseStateFile(text: string, where: string): RunStateFile {
  const r = RunStateFileSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new Error(`${where} is not a run state file: ${r.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
