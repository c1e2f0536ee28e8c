/**
 * Exact server-side delays (setTimeout), cancelled all at once when the
 * target closes so a pending delay never keeps the process alive.
 */
export class Delays {
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  /** Resolve after `ms`; 0 resolves on the next turn without a timer. Never resolves once closed. */
  wait(ms: number): Promise<void> {
    if (this.#closed) return new Promise(() => {});
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
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
