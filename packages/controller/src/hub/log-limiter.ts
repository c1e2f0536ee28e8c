export type LogDecision = { readonly log: true; readonly suppressed: number } | { readonly log: false };

export interface LogLimiterOptions {
  readonly windowMs: number;
  readonly maxKeys: number;
}

/** The key shared by new keys once `maxKeys` live keys are remembered. */
export const OVERFLOW_KEY = '(other)';

interface KeyState {
  /** When the last line of this key was let through. */
  loggedAt: number;
  suppressed: number;
}

/**
 * Log-flood control: at most one line per key (e.g. a remote address) per
 * window; the lines held back are counted and reported with the next line the
 * key gets through. Pure: the caller passes the time, nothing runs on a timer.
 *
 * Memory is bounded: at most `maxKeys` keys are remembered. When full, keys
 * whose window is over are forgotten (a count still held back for them is
 * lost); if that frees nothing, new keys share one overflow key, so a flood
 * from many addresses still makes at most one line per window for all of them.
 */
export class LogLimiter {
  readonly #o: LogLimiterOptions;
  readonly #keys = new Map<string, KeyState>();

  constructor(o: LogLimiterOptions) {
    this.#o = o;
  }

  /** Keys remembered now (for tests and metrics). */
  get size(): number {
    return this.#keys.size;
  }

  /** Should a line for `key` be written at `now`, and how many of its lines were held back since its last one? */
  admit(key: string, now: number): LogDecision {
    const k = this.#keys.has(key) || this.#room(now) ? key : OVERFLOW_KEY;
    const s = this.#keys.get(k);
    if (s === undefined) {
      this.#keys.set(k, { loggedAt: now, suppressed: 0 });
      return { log: true, suppressed: 0 };
    }
    if (now - s.loggedAt < this.#o.windowMs) {
      s.suppressed += 1;
      return { log: false };
    }
    const suppressed = s.suppressed;
    s.loggedAt = now;
    s.suppressed = 0;
    return { log: true, suppressed };
  }

  /** Is there room for one more key (after forgetting expired ones if needed)? */
  #room(now: number): boolean {
    if (this.#keys.size < this.#o.maxKeys) return true;
    for (const [k, s] of this.#keys) if (k !== OVERFLOW_KEY && now - s.loggedAt >= this.#o.windowMs) this.#keys.delete(k);
    return this.#keys.size < this.#o.maxKeys;
  }
}
