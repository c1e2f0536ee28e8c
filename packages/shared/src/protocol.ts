import type { z } from 'zod';
import {
  AssignmentSchema,
  AssignReplySchema,
  RunAbortSchema,
  MetricBatchSchema,
  BatchAckSchema,
  SessionProgressSchema,
  RunFinishedSchema,
  ClockPingSchema,
  ClockPongSchema,
  AgentStatusSchema,
  OkReplySchema,
  EvidenceUploadSchema,
  EvidenceAckSchema,
  ProbeSchema,
  ProbeReplySchema,
  RunResumeSchema,
  ResumeReplySchema,
  type RunResume,
  type ResumeReply,
  type EvidenceUpload,
  type EvidenceAck,
  type Probe,
  type ProbeReply,
  type Assignment,
  type AssignReply,
  type RunAbort,
  type MetricBatch,
  type BatchAck,
  type SessionProgress,
  type RunFinished,
  type ClockPing,
  type ClockPong,
  type AgentStatus,
  type OkReply,
} from './messages.js';
import { MessageError } from './errors.js';
import { pathText } from './schema-problems.js';

/*
 * The wire contract. The controller is `Server<AgentToController, ControllerToAgent>`,
 * the agent is `Socket<ControllerToAgent, AgentToController>` — the same two maps, swapped.
 */

export interface ControllerToAgent {
  'run:assign': (assignment: Assignment, ack: (reply: AssignReply) => void) => void;
  'run:abort': (abort: RunAbort) => void;
  'run:resume': (resume: RunResume, ack: (reply: ResumeReply) => void) => void;
  /** Liveness: answered at once (the hub asks when a second connection claims this agent's id). */
  'agent:probe': (probe: Probe, ack: (reply: ProbeReply) => void) => void;
}

export interface AgentToController {
  'metrics:batch': (batch: MetricBatch, ack: (reply: BatchAck) => void) => void;
  'session:progress': (progress: SessionProgress) => void;
  'run:finished': (finished: RunFinished, ack: (reply: OkReply) => void) => void;
  'clock:sync': (ping: ClockPing, ack: (pong: ClockPong) => void) => void;
  'agent:status': (status: AgentStatus) => void;
  /** A session's evidence files (binary), acked once durable on the controller or skipped by the run's budget. */
  'evidence:upload': (upload: EvidenceUpload, ack: (reply: EvidenceAck) => void) => void;
}

/** Schema of the first argument of every event, each direction. */
export const CONTROLLER_TO_AGENT_SCHEMAS = {
  'run:assign': AssignmentSchema,
  'run:abort': RunAbortSchema,
  'run:resume': RunResumeSchema,
  'agent:probe': ProbeSchema,
} as const satisfies { [K in keyof ControllerToAgent]: z.ZodType };

export const AGENT_TO_CONTROLLER_SCHEMAS = {
  'metrics:batch': MetricBatchSchema,
  'session:progress': SessionProgressSchema,
  'run:finished': RunFinishedSchema,
  'clock:sync': ClockPingSchema,
  'agent:status': AgentStatusSchema,
  'evidence:upload': EvidenceUploadSchema,
} as const satisfies { [K in keyof AgentToController]: z.ZodType };

/** Schemas of the replies (acks), so the receiving side validates those too. */
export const REPLY_SCHEMAS = {
  'run:assign': AssignReplySchema,
  'metrics:batch': BatchAckSchema,
  'run:finished': OkReplySchema,
  'clock:sync': ClockPongSchema,
  'evidence:upload': EvidenceAckSchema,
  'agent:probe': ProbeReplySchema,
  'run:resume': ResumeReplySchema,
} as const;

/** A readable one-line account of why a payload failed its schema: `path: problem; ...`. */
export function formatIssues(error: z.ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((i) => {
    const path = i.path.length ? pathText(i.path) : '(root)';
    return `${path}: ${i.message}`;
  });
  if (error.issues.length > max) parts.push(`…and ${error.issues.length - max} more`);
  return parts.join('; ');
}

/**
 * Validate an inbound payload. Returns the parsed value or throws MessageError
 * naming the event and the bad fields; callers log it with the sender and drop it.
 */
export function parseMessage<S extends z.ZodType>(event: string, schema: S, payload: unknown): z.infer<S> {
  const r = schema.safeParse(payload);
  if (!r.success) {
    throw new MessageError(`invalid "${event}" message: ${formatIssues(r.error)}`, { detail: { event } });
  }
  return r.data;
}
