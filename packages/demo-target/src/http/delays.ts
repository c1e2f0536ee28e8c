export const PRECISE_MARGIN_MS = 10;

/**
 * Exact server-side delays, cancelled all at once when the target closes so a
 * pending delay never keeps the process alive.
 *
 * A timer alone fires late: 1–8 ms on the project's VMs when idle, tens of ms
 * when the process is busy (a test that drives Chromium from the same process).
 * The injected delay is the ground truth every timing test compares with, so a
 * wait sleeps on a timer until PRECISE_MARGIN_MS before its deadline and then
 * yields turn by turn (setImmediate, letting I/O run) until the deadline has
 * passed: late by well under a millisecond unless a single callback blocks the
 * loop, at the price of up to PRECISE_MARGIN_MS of CPU per delayed response.
 */
export class Delays {
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  /** Resolve after `ms`; 0 resolves on the next turn without a timer. Never resolves once closed. */
  wait(ms: number): Promise<void> {
    if (this.#closed) return new Promise(() => {});
    if (ms <= 0) return Promise.resolve();
    const deadline = performance.now() + ms;
    return new Promise((resolve) => {
      const spin = (): void => {
        if (this.#closed) return;
        if (performance.now() >= deadline) resolve();
        else setImmediate(spin);
      };
      const t = setTimeout(
        () => {
          this.#timers.delete(t);
          spin();
        },
        Math.max(0, ms - PRECISE_MARGIN_MS),
      );
      this.#timers.add(t);
    });
  }

  get pending(): number {
    return this.#timers.size;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
