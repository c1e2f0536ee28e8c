import { z } from 'zod';
import { METRIC_NAMES, isMetricName, type MetricName } from './metrics.js';
import { CustomMetricDefsSchema, CustomMetricNameSchema } from './custom-metrics.js';
import { SCENARIOS, BROWSER_KINDS } from './scenarios.js';
import { TargetProfileSchema } from './profile.js';
import { ScenarioOptionsSchema } from './options/index.js';
import {
  EVIDENCE_MAX_FILES,
  EVIDENCE_MAX_FILE_BYTES,
  EVIDENCE_MAX_UPLOAD_BYTES,
  HELLO_MAX_LABELS,
  LABEL_KEY_MAX_CHARS,
  LABEL_VALUE_MAX_CHARS,
  MAX_CAPACITY,
  MAX_EPOCH_MS,
  MAX_RAMP_UP_MS,
  MAX_RUN_DURATION_MS,
  MAX_TOTAL_SESSIONS,
  MIN_EPOCH_MS,
  HELLO_MAX_RUNS,
  SESSION_MAX_NOTES,
  SESSION_NOTE_MAX_CHARS,
  SESSION_NOTE_MAX_KEYS,
} from './limits.js';

/*
 * Runtime schemas for every payload that crosses the wire, in both directions.
 * The TypeScript types are inferred from them, so the event maps in
 * protocol.ts and the validators can never disagree.
 */

export const IdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'an id of 1-64 characters from A-Z a-z 0-9 . _ : -');
export const ScenarioSchema = z.enum(SCENARIOS);
export const BrowserKindSchema = z.enum(BROWSER_KINDS);
export const MetricNameSchema = z.enum(METRIC_NAMES as [MetricName, ...MetricName[]]);
const EpochMs = z.number().finite().nonnegative();
/** A time that is stored (samples, sessions, batches): inside MIN_EPOCH_MS..MAX_EPOCH_MS. */
const TIME_WINDOW = 'a UTC epoch-ms time between 2000-01-01 and 2100-01-01';
const StoredTime = z.number({ error: TIME_WINDOW }).min(MIN_EPOCH_MS, TIME_WINDOW).max(MAX_EPOCH_MS, TIME_WINDOW);
const Count = z.number().int().nonnegative();

/** Concurrent sessions an agent can hold, per scenario (a video call costs far more than a chat). */
const CapacityCount = Count.max(MAX_CAPACITY);
export const CapacitySchema = z.strictObject({
  'chat-load': CapacityCount,
  'video-call': CapacityCount,
  cobrowse: CapacityCount,
});
export type Capacity = z.infer<typeof CapacitySchema>;

/** An agent's labels (`region` becomes its location): bounded in count and size, so a hello stays small and so do the logs that show it. */
export const LabelsSchema = z
  .record(
    z
      .string()
      .regex(new RegExp(`^[a-z][a-z0-9_.-]{0,${LABEL_KEY_MAX_CHARS - 1}}$`), `a lower-case letter then up to ${LABEL_KEY_MAX_CHARS - 1} of a-z 0-9 _ . -`),
    z.string().max(LABEL_VALUE_MAX_CHARS, `at most ${LABEL_VALUE_MAX_CHARS} characters`),
    { error: (iss) => (iss.code === 'invalid_key' ? `not a label key: ${iss.issues[0]?.message ?? 'a lower-case word'}` : undefined) },
  )
  .superRefine((labels, ctx) => {
    const n = Object.keys(labels).length;
    if (n > HELLO_MAX_LABELS) ctx.addIssue({ code: 'custom', message: `at most ${HELLO_MAX_LABELS} labels, got ${n}` });
  });

/**
 * What an agent holds of one run, reported on every (re)connect so a
 * controller — the same one after a network gap, or a restarted one — knows
 * what the agent still has and what it lost (a restarted agent reports none).
 */
export const AgentRunStateSchema = z.strictObject({
  runId: IdSchema,
  /** The highest batch seq the agent created for the run (0: none); every seq up to it is spooled or acknowledged. */
  lastSeq: Count,
  /** Sessions running now. */
  running: z.array(IdSchema).max(MAX_CAPACITY),
  /** Assigned sessions not started yet (they start only while connected). */
  pending: Count,
  /** The agent's share is done (run:finished sent or being sent). */
  finished: z.boolean(),
});
export type AgentRunState = z.infer<typeof AgentRunStateSchema>;

