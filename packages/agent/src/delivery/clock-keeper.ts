import type { ClockEstimate } from './clock-sync.js';
import { CLOCK_FRESH_MS, CLOCK_RESYNC_EVERY_MS } from '../config/limits.js';

export interface ClockKeeperOptions {
  /** Measure the offset now (clock:sync round trips); null when no round trip succeeded. */
  readonly sync: () => Promise<ClockEstimate | null>;
  readonly now?: () => number;
  readonly freshMs?: number;
  readonly resyncEveryMs?: number;
}

/**
 * The agent's estimate of the controller's clock, kept ahead of need: measured when the
 * connection comes up and every CLOCK_RESYNC_EVERY_MS while it stays up, dropped when it goes
 * down (the next connection may reach another controller, or one restarted). A run takes the
 * estimate it holds (`current()`), so acking an assignment costs no round trips; without a
 * fresh one (just connected, or the resync failed) it measures first, as before.
 * One measurement at a time: a caller during one gets its result.
 */
export class ClockKeeper {
  readonly #o: ClockKeeperOptions;
  readonly #now: () => number;
  #held: { estimate: ClockEstimate; at: number } | null = null;
  #measuring: Promise<ClockEstimate | null> | null = null;
  /** Bumped when the connection drops: a measurement begun before it is not kept. */
  #epoch = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(o: ClockKeeperOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** The connection is up: measure now, then every resync interval. */
  connected(): void {
    this.#stopTimer();
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.resyncEveryMs ?? CLOCK_RESYNC_EVERY_MS);
    this.#timer.unref();
  }

  /** The connection is down: what was measured over it no longer holds. */
  disconnected(): void {
    this.#stopTimer();
    this.#epoch += 1;
    this.#held = null;
    this.#measuring = null;
  }

  /** The estimate for a run: the one held if it is fresh, else a new measurement (or, when that fails, the older one of this connection). */
  current(): Promise<ClockEstimate | null> {
    const held = this.#held;
    if (held !== null && this.#now() - held.at <= (this.#o.freshMs ?? CLOCK_FRESH_MS)) return Promise.resolve(held.estimate);
    return this.refresh().then((estimate) => estimate ?? (this.#held === held ? (held?.estimate ?? null) : null));
  }

  /** Measure now (or join the measurement under way); a result replaces the one held. */
  refresh(): Promise<ClockEstimate | null> {
    if (this.#measuring) return this.#measuring;
    const epoch = this.#epoch;
    const m = this.#o.sync().then(
      (estimate) => {
        if (epoch === this.#epoch) {
          if (estimate !== null) this.#held = { estimate, at: this.#now() };
          this.#measuring = null;
        }
        return estimate;
      },
      () => {
        if (epoch === this.#epoch) this.#measuring = null;
        return null;
      },
    );
    this.#measuring = m;
    return m;
  }

  stop(): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
