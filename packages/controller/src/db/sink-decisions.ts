import type { MysqlErrorKind } from './mysql-errors.js';

/*
 * The MySQL sink's decisions, pure: where a write goes, what an error of each
 * class leads to, when the spool drains and when it has. mysql-sink.ts does
 * the I/O and the waiting; these say what to do (sink-decisions.test.ts holds
 * their tables). Error classes are mysql-errors.ts's: `sink` (an operator must
 * act), `batch` (this payload can never be stored), `transient` (anything
 * else: unreachable, slow, busy, unknown).
 */

/** What the sink knows about itself when a decision is due. */
export interface SinkState {
  /** A permanent error stopped the sink. */
  readonly failed: boolean;
  /** close() has begun. */
  readonly closing: boolean;
  /** A drainer is running. */
  readonly draining: boolean;
  /** Entries in the controller's MySQL spool. */
  readonly spoolSize: number;
}

export type SinkMode = 'direct' | 'spooling' | 'failed';

/**
 * The sink is spooling while anything is in the spool or a drainer runs: a
 * new entry then goes behind the spooled ones, so MySQL sees them in order.
 */
export function sinkMode(s: Pick<SinkState, 'failed' | 'draining' | 'spoolSize'>): SinkMode {
  if (s.failed) return 'failed';
  return s.draining || s.spoolSize > 0 ? 'spooling' : 'direct';
}

/** Where a new entry (batch, run start, run end) goes: refused (the sink failed), to the spool, or to MySQL now. */
export function routeWrite(s: Pick<SinkState, 'failed' | 'draining' | 'spoolSize'>): 'refuse' | 'spool' | 'direct' {
  const mode = sinkMode(s);
  switch (mode) {
    case 'failed':
      return 'refuse';
    case 'spooling':
      return 'spool';
    case 'direct':
      return 'direct';
    default: {
      const never: never = mode;
      throw new Error(`unknown sink mode ${String(never)}`);
    }
  }
}

/** Doubling backoff, capped. */
export function nextBackoff(currentMs: number, maxMs: number): number {
  return Math.min(currentMs * 2, maxMs);
}

/** A direct write's attempt failed: the clock of that write. */
export interface DirectAttempt {
  /** Since the write began. */
  readonly elapsedMs: number;
  /** The wait before the next attempt. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** How long a direct write may take, all attempts included, before it spools instead. */
  readonly budgetMs: number;
  readonly closing: boolean;
}

export type DirectStep =
  /** An operator must act: the sink stops, this and every later write fail with E_SINK_PERMANENT. */
  | { readonly do: 'stop-sink' }
  /** This payload can never be stored: refuse it for good, the sink goes on. */
  | { readonly do: 'refuse-entry' }
  /** Make it durable in the spool instead (acknowledged from there) and start the drainer. */
  | { readonly do: 'spool' }
  | { readonly do: 'retry'; readonly waitMs: number; readonly nextBackoffMs: number };

/**
 * A direct write failed with an error of `kind`. Transient errors are retried
 * with doubling backoff while the next attempt still starts within the
 * budget; past it (or while closing) the entry is spooled, so no write waits
 * on MySQL longer than its budget.
 */
export function afterDirectError(kind: MysqlErrorKind, t: DirectAttempt): DirectStep {
  switch (kind) {
    case 'sink':
      return { do: 'stop-sink' };
    case 'batch':
      return { do: 'refuse-entry' };
    case 'transient':
      if (t.closing || t.elapsedMs + t.backoffMs > t.budgetMs) return { do: 'spool' };
      return { do: 'retry', waitMs: t.backoffMs, nextBackoffMs: nextBackoff(t.backoffMs, t.maxBackoffMs) };
    default: {
      const never: never = kind;
      throw new Error(`unknown MySQL error kind ${String(never)}`);
    }
  }
}

export type DrainStep =
  /** An operator must act: the sink stops; the spool keeps everything for the next start. */
  | { readonly do: 'stop-sink' }
  /** The head entry can never be stored: move it to the spool's rejected/ folder and go on with the next. */
  | { readonly do: 'set-aside' }
  /** MySQL is still away: wait, then try the same entry again. */
  | { readonly do: 'wait'; readonly waitMs: number; readonly nextBackoffMs: number };

/** Writing the spool's head entry to MySQL failed with an error of `kind`. The drainer never gives up on a transient error. */
export function afterDrainError(kind: MysqlErrorKind, backoffMs: number, maxBackoffMs: number): DrainStep {
  switch (kind) {
    case 'sink':
      return { do: 'stop-sink' };
    case 'batch':
      return { do: 'set-aside' };
    case 'transient':
      return { do: 'wait', waitMs: backoffMs, nextBackoffMs: nextBackoff(backoffMs, maxBackoffMs) };
    default: {
      const never: never = kind;
      throw new Error(`unknown MySQL error kind ${String(never)}`);
    }
  }
}

/** Should a drainer start now? When the spool holds entries, none runs, and the sink is neither closing nor failed. */
export function shouldDrain(s: SinkState): boolean {
  return s.spoolSize > 0 && !s.draining && !s.closing && !s.failed;
}

/**
 * The drainer ended (`s.draining` is false again). 'restart': entries are
 * left (one may have been appended after it saw the spool empty) — drain
 * again; 'drained': the spool is empty — whoever waits for that is told;
 * 'stopped': entries are left but the sink is closing or failed — they drain
 * at the next start.
 */
export function afterDrainerExit(s: SinkState): 'restart' | 'drained' | 'stopped' {
  if (s.spoolSize === 0) return 'drained';
  return shouldDrain(s) ? 'restart' : 'stopped';
}

/**
 * The schema check at open failed: a transient error opens the sink in
 * spooling mode (the spool covers the outage); anything else — bad
 * credentials, an unknown database — fails open(), as a missing or old
 * schema does.
 */
export function afterOpenError(kind: MysqlErrorKind): 'open-spooling' | 'fail-open' {
  return kind === 'transient' ? 'open-spooling' : 'fail-open';
}
