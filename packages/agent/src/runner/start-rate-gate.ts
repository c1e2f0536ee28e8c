import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DEFAULT_START_RATE, initialStartRate, nextStartDelay, type StartRateConfig, type StartRateState } from './start-rate.js';

export const START_GATE_MAX_HOLD_MS = 60_000;

export interface StartGateOptions {
  /** Recent machine CPU busy share, 0..1. */
  readonly cpu: () => number;
  /** The share of the machine this agent's own processes used recently, 0..1, or undefined when not known (yet). */
  readonly ownCpu?: () => number | undefined;
  readonly log: Logger;
  readonly config?: StartRateConfig;
  readonly maxHoldMs?: number;
  readonly now?: () => number;
}

/**
 * The agent's session-start gate: every session start (adaptive runs) passes
 * through `admit()`, one at a time; the gate spaces them by `nextStartDelay`
 * from the machine's recent CPU. A start held longer than `maxHoldMs` while the
 * machine stays saturated goes ahead anyway (the run must progress) and its
 * samples will carry the flag. A machine saturated by other processes alone
 * (the agent's own share subtracted, it would still be saturated) holds no
 * start at all: holding cannot bring it below the mark (start-rate.ts).
 */
export class StartGate {
  readonly #o: StartGateOptions;
  readonly #cfg: StartRateConfig;
  readonly #now: () => number;
  #state: StartRateState;
  #lastStart = Number.NEGATIVE_INFINITY;
  #externalNoted = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(o: StartGateOptions) {
    this.#o = o;
    this.#cfg = o.config ?? DEFAULT_START_RATE;
    this.#now = o.now ?? (() => performance.now());
    this.#state = initialStartRate(this.#cfg);
  }

  get intervalMs(): number {
    return this.#state.intervalMs;
  }

  /** Resolves when this start may go (rejects if `signal` aborts first). Starts are admitted in call order. */
  admit(signal: AbortSignal): Promise<void> {
    const turn = this.#chain.then(() => this.#wait(signal));
    this.#chain = turn.catch(() => undefined);
    return turn;
  }

  async #wait(signal: AbortSignal): Promise<void> {
    try {
      await this.#pace(signal);
    } catch (e) {
      throw signal.aborted ? signal.reason : e;
    }
  }

  async #pace(signal: AbortSignal): Promise<void> {
    const t0 = this.#now();
    for (;;) {
      signal.throwIfAborted();
      const cpu = this.#o.cpu();
      const own = cpu >= this.#cfg.saturated ? this.#o.ownCpu?.() : undefined;
      const d = nextStartDelay(this.#state, { cpu, own }, this.#cfg);
      if (!d.hold && cpu >= this.#cfg.saturated && !this.#externalNoted) {
        this.#externalNoted = true;
        this.#o.log.warn(
          { cpu: Math.round(cpu * 100), ownCpu: own === undefined ? undefined : Math.round(own * 100) },
          'other processes saturate this machine; starting sessions at the current pace (their samples are flagged saturated)',
        );
      }
      this.#state = d.state;
      const now = this.#now();
      const held = now - t0;
      if (d.hold && held < (this.#o.maxHoldMs ?? START_GATE_MAX_HOLD_MS)) {
        await sleep(d.delayMs, undefined, { signal });
        continue;
      }
      if (d.hold) this.#o.log.warn({ heldMs: Math.round(held) }, 'the machine stayed saturated; starting the session anyway');
      const due = this.#lastStart + d.delayMs;
      if (due > now) await sleep(due - now, undefined, { signal });
      this.#lastStart = this.#now();
      return;
    }
  }
}
