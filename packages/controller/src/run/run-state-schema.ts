import { z } from 'zod';
import { BROWSER_KINDS, IdSchema, RunFinishedSchema, SCENARIOS, SESSION_STATUSES, ThresholdEntrySchema } from '@userprobe/shared';

/*
 * The shape of a run's state, once: the run machine's slots and end reasons
 * and the run-state.json file are these schemas and the types inferred from
 * them (run-machine.ts works on them, run-state-file.ts writes and reads them).
 */

/** What a lost agent means for a run: its unstarted sessions go to other agents, or the run fails (`--on-agent-loss`). */
export const ON_AGENT_LOSS = ['reassign', 'fail'] as const;
export type OnAgentLoss = (typeof ON_AGENT_LOSS)[number];

/**
 * waiting: no agent has it (its agent was lost, no capacity yet); pending:
 * assigned, not started; running; done: ended with a record (or, with a
 * duration, between rounds); lost: it was running on an agent that was lost;
 * over: it never ran (the run ended first, or the duration passed).
 */
export const SLOT_PHASES = ['waiting', 'pending', 'running', 'done', 'lost', 'over'] as const;
export type SlotPhase = (typeof SLOT_PHASES)[number];

/** One planned session and what became of it (its latest attempt). */
export const SlotSchema = z.strictObject({
  slot: IdSchema,
  /** The agent holding its latest attempt (null while it waits for capacity). */
  agentId: IdSchema.nullable(),
  attempt: z.number().int().positive(),
  /** The assignment part holding the latest attempt. */
  part: z.number().int().nonnegative(),
  /** The latest session of the slot that started (with a duration, a round's id). */
  current: IdSchema.nullable(),
  /** The original offset within the ramp (kept for reassignment order). */
  offsetMs: z.number().int().nonnegative(),
  phase: z.enum(SLOT_PHASES),
  /** The latest attempt's status once done. */
  status: z.enum(SESSION_STATUSES).nullable(),
  /** Earlier attempts, and the agents that held them before the slot was reassigned. */
  movedFrom: z.array(z.strictObject({ agentId: IdSchema, attempt: z.number().int().positive() })),
});
export type Slot = z.infer<typeof SlotSchema>;

/** The run's end, as the coordinator reports it. */
export const EndReasonSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('completed') }),
  z.strictObject({ kind: z.literal('aborted'), reason: z.string() }),
  z.strictObject({ kind: z.literal('start-failed'), reason: z.string() }),
  z.strictObject({ kind: z.literal('agent-lost'), agentId: z.string(), name: z.string(), reason: z.string() }),
  z.strictObject({ kind: z.literal('drain-timeout'), missing: z.array(z.string()) }),
  z.strictObject({ kind: z.literal('bound'), running: z.array(z.string()) }),
]);
export type EndReason = z.infer<typeof EndReasonSchema>;

export const AgentRecordSchema = z.strictObject({
  agentId: IdSchema,
  name: z.string(),
  capacity: z.number().int().nonnegative(),
  /** The agent process that holds the run's work (a different one after a restart). */
  instanceId: IdSchema.nullable(),
  inRun: z.boolean(),
  /** Parts it accepted, and parts sent to it (a run:finished must cover every part sent). */
  parts: z.array(z.number().int().nonnegative()),
  sentParts: z.array(z.number().int().nonnegative()),
  finished: RunFinishedSchema.nullable(),
  lost: z.boolean(),
});
export type AgentRecord = z.infer<typeof AgentRecordSchema>;

export const RunStateFileSchema = z.strictObject({
  version: z.literal(2),
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
  /** The run's overall bound: no run stays open past it (pushed back when sessions are reassigned). */
  deadlineAt: z.number(),
  durationMs: z.number().int().positive().nullable(),
  config: z.strictObject({
    onAgentLoss: z.enum(ON_AGENT_LOSS),
    lossGraceMs: z.number().int().nonnegative(),
    drainMs: z.number().int().nonnegative(),
    startLeadMs: z.number().int().nonnegative(),
    reassignSpacingMs: z.number().int().nonnegative(),
    sessionTimeoutMs: z.number().int().positive(),
  }),
  nextPart: z.number().int().positive(),
  agents: z.array(AgentRecordSchema),
  slots: z.array(SlotSchema),
  lostSessions: z.array(IdSchema),
  end: EndReasonSchema.nullable(),
  endedAt: z.number().nullable(),
  /** The run's thresholds (profile's and --threshold), judged when it closes, also after a restart or by reconcile. */
  thresholds: z.array(ThresholdEntrySchema).optional(),
});
export type RunStateFile = z.infer<typeof RunStateFileSchema>;
