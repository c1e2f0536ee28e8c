/**
 * Every interval and limit, named once. Config may override the ones marked
 * as settings; the error a timeout raises names the setting to change.
 */
/** 2: assignments carry the chat pacing options (thinkTime, input), which agents of version 1 refuse. */
export const PROTOCOL_VERSION = 2;

/** Socket.IO engine ping: liveness of the transport both ways. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A peer silent this long is gone (setting: `--agent-timeout`). */
export const HEARTBEAT_TIMEOUT_MS = 10_000;

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
/** Lead time between planning and the agreed start, so every agent is ready. */
export const START_LEAD_MS = 1_500;
/** Clock-offset estimation: round trips per agent. */
export const CLOCK_SYNC_ROUNDS = 5;

/** Default per-step timeout inside a scenario (a profile may set its own). */
export const STEP_TIMEOUT_MS = 30_000;
/** Session hard limit (setting: `--session-timeout`). */
export const SESSION_TIMEOUT_MS = 120_000;
/** The longest session timeout an assignment accepts. */
export const MAX_SESSION_TIMEOUT_MS = 3_600_000;

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