/** Sent as socket.io `auth` on every (re)connect. */
export const HelloSchema = z.strictObject({
  protocolVersion: z.number().int(),
  token: z.string().min(1),
  agentId: IdSchema,
  /** This agent process (random per start): tells a reconnect of a live agent from a second process with the same id. */
  instanceId: IdSchema,
  /** The runs this agent holds now (empty after a restart). */
  runs: z.array(AgentRunStateSchema).max(HELLO_MAX_RUNS),
  name: z.string().min(1).max(64),
  labels: LabelsSchema,
  capacity: CapacitySchema,
  software: z.string().max(64),
  host: z.strictObject({ cpus: z.number().int().positive(), memMb: z.number().int().positive(), platform: z.string().max(32) }),
});
export type Hello = z.infer<typeof HelloSchema>;

/** `connect_error` data when the controller refuses a handshake. */
export const AuthRejectionSchema = z.strictObject({
  code: z.string(),
  reason: z.string(),
});
export type AuthRejection = z.infer<typeof AuthRejectionSchema>;

export const PlannedSessionSchema = z.strictObject({
  sessionId: IdSchema,
  /** Milliseconds after the agreed start at which this session starts (within the ramp-up). */
  startOffsetMs: z.number().int().nonnegative().max(MAX_RAMP_UP_MS),
});
export type PlannedSession = z.infer<typeof PlannedSessionSchema>;

/**
 * controller → agent: your share of a run. Part 0 is the share planned at the
 * start; a later part adds sessions (reassigned from a lost agent) to a run the
 * agent holds or has finished.
 */
export const AssignmentSchema = z.strictObject({
  runId: IdSchema,
  part: Count.default(0),
  scenario: ScenarioSchema,
  browser: BrowserKindSchema,
  profile: TargetProfileSchema,
  sessions: z.array(PlannedSessionSchema).min(1),
  /** Agreed start, in the controller's clock (epoch ms); agents convert with their offset. */
  startAt: EpochMs,
  /** When set, sessions repeat (new session ids with a `.rN` suffix) until this long after startAt. */
  durationMs: z.number().int().positive().max(MAX_RUN_DURATION_MS).nullable(),
  /**
   * A custom scenario: the path of an ES module on the agent's machine implementing
   * the scenario API (docs/scenario-api.md). `scenario` is then its capacity class.
   */
  scenarioModule: z.string().min(1).max(1024).optional(),
  options: ScenarioOptionsSchema,
});
export type Assignment = z.infer<typeof AssignmentSchema>;
export type AssignmentInput = z.input<typeof AssignmentSchema>;

export const AssignReplySchema = z.discriminatedUnion('accepted', [
  z.strictObject({ accepted: z.literal(true) }),
  z.strictObject({ accepted: z.literal(false), code: z.string(), reason: z.string() }),
]);
export type AssignReply = z.infer<typeof AssignReplySchema>;

/** controller → agent: stop the run. Running sessions are aborted, sessions not started are recorded as aborted. */
export const RunAbortSchema = z.strictObject({ runId: IdSchema, reason: z.string().max(500) });
export type RunAbort = z.infer<typeof RunAbortSchema>;

/**
 * controller → agent, after every (re)connect, for each run the agent said it
 * holds: go on with it. The sessions in `revoked` now run on another agent
 * (this one was away past the loss grace, or restarted): those not started are
 * dropped without a record; the reply names any that had already started
 * (they run on, and count). Until it gets this, an agent starts no new session
 * of the run (at most RESUME_WAIT_MS after reconnecting).
 */
export const RunResumeSchema = z.strictObject({
  runId: IdSchema,
  revoked: z.array(IdSchema).max(MAX_TOTAL_SESSIONS),
  reason: z.string().max(500),
});
export type RunResume = z.infer<typeof RunResumeSchema>;
export const ResumeReplySchema = z.strictObject({
  revoked: z.array(IdSchema).max(MAX_TOTAL_SESSIONS),
  alreadyStarted: z.array(IdSchema).max(MAX_TOTAL_SESSIONS),
});
export type ResumeReply = z.infer<typeof ResumeReplySchema>;

export const SampleSchema = z.strictObject({
  sessionId: IdSchema,
  /** A catalog metric, or a custom one its batch declares (MetricBatch.metrics). */
  metric: z.union([MetricNameSchema, CustomMetricNameSchema]),
  value: z.number().finite(),
  /** When the measured interval ended, UTC epoch ms. */
  ts: StoredTime,
  /** Taken while the agent's CPU was saturated: the value may be inflated. */
  saturated: z.boolean().optional(),
  /** Optional qualifier (which message, which transport, which sample). */
  detail: z.string().max(64).optional(),
});
export type Sample = z.infer<typeof SampleSchema>;

