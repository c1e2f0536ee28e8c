import { expect } from 'vitest';
import { describeMachine, MachineWatch, SATURATED_BUSY_SHARE, type MachineState } from './machine.js';
import type { Verdict } from './verdict.js';

/*
 * A timing experiment: several arms (a reference and one or more treatments)
 * run in rounds, interleaved, so whatever the machine does meanwhile hits
 * every arm alike. The order alternates between rounds (A B C, then C B A) so
 * a steady drift cancels as well. A round measured while the machine was
 * saturated is repeated, a bounded number of times; if saturation persists,
 * its values are kept and the report says so (the bar then widens with the
 * spread they show — never a silent skip).
 */

export interface Arm<V> {
  readonly name: string;
  run(): Promise<V>;
}

export interface ExperimentOptions {
  /** Unsaturated rounds wanted. */
  readonly rounds: number;
  /** Extra rounds allowed to replace saturated ones (default: as many as `rounds`). */
  readonly maxExtraRounds?: number;
  readonly saturatedAt?: number;
  /** The machine's busy share over [from, to]; the experiment's own MachineWatch by default (tests pass their own). */
  readonly busyDuring?: (from: number, to: number) => number;
}

export interface Round<V> {
  readonly index: number;
  readonly order: readonly string[];
  readonly results: Readonly<Record<string, V>>;
  /** Mean busy share of the machine during the round, 0..1. */
  readonly busy: number;
  readonly saturated: boolean;
}

export interface Experiment<V> {
  /** Every round run, saturated ones included. */
  readonly all: readonly Round<V>[];
  /** The rounds the verdicts use: the unsaturated ones if there are `rounds` of them, else all. */
  readonly used: readonly Round<V>[];
  readonly machine: MachineState;
  /** One value per used round for `arm`, read with `pick` (rounds where it gives undefined are left out). */
  values(arm: string, pick: (v: V) => number | undefined): number[];
  /** The machine and the rounds, in one paragraph. */
  describe(): string;
}

export async function runExperiment<V>(arms: readonly Arm<V>[], o: ExperimentOptions): Promise<Experiment<V>> {
  const names = arms.map((a) => a.name);
  if (new Set(names).size !== names.length) throw new Error(`arm names must differ: ${names.join(', ')}`);
  const watch = new MachineWatch();
  const all: Round<V>[] = [];
  const maxRounds = o.rounds + (o.maxExtraRounds ?? o.rounds);
  const threshold = o.saturatedAt ?? SATURATED_BUSY_SHARE;
  let machine: MachineState;
  try {
    while (all.filter((r) => !r.saturated).length < o.rounds && all.length < maxRounds) {
      const index = all.length;
      const order = index % 2 === 0 ? arms : [...arms].reverse();
      const from = performance.now();
      const results: Record<string, V> = {};
      for (const arm of order) results[arm.name] = await arm.run();
      const busy = (o.busyDuring ?? ((a, b) => watch.busyDuring(a, b)))(from, performance.now());
      all.push({ index, order: order.map((a) => a.name), results, busy, saturated: busy >= threshold });
    }
  } finally {
    machine = watch.stop();
  }
  const calm = all.filter((r) => !r.saturated);
  const used = calm.length >= o.rounds ? calm : all;
  const saturatedCount = all.length - calm.length;
  return {
    all,
    used,
    machine,
    values: (arm, pick) =>
      used.flatMap((r) => {
        const v = pick(r.results[arm] as V);
        return v === undefined ? [] : [v];
      }),
    describe: () =>
      `${describeMachine(machine)}; ${all.length} round(s) of ${names.join(' / ')}, interleaved, order alternating; ` +
      `${saturatedCount} saturated (busy ≥ ${Math.round(threshold * 100)} %: ${all.map((r) => `${Math.round(r.busy * 100)} %`).join(', ')})` +
      (saturatedCount === 0 ? '' : calm.length >= o.rounds ? `, repeated and left out` : `, kept: the machine stayed saturated through ${all.length} rounds`),
  };
}

/**
 * Prints every verdict with the experiment's machine state (the figures the
 * closing notes quote) and fails with all failing lines at once.
 */
export function expectVerdicts(title: string, experiment: Pick<Experiment<unknown>, 'describe'>, verdicts: readonly Verdict[]): void {
  const report = `${title}\n${verdicts.map((v) => `  ${v.text}`).join('\n')}\n  ${experiment.describe()}`;
  console.info(`[figures] ${report}`);
  const failed = verdicts.filter((v) => !v.ok);
  expect(failed.length, failed.length ? `${failed.length} of ${verdicts.length} timing check(s) failed — ${report}` : '').toBe(0);
}
