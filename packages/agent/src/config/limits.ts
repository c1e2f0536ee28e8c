/*
 * Agent-local intervals and limits, named once. Wire-level ones (batch ack
 * timeout, reconnect backoff, clock-sync rounds…) live in @userprobe/shared.
 */

/** Sender retry backoff after a timeout, a disconnect or a retryable nack. */
export const SEND_RETRY_MIN_MS = 250;
export const SEND_RETRY_MAX_MS = 10_000;
/** A run whose spooled items the controller has no record of is tried again after this long (or the next reconnect). */
export const UNKNOWN_RUN_RETRY_MS = 60_000;

/** How long one `clock:sync` round trip may take before the round is dropped. */
export const CLOCK_SYNC_ROUND_TIMEOUT_MS = 2_000;
/**
 * The clock offset to the controller is measured when the agent connects and again this often
 * while it stays connected (delivery/clock-keeper.ts), so an assignment is acked without round
 * trips of its own: with thousands of agents assigned at once, those round trips queued behind
 * each other in the assignment round. Clocks kept by NTP drift well under 1 ms in this time.
 */
export const CLOCK_RESYNC_EVERY_MS = 5 * 60_000;
/** An estimate older than this (a resync that failed) is measured again before a run uses it. */
export const CLOCK_FRESH_MS = 2 * CLOCK_RESYNC_EVERY_MS;

/** `run:finished` is re-sent until acked; this long between attempts. */
export const RUN_FINISHED_ACK_TIMEOUT_MS = 5_000;

/** `agent:status` (CPU, memory, spool depth) every this often. */
export const STATUS_INTERVAL_MS = 5_000;
/** Machine CPU busy share at or above which the CPU counts as full (samples measured then may be flagged `saturated`). */
export const CPU_SATURATION_THRESHOLD = 0.9;
/**
 * While the CPU is full, a lone session's samples are flagged only if processes outside the
 * agent (other programs, other agents) took at least this share of the machine (cpu-monitor.ts).
 */
export const OTHERS_SATURATION_THRESHOLD = 0.1;

/** Graceful shutdown: how long to keep sending spooled batches before closing. */
export const SHUTDOWN_GRACE_MS = 5_000;

/** Browser launch timeout (puppeteer `timeout`). */
export const BROWSER_LAUNCH_TIMEOUT_MS = 30_000;

/** Spool: run folders holding nothing but their next-seq file are pruned after this long. */
export const SPOOL_RUN_RETENTION_MS = 7 * 24 * 3_600_000;

/** Capacity rule (see config.ts): sessions per core, and memory per session. */
export const SESSIONS_PER_CORE = 10;
export const SESSION_MEM_MB = 80;
/** Share of total memory the capacity rule may plan for (the rest: OS, Node, browser base). */
export const CAPACITY_MEM_SHARE = 0.75;
/** A two-way 640×480 call costs 60–70 % of a core (PLATFORM.md): calls per core. */
export const VIDEO_CALLS_PER_CORE = 1.3;