export const SESSION_STATUSES = ['ok', 'failed', 'aborted'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** One `recorder.note(message, data)` of a session: when, what, and its data's flat values. */
export const SessionNoteSchema = z.strictObject({
  at: StoredTime,
  message: z.string().max(SESSION_NOTE_MAX_CHARS),
  data: z
    .record(z.string().max(64), z.union([z.string().max(SESSION_NOTE_MAX_CHARS), z.number(), z.boolean(), z.null()]))
    .refine((d) => Object.keys(d).length <= SESSION_NOTE_MAX_KEYS, `at most ${SESSION_NOTE_MAX_KEYS} keys`)
    .optional(),
});
export type SessionNote = z.infer<typeof SessionNoteSchema>;

export const SessionRecordSchema = z.strictObject({
  sessionId: IdSchema,
  scenario: ScenarioSchema,
  browser: BrowserKindSchema,
  status: z.enum(SESSION_STATUSES),
  startedAt: StoredTime,
  endedAt: StoredTime,
  failedStep: z.string().max(64).nullable(),
  error: z.strictObject({ code: z.string().max(64), message: z.string().max(2000) }).nullable(),
  /** Evidence files, relative to the run's results folder. */
  artifacts: z.array(z.string().max(256)).max(32),
  /** The scenario's notes, in order (absent when it made none). */
  notes: z.array(SessionNoteSchema).max(SESSION_MAX_NOTES).optional(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

/** agent → controller: numbered per (run, agent), acked only once durable. */
export const MetricBatchSchema = z
  .strictObject({
    runId: IdSchema,
    agentId: IdSchema,
    seq: z.number().int().positive(),
    createdAt: StoredTime,
    samples: z.array(SampleSchema).max(10_000),
    sessions: z.array(SessionRecordSchema).max(1_000),
    /** The declarations (custom-metrics.ts) of the custom metrics this batch's samples name; every such metric is declared here. */
    metrics: CustomMetricDefsSchema.optional(),
  })
  .superRefine((b, ctx) => {
    const declared = new Set((b.metrics ?? []).map((d) => d.name));
    const named = new Set<string>();
    b.samples.forEach((s, i) => {
      if (isMetricName(s.metric) || declared.has(s.metric) || named.has(s.metric)) return;
      named.add(s.metric); // once per name
      ctx.addIssue({ code: 'custom', path: ['samples', i, 'metric'], message: `${s.metric} is neither a built-in metric nor declared in the batch's metrics` });
    });
  });
export type MetricBatch = z.infer<typeof MetricBatchSchema>;

export const BatchAckSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), seq: z.number().int().positive(), duplicate: z.boolean() }),
  z.strictObject({ ok: z.literal(false), seq: z.number().int().nonnegative(), retryable: z.boolean(), code: z.string(), reason: z.string() }),
]);
export type BatchAck = z.infer<typeof BatchAckSchema>;

/** `finished`: the session ended ok; `failed`: it failed; `aborted`: it was stopped (run:abort, the agent stopping). */
export const SESSION_PHASES = ['started', 'finished', 'failed', 'aborted'] as const;
export type SessionPhase = (typeof SESSION_PHASES)[number];
export const SessionProgressSchema = z.strictObject({
  runId: IdSchema,
  sessionId: IdSchema,
  phase: z.enum(SESSION_PHASES),
  failedStep: z.string().max(64).nullable().optional(),
});
export type SessionProgress = z.infer<typeof SessionProgressSchema>;

export const RunFinishedSchema = z.strictObject({
  runId: IdSchema,
  /** The highest batch seq this agent produced for the run (0: none). */
  lastSeq: z.number().int().nonnegative(),
  ok: Count,
  failed: Count,
  /** Sessions stopped before they could finish (not counted in `failed`). */
  aborted: Count.optional(),
  /** Agreed start → the last of this agent's sessions started (ms): the time to reach full concurrency here. */
  rampMs: z.number().finite().nonnegative().optional(),
  /** Most sessions this agent had running at once. */
  peakConcurrent: Count.optional(),
  /**
   * The adaptive start gate on this agent (absent when it was off): how many session starts
   * it held back (waited at least 1 ms), their wait in total, and the longest.
   */
  startGate: z
    .strictObject({
      held: Count,
      totalMs: z.number().finite().nonnegative(),
      maxMs: z.number().finite().nonnegative(),
    })
    .optional(),
  /** The assignment parts this report covers (every part accepted so far); a report missing a part the controller sent is stale. */
  parts: z.array(Count).max(MAX_TOTAL_SESSIONS).optional(),
});
export type RunFinished = z.infer<typeof RunFinishedSchema>;
/** Session starts an agent's adaptive start gate held back in one run. */
export type StartGateHold = NonNullable<RunFinished['startGate']>;

