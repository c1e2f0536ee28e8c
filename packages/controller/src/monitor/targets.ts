import type { Logger } from 'pino';
import { runProfileProblem } from '../config/config.js';
import { resolveTarget, type ResolvedTarget } from '../config/target.js';
import type { CheckConfig } from './monitor-config.js';

/**
 * The daemon's targets, one per distinct (target, injected demo knobs,
 * profile variables): checks that name the same one share it — the bundled
 * demo is started once for all of them. A target no check uses after a
 * reload is closed once no round of it runs.
 */
export class TargetSet {
  readonly #log: Logger;
  readonly #targets = new Map<string, { target: Promise<ResolvedTarget>; users: number }>();
  readonly #names = new Map<string, string>();

  constructor(log: Logger) {
    this.#log = log;
  }

  static keyOf(check: CheckConfig): string {
    const r = check.run;
    return JSON.stringify([check.target, r.demoLatency, r.demoError, r.profileVars]);
  }

  /** Resolve every check's target and check its options against the profile (runProfileProblem); the problems of all of them at once (none: []). */
  async prepare(checks: readonly CheckConfig[]): Promise<string[]> {
    const problems: string[] = [];
    for (const c of checks) {
      try {
        const t = await this.#get(c);
        this.#names.set(c.name, t.name);
        const problem = runProfileProblem(c.run, t.profile);
        if (problem !== null) problems.push(`checks "${c.name}": ${problem}`);
      } catch (e) {
        problems.push(`checks "${c.name}": target ${c.target}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return problems;
  }

  /** The check's target (resolved by prepare), held until release(). */
  async acquire(check: CheckConfig): Promise<{ target: ResolvedTarget; release: () => void }> {
    const key = TargetSet.keyOf(check);
    const target = await this.#get(check);
    const e = this.#targets.get(key)!;
    e.users += 1;
    return {
      target,
      release: () => {
        e.users -= 1;
      },
    };
  }

  targetName(check: CheckConfig): string {
    return this.#names.get(check.name) ?? check.target;
  }

  /** Close the targets no check of `checks` uses and no round holds. */
  async retain(checks: readonly CheckConfig[]): Promise<void> {
    const keep = new Set(checks.map((c) => TargetSet.keyOf(c)));
    for (const [key, e] of this.#targets) {
      if (keep.has(key) || e.users > 0) continue;
      this.#targets.delete(key);
      await e.target.then(
        (t) => t.close(),
        () => undefined,
      );
    }
  }

  async close(): Promise<void> {
    const all = [...this.#targets.values()];
    this.#targets.clear();
    for (const e of all)
      await e.target
        .then(
          (t) => t.close(),
          () => undefined,
        )
        .catch((err: unknown) => this.#log.warn({ err }, 'target did not close'));
  }

  #get(check: CheckConfig): Promise<ResolvedTarget> {
    const key = TargetSet.keyOf(check);
    const have = this.#targets.get(key);
    if (have) return have.target;
    const r = check.run;
    const target = resolveTarget({ target: check.target, demoLatency: r.demoLatency, demoError: r.demoError, profileVars: r.profileVars, log: this.#log });
    this.#targets.set(key, { target, users: 0 });
    // A failed resolution is not kept: the next reload tries again.
    target.catch(() => {
      if (this.#targets.get(key)?.target === target) this.#targets.delete(key);
    });
    return target;
  }
}
