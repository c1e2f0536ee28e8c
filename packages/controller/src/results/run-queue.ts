/**
 * Writes to one run's files, one at a time; different runs proceed
 * independently. The results folder and the evidence store both go through
 * one of these, so two batches (or two uploads) of a run never interleave
 * their appends, and a write that failed does not stop the ones queued after
 * it. No timers, no I/O: only promise order.
 */
export class RunQueue {
  /** Per run, the tail of its queue (settled, never rejected). */
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Run `fn` after everything queued for `runId` before it has settled; resolves or rejects as `fn` does. */
  run<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(runId) ?? Promise.resolve();
    const next = prev.then(fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(runId, tail);
    void tail.then(() => {
      if (this.#tails.get(runId) === tail) this.#tails.delete(runId);
    });
    return next;
  }

  /** Runs with writes queued or under way. */
  get busy(): number {
    return this.#tails.size;
  }

  /** Resolves once everything queued so far (for every run) has settled. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#tails.values()]);
  }
}
