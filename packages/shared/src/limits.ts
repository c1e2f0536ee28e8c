/*
 * Every interval and limit, named once. Config may override the ones marked
 * as settings; the error a timeout raises names the setting to change.
 */

/**
 * 2: assignments carry the chat pacing options (thinkTime, input), which agents of version 1 refuse.
 * 3: session:progress has the phase `aborted` and run:finished an `aborted` count (a version 2
 *    controller would drop the first as invalid and count aborted sessions as failed).
 * 4: the hello carries the agent's instance and run state; assignments have a `part` (a run's
 *    share can grow when a lost agent's sessions are reassigned); `run:resume` after every
 *    reconnect (taking back sessions that went elsewhere); run:finished names the parts it
 *    covers; the controller probes a connection's liveness (`agent:probe`).
 * 5: session records carry the scenario's notes (`notes`), which a version 4 controller refuses.
 * 6: samples may name a custom scenario module's own metrics, declared in their batch (`metrics`),
 *    which a version 5 controller refuses.
 * 7: assignments carry `chatsPerConsole` (sessions of a run sharing one agent console), which a version 6 agent's assignment schema refuses.
 */
export const PROTOCOL_VERSION = 7;

/** A session record keeps at most this many of its scenario's notes (`recorder.note`); the last one says how many more were left out. */
export const SESSION_MAX_NOTES = 50;
/** Longest note message kept, and longest string value of its data. */
export const SESSION_NOTE_MAX_CHARS = 500;
/** Most keys of one note's data. */
export const SESSION_NOTE_MAX_KEYS = 20;

/**
 * Socket.IO engine ping: liveness of the transport both ways (the server pings,
 * the client expects a ping within interval + timeout, else it reconnects).
 */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A peer silent this long is gone. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;
/**
 * A second connection that claims a connected agent's id: the hub asks the
 * first one to answer (`agent:probe`) within this long; an answer means the id
 * is taken (the newcomer is refused), silence means the first is gone.
 */
export const LIVENESS_PROBE_TIMEOUT_MS = 3_000;
/**
 * How long an agent may be away mid-run (disconnected, or back without the
 * run) before its share is judged lost: its unstarted sessions go to other
 * agents, its running ones are recorded as lost (setting: `--loss-grace`).
 */
export const AGENT_LOSS_GRACE_MS = 15_000;
/** Bounds of the loss grace (setting: `--loss-grace`). */
export const MIN_LOSS_GRACE_MS = 100;
export const MAX_LOSS_GRACE_MS = 3_600_000;
/** Runs an agent reports in its hello (the runs it holds or still has batches of, newest first). */
export const HELLO_MAX_RUNS = 32;
/**
 * After reconnecting, an agent starts no new session of a run it holds until
 * the controller's `run:resume` for it, or this long (a controller that does
 * not follow the run any more never sends one).
 */
export const RESUME_WAIT_MS = 10_000;
/** How long the controller waits for an agent to answer `run:resume`. */
export const RESUME_ACK_TIMEOUT_MS = 10_000;

/** How long the agent waits for a batch ack before re-sending it. */
export const BATCH_ACK_TIMEOUT_MS = 5_000;
/** A batch is flushed when it holds this many samples... */
export const BATCH_MAX_SAMPLES = 500;
/** ...or when its oldest sample is this old. */
export const BATCH_MAX_AGE_MS = 1_000;

/** Reconnect backoff for agents (socket.io-client's own randomised backoff). */
export const RECONNECT_DELAY_MIN_MS = 500;
export const RECONNECT_DELAY_MAX_MS = 10_000;

/** Default wait for the expected agents to connect (setting: `--agent-wait`). */
export const AGENT_WAIT_TIMEOUT_MS = 60_000;
/** Default wait for an agent to accept an assignment. */
export const ASSIGN_ACK_TIMEOUT_MS = 10_000;
/** After every agent reports done, wait this long for the last batches (setting: `--drain-timeout`). */
export const DRAIN_TIMEOUT_MS = 30_000;
/** Lead time between planning and the agreed start, so every agent is ready (the least; a large fleet gets more: startLeadMs). */
export const START_LEAD_MS = 1_500;
/**
 * The lead a run's first round adds per agent: the assignments are built, written and sent
 * one after the other, and each agent's ack comes back through the same event loop. Measured
 * (bench/scale/results.md): from the plan to the last of 5,000 acks took ~0.9 s on a 2-core
 * machine that also ran the 5,000 simulated agents; 0.5 ms per agent keeps the agreed start
 * ahead of the last ack with room for a slower machine (5,000 agents: 4 s in all).
 */
export const START_LEAD_PER_AGENT_MS = 0.5;

/** The lead between the plan and the agreed start of a run over `agents` agents. Pure. */
export function startLeadMs(agents: number): number {
  return START_LEAD_MS + Math.ceil(Math.max(0, agents) * START_LEAD_PER_AGENT_MS);
}
/** Clock-offset estimation: round trips per agent. */
export const CLOCK_SYNC_ROUNDS = 5;

