/*
 * Group commit for the MySQL sink: writes that arrive while `lanes` groups are
 * being written wait, then go to MySQL together, up to `maxItems` of them and
 * `maxWeight` (samples) in one group — one transaction, one COMMIT (one
 * redo-log flush) for many batches. A lone write on an idle sink goes at once,
 * alone: grouping adds no wait, it only gathers what is already waiting.
 *
 * `nextGroupSize` decides how many waiting items the next group takes (pure,
 * table-tested in group-queue.test.ts); GroupQueue does the waiting. Each item
 * settles with its own outcome from `write`, so one group can store some
 * batches and call others duplicates.
 */

export interface GroupLimits {
  /** Groups written at once (each on its own connection). */
  readonly lanes: number;
  /** Items in one group at most. */
  readonly maxItems: number;
  /** Total weight (samples) of one group at most; an item heavier than this alone still makes a group of one. */
  readonly maxWeight: number;
}

/** How many of the waiting items (their weights, oldest first) the next group takes: at least one while any waits. */
export function nextGroupSize(weights: readonly number[], limits: Pick<GroupLimits, 'maxItems' | 'maxWeight'>): number {
  let n = 0;
  let total = 0;
  for (const w of weights) {
    if (n >= limits.maxItems) break;
    if (n > 0 && total + w > limits.maxWeight) break;
    total += w;
    n += 1;
  }
  return n;
}

/** The outcome of one item of a group, as `write` reports it. */
export type ItemOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

interface Waiting<T, R> {
  readonly item: T;
  readonly weight: number;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupQueue<T, R> {
  readonly #waiting: Array<Waiting<T, R>> = [];
  #busy = 0;

  readonly #limits: GroupLimits;
  readonly #weight: (item: T) => number;
  readonly #write: (group: readonly T[]) => Promise<ReadonlyArray<ItemOutcome<R>>>;

  /**
   * @param write writes one group; resolves with one outcome per item, in order (a rejection fails every item of the group)
   * @param weight an item's weight (for `maxWeight`)
   */
  constructor(limits: GroupLimits, weight: (item: T) => number, write: (group: readonly T[]) => Promise<ReadonlyArray<ItemOutcome<R>>>) {
    if (!(limits.lanes >= 1 && limits.maxItems >= 1 && limits.maxWeight >= 1))
      throw new RangeError(`group limits must be at least 1, got ${JSON.stringify(limits)}`);
    this.#limits = limits;
    this.#weight = weight;
    this.#write = write;
  }

  /** Resolves with the item's outcome once its group is written. */
  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, weight: this.#weight(item), resolve, reject });
      this.#pump();
    });
  }

  /** Items waiting for a lane (not those being written). */
  get waiting(): number {
    return this.#waiting.length;
  }

  #pump(): void {
    while (this.#busy < this.#limits.lanes && this.#waiting.length > 0) {
      const n = nextGroupSize(
        this.#waiting.map((w) => w.weight),
        this.#limits,
      );
      const group = this.#waiting.splice(0, n);
      this.#busy += 1;
      void this.#run(group);
    }
  }

  async #run(group: Array<Waiting<T, R>>): Promise<void> {
    try {
      const outcomes = await this.#write(group.map((w) => w.item));
      group.forEach((w, i) => {
        const o = outcomes[i];
        if (o === undefined) w.reject(new Error(`group write reported ${outcomes.length} outcomes for ${group.length} items`));
        else if (o.ok) w.resolve(o.value);
        else w.reject(o.error);
      });
    } catch (e) {
      for (const w of group) w.reject(e);
    } finally {
      this.#busy -= 1;
      this.#pump();
    }
  }
}