export const ClockPingSchema = z.strictObject({ t0: EpochMs });
export type ClockPing = z.infer<typeof ClockPingSchema>;
export const ClockPongSchema = z.strictObject({ t0: EpochMs, controllerNow: EpochMs });
export type ClockPong = z.infer<typeof ClockPongSchema>;

export const AgentStatusSchema = z.strictObject({
  /** CPU busy share of the whole machine over the last interval, 0..1. */
  cpu: z.number().min(0).max(1),
  memMb: z.number().nonnegative(),
  activeSessions: Count,
  saturated: z.boolean(),
  /** Batches written to the spool and not yet acknowledged. */
  spooled: Count,
});
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

export const OkReplySchema = z.strictObject({ ok: z.literal(true) });

/** controller → agent liveness probe (`agent:probe`), answered at once with the agent's instance. */
export const ProbeSchema = z.strictObject({ at: EpochMs });
export type Probe = z.infer<typeof ProbeSchema>;
export const ProbeReplySchema = z.strictObject({ instanceId: IdSchema });
export type ProbeReply = z.infer<typeof ProbeReplySchema>;
export type OkReply = z.infer<typeof OkReplySchema>;

/**
 * Evidence of one session (screenshots, HAR, console log), agent → controller.
 * A file name is a plain relative name inside the session's evidence folder:
 * letters, digits, `.`, `_`, `-`, not starting with `.` (no folders, no `..`).
 */
export const EvidenceFileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/, 'a file name of 1-64 characters from A-Z a-z 0-9 . _ - not starting with "." (no folders)');
const Bytes = z
  .custom<Uint8Array>((v) => v instanceof Uint8Array, 'binary data (a Buffer)')
  .refine((v) => v.byteLength <= EVIDENCE_MAX_FILE_BYTES, `at most ${EVIDENCE_MAX_FILE_BYTES} bytes per file`);
export const EvidenceFileSchema = z.strictObject({ name: EvidenceFileNameSchema, data: Bytes });
export type EvidenceFile = z.infer<typeof EvidenceFileSchema>;

export const EvidenceUploadSchema = z
  .strictObject({
    runId: IdSchema,
    agentId: IdSchema,
    sessionId: IdSchema,
    files: z.array(EvidenceFileSchema).min(1).max(EVIDENCE_MAX_FILES),
  })
  .superRefine((u, ctx) => {
    const names = new Set<string>();
    let total = 0;
    u.files.forEach((f, i) => {
      if (names.has(f.name)) ctx.addIssue({ code: 'custom', path: ['files', i, 'name'], message: `"${f.name}" appears twice; each file name once` });
      names.add(f.name);
      total += f.data.byteLength;
    });
    if (total > EVIDENCE_MAX_UPLOAD_BYTES)
      ctx.addIssue({ code: 'custom', path: ['files'], message: `${total} bytes in all; at most ${EVIDENCE_MAX_UPLOAD_BYTES} per upload` });
  });
export type EvidenceUpload = z.infer<typeof EvidenceUploadSchema>;

/**
 * The controller's answer: `stored` lists the paths (relative to the run's
 * results folder) it holds durably; `skipped` the file names the run's
 * evidence budget left out; `exhausted` tells the agent to stop capturing for
 * this run. A refusal (`ok: false`) is retried only when `retryable`.
 */
export const EvidenceAckSchema = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    stored: z.array(z.string().max(256)).max(EVIDENCE_MAX_FILES),
    skipped: z.array(EvidenceFileNameSchema).max(EVIDENCE_MAX_FILES),
    exhausted: z.boolean(),
  }),
  z.strictObject({ ok: z.literal(false), retryable: z.boolean(), code: z.string(), reason: z.string() }),
]);
export type EvidenceAck = z.infer<typeof EvidenceAckSchema>;
