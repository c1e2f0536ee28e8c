import { readTimes, type CpuTimes } from './cpu-monitor.js';

/*
 * What the sessions running now cost once settled (the start gate's question before it admits
 * one more; start-rate.ts settledCap): the machine's busy share, and this agent's own share of it,
 * over a window in which no session started and every running session had been running for
 * `settleMs` — so what it shows is sessions waiting and exchanging messages, not loading pages.
 * Marks (the machine's CPU times, this agent's process-tree CPU time, the sessions running) are
 * taken when the gate asks, at most every SETTLED_MARK_EVERY_MS: the gate asks while a start
 * waits, which is when the answer matters. A process-tree read costs a few ms.
 */

export const SETTLED_MARK_EVERY_MS = 5_000;
/** Marks kept: two minutes at one per 5 s, more than a window needs. */
export const SETTLED_MARKS = 24;

/** Which window counts as one of settled sessions. */
export interface SettledWindow {
  /** A session has settled (its page loads and first exchange are behind it) this long after its start. */
  readonly settleMs: number;
  /** The settled cost is read over a window this long, with no start in it. */
  readonly windowMs: number;
}

/** The machine's load over a window of settled sessions. */
export interface SettledReading {
  /** Machine busy share over the window, 0..1. */
  readonly cpu: number;
  /** This agent's own processes' share of the machine over it, 0..1; undefined when not known (then: all of cpu). */
  readonly own?: number;
  /** Sessions running throughout the window (the fewer of its two ends). */
  readonly sessions: number;
}

export interface LoadMark {
  /** performance.now() of the mark. */
  readonly at: number;
  readonly times: CpuTimes;
  /** CPU time of this agent's process tree so far, ms; undefined when not known. */
  readonly ownMs: number | undefined;
  readonly sessions: number;
}

/**
 * Pure: the reading over the newest window of at least `windowMs` between an earlier mark and the last one, if that
 * earlier mark came after every running session had settled (`sinceLastStartMs` ago the last one started) and
 * sessions ran at both ends; else undefined.
 */
export function settledReading(marks: readonly LoadMark[], sinceLastStartMs: number, cfg: SettledWindow): SettledReading | undefined {
  const last = marks.at(-1);
  if (!last) return undefined;
  const settledAt = last.at - sinceLastStartMs + cfg.settleMs;
  let first: LoadMark | undefined;
  for (let i = marks.length - 2; i >= 0; i--) {
    if (last.at - marks[i]!.at >= cfg.windowMs) {
      first = marks[i];
      break;
    }
  }
  if (!first || first.at < settledAt || first.sessions < 1 || last.sessions < 1) return undefined;
  const total = last.times.total - first.times.total;
  if (total <= 0) return undefined;
  const share = (x: number): number => Math.min(1, Math.max(0, x / total));
  return {
    cpu: share(last.times.busy - first.times.busy),
    own: first.ownMs === undefined || last.ownMs === undefined ? undefined : share(last.ownMs - first.ownMs),
    sessions: Math.min(first.sessions, last.sessions),
  };
}

export interface SettledLoadOptions {
  /** Sessions running on this agent now. */
  readonly sessions: () => number;
  /** CPU time used so far by this agent's process tree, ms (ProcessTreeCpu.cpuMs); undefined when not known. */
  readonly ownCpuMs: () => number | undefined;
  readonly now?: () => number;
  readonly times?: () => CpuTimes;
}

/** Takes the marks and answers settledReading over them. */
export class SettledLoad {
  readonly #o: SettledLoadOptions;
  readonly #now: () => number;
  readonly #times: () => CpuTimes;
  readonly #marks: LoadMark[] = [];

  constructor(o: SettledLoadOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
    this.#times = o.times ?? readTimes;
  }

  /** Mark now (unless the last mark is recent) and read the settled load, if a window of settled sessions is there. */
  read(sinceLastStartMs: number, cfg: SettledWindow): SettledReading | undefined {
    const at = this.#now();
    const last = this.#marks.at(-1);
    if (!last || at - last.at >= SETTLED_MARK_EVERY_MS) {
      this.#marks.push({ at, times: this.#times(), ownMs: this.#o.ownCpuMs(), sessions: this.#o.sessions() });
      if (this.#marks.length > SETTLED_MARKS) this.#marks.shift();
    }
    // settledReading counts from the last mark, which may be up to SETTLED_MARK_EVERY_MS old
    return settledReading(this.#marks, sinceLastStartMs - (at - this.#marks.at(-1)!.at), cfg);
  }
}
