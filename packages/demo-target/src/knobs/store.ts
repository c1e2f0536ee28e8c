import { DemoConfigError } from '../errors.js';
import { applyKnobsPatch, defaultKnobs, parseKnobsPatch, type Knobs, type KnobsPatch } from './schema.js';

/** The live knobs of one demo target. Every read sees the latest values. */
export class KnobStore {
  #knobs: Knobs;
  readonly #initial: Knobs;

  /** Throws DemoConfigError when `initial` is not a valid patch. */
  constructor(initial: KnobsPatch = {}) {
    this.#knobs = defaultKnobs();
    this.#knobs = this.set(initial);
    this.#initial = this.#knobs;
  }

  get(): Knobs {
    return structuredClone(this.#knobs);
  }

  /** Latency of one knob, in ms (no copy). */
  latency(name: keyof Knobs['latency']): number {
    return this.#knobs.latency[name];
  }

  error(name: keyof Knobs['errors']): Knobs['errors'][typeof name] {
    return this.#knobs.errors[name];
  }

  /** Merge a patch; throws DemoConfigError (message says what is accepted) on bad input. */
  set(patch: KnobsPatch): Knobs {
    const r = parseKnobsPatch(patch);
    if (!r.ok) throw new DemoConfigError(r.message);
    this.#knobs = applyKnobsPatch(this.#knobs, r.patch);
    return this.get();
  }

  /** Back to the knobs the target was started with. */
  reset(): Knobs {
    this.#knobs = structuredClone(this.#initial);
    return this.get();
  }
}