/** Default per-step timeout inside a scenario (a profile may set its own). */
export const STEP_TIMEOUT_MS = 30_000;
/** The longest per-step timeout an assignment accepts (setting: `--step-timeout`). */
export const MAX_STEP_TIMEOUT_MS = 600_000;
/** Session hard limit (setting: `--session-timeout`). */
export const SESSION_TIMEOUT_MS = 120_000;
/** The longest session timeout an assignment accepts. */
export const MAX_SESSION_TIMEOUT_MS = 3_600_000;

/*
 * Accepted ranges of the run options (both ends included). The wire schemas
 * (messages.ts) and the controller's start-up checks use these same numbers,
 * so a value the CLI accepts is never refused later by an assignment.
 */
/** Chat: message exchanges per session (setting: `--messages`). */
export const MAX_MESSAGES = 100;
/** Video call: the longest connected call (setting: `--call-duration`). */
export const MAX_CALL_DURATION_MS = 600_000;
/** Chat: the longest think time between two exchanges (setting: `--think-time`). */
export const MAX_THINK_TIME_MS = 600_000;
/** Cobrowse: mirror-lag samples per session (setting: `--mirror-samples`). */
export const MAX_MIRROR_SAMPLES = 100;
/** Chat: most sessions one agent console serves at once (setting: `--chats-per-console`). */
export const MAX_CHATS_PER_CONSOLE = 20;
/** Sessions an agent may hold at once, per scenario (setting: the agent's `--capacity`). */
export const MAX_CAPACITY = 10_000;
/**
 * Sessions in one run (setting: `--total`): every session is a planned entry
 * in an assignment, and one assignment must stay well inside the hub's
 * 16 MiB message limit (~45 bytes per session).
 */
export const MAX_TOTAL_SESSIONS = 100_000;
/** Agents one run may wait for (setting: `--expect-agents`); one hub held 2,000 at ~15 % of a core (PLATFORM.md). */
export const MAX_EXPECTED_AGENTS = 10_000;
/** Agent processes one controller starts on its own machine (setting: `--local-agents`); each runs its own browser. */
export const MAX_LOCAL_AGENTS = 64;
/*
 * The longest waits a run accepts. Node fires a timer longer than 2^31-1 ms
 * (~24.8 days) at once; the run's overall bound adds ramp-up, duration,
 * session timeouts and drain, so each stays far below that.
 */
/** Session starts spread over at most this long (setting: `--ramp-up`). */
export const MAX_RAMP_UP_MS = 24 * 3_600_000;
/** Sessions repeat for at most this long (setting: `--duration`). */
export const MAX_RUN_DURATION_MS = 7 * 24 * 3_600_000;
/** Bounds of the wait for agents (setting: `--agent-wait`); 0 would give up before any agent could connect. */
export const MIN_AGENT_WAIT_MS = 100;
export const MAX_AGENT_WAIT_MS = 24 * 3_600_000;
/** Bounds of the wait for agents' last batches or their return (setting: `--drain-timeout`); 0 would judge batches still in flight as lost. */
export const MIN_DRAIN_TIMEOUT_MS = 100;
export const MAX_DRAIN_TIMEOUT_MS = 3_600_000;

/**
 * The window a stored timestamp (a sample's `ts`, a session's start and end,
 * a batch's `createdAt`) must fall in: UTC epoch ms of 2000-01-01 and
 * 2100-01-01, both included. Anything outside is a broken clock or a corrupt
 * value; it is refused at the edge as invalid, never stored or retried.
 */
export const MIN_EPOCH_MS = Date.UTC(2000, 0, 1);
export const MAX_EPOCH_MS = Date.UTC(2100, 0, 1);

/** Labels an agent announces in its hello (`--labels`): at most this many… */
export const HELLO_MAX_LABELS = 32;
/** …each key at most this many characters (a lower-case letter, then a-z 0-9 _ . -)… */
export const LABEL_KEY_MAX_CHARS = 32;
/** …and each value at most this many. */
export const LABEL_VALUE_MAX_CHARS = 128;

/**
 * One socket.io message the controller accepts: at most this many bytes — a
 * text message (engine.io `maxHttpBufferSize`), and all binary attachments of
 * one message together (the hub's decoder counts them)…
 */
export const PACKET_MAX_BYTES = 16 * 1024 * 1024;
/** …with at most this many binary attachments (socket.io-parser's `maxAttachments`). */
export const PACKET_MAX_ATTACHMENTS = 10;

/** Evidence uploads (screenshots, HAR, console log of a failed session): one file at most… */
export const EVIDENCE_MAX_FILE_BYTES = 8 * 1024 * 1024;
/** …one upload (a session's files) at most, with room below PACKET_MAX_BYTES for the message around them… */
export const EVIDENCE_MAX_UPLOAD_BYTES = 12 * 1024 * 1024;
/** …and this many files per upload: each file is one attachment of the message. */
export const EVIDENCE_MAX_FILES = PACKET_MAX_ATTACHMENTS;
/** Per-run evidence budget defaults (settings: `--evidence-sessions`, `--evidence-bytes`). */
export const EVIDENCE_BUDGET_SESSIONS = 20;
export const EVIDENCE_BUDGET_BYTES = 200 * 1024 * 1024;
/** The largest per-run evidence budget (sessions: one run's worth; bytes: 1 TiB). */
export const MAX_EVIDENCE_BUDGET_SESSIONS = MAX_TOTAL_SESSIONS;
export const MAX_EVIDENCE_BUDGET_BYTES = 1024 ** 4;
