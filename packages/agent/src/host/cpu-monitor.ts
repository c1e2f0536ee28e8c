import { cpus, freemem, totalmem } from 'node:os';
import { CPU_SATURATION_THRESHOLD, OTHERS_SATURATION_THRESHOLD } from '../config/limits.js';

/**
 * Saturation sampling period. Short enough that a 150 ms API call overlaps at
 * most two readings, long enough that /proc/stat deltas are meaningful.
 */
export const SATURATION_SAMPLE_INTERVAL_MS = 250;
/** Readings kept (at 250 ms: one minute), for `crowdedDuring` and `recent`. */
export const SATURATION_HISTORY = 240;
/** Others' share is read this often while one session is live (a process-tree read costs a few ms)… */
export const OTHERS_SAMPLE_INTERVAL_MS = 1_000;
/** …and this often while none is (an idle agent between rounds keeps a recent base without scanning /proc every second). */
export const OTHERS_IDLE_INTERVAL_MS = 5_000;

interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

function readTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/** Pure: busy share of the machine between two readings, 0..1. */
export function busyShare(a: CpuTimes, b: CpuTimes): number {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return Math.min(1, Math.max(0, (b.busy - a.busy) / total));
}

/** One reading: the machine's busy share over [from, to] (epoch ms), and the most sessions this agent had live in it. */
export interface CpuReadingWindow {
  readonly from: number;
  readonly to: number;
  readonly cpu: number;
  /** Sessions live on this agent during the reading (the more of its two ends); undefined when not counted. */
  readonly sessions?: number;
}

/** The share of the machine used over [from, to] by processes outside this agent's tree (other programs, other agents). */
export interface OthersWindow {
  readonly from: number;
  readonly to: number;
  readonly others: number;
}

/**
 * Pure: the mean of `value` over [from, to], each window weighted by its
 * overlap; an instant, or an interval newer than the last window, takes the
 * window that holds it (else the last one — the best knowledge of "now").
 * Undefined without windows.
 */
export function meanOver<W extends { readonly from: number; readonly to: number }>(
  windows: readonly W[],
  from: number,
  to: number,
  value: (w: W) => number,
): number | undefined {
  const last = windows.at(-1);
  if (!last) return undefined;
  let weighted = 0;
  let covered = 0;
  let holder: W | undefined;
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i]!;
    if (w.to < from) break;
    if (w.from <= to && w.to >= to) holder = w;
    const overlap = Math.min(w.to, to) - Math.max(w.from, from);
    if (overlap > 0) {
      weighted += overlap * value(w);
      covered += overlap;
    }
  }
  if (to > last.to) {
    const rest = to - Math.max(from, last.to);
    weighted += rest * value(last);
    covered += rest;
  }
  if (covered <= 0) return value(holder ?? last);
  return weighted / covered;
}

/**
 * Pure: was the machine busy while [from, to] was measured? Judged by its mean
 * busy share over the interval (see meanOver). A brief spike inside a long
 * interval does not count; a CPU pegged for most of it does.
 */
export function saturatedDuring(readings: readonly CpuReadingWindow[], from: number, to: number, threshold: number): boolean {
  return (meanOver(readings, from, to, (r) => r.cpu) ?? 0) >= threshold;
}

/** Pure: the most sessions live in any reading that overlaps [from, to] (or holds it, or the last); undefined when not counted. */
export function sessionsDuring(readings: readonly CpuReadingWindow[], from: number, to: number): number | undefined {
  let most: number | undefined;
  let seen = false;
  for (let i = readings.length - 1; i >= 0; i--) {
    const r = readings[i]!;
    if (r.to < from) break;
    if (r.from > to) continue;
    seen = true;
    if (r.sessions === undefined) return undefined;
    most = Math.max(most ?? 0, r.sessions);
  }
  if (!seen) return readings.at(-1)?.sessions;
  return most;
}

export interface ContentionLimits {
  /** Machine busy share at or above which the CPU counts as full. */
  readonly threshold: number;
  /** Share of the machine other processes must take, while the CPU is full, for a lone session to count as crowded. */
  readonly othersThreshold: number;
}

/**
 * Pure: was a sample measured over [from, to] crowded — the CPU full while
 * something besides the session itself wanted it? One session on its own is
 * the reference every fidelity figure is measured against (bench/fidelity:
 * drift against one session on the same machine), so a lone session whose
 * own page load fills a small machine is not flagged. The CPU full with two
 * or more of this agent's sessions live, or with other processes taking
 * `othersThreshold` of the machine, is. Unknown session counts or others'
 * share judge by the CPU alone, as before they were measured.
 */
export function crowdedDuring(
  readings: readonly CpuReadingWindow[],
  others: readonly OthersWindow[],
  from: number,
  to: number,
  limits: ContentionLimits,
): boolean {
  if (!saturatedDuring(readings, from, to, limits.threshold)) return false;
  const sessions = sessionsDuring(readings, from, to);
  if (sessions === undefined || sessions >= 2) return true;
  const o = meanOver(others, from, to, (w) => w.others);
  return o === undefined || o >= limits.othersThreshold;
}

/** Pure: mean busy share of the readings ending within the last `windowMs` before `now` (the last one if none). */
export function recentCpu(readings: readonly CpuReadingWindow[], now: number, windowMs: number): number {
  let sum = 0;
  let n = 0;
  for (let i = readings.length - 1; i >= 0; i--) {
    const r = readings[i]!;
    if (r.to < now - windowMs) break;
    sum += r.cpu;
    n += 1;
  }
  return n > 0 ? sum / n : (readings.at(-1)?.cpu ?? 0);
}

export interface CpuMonitorOptions {
  /** Machine busy share at or above which the CPU counts as full (default CPU_SATURATION_THRESHOLD). */
  readonly threshold?: number;
  /** See ContentionLimits (default OTHERS_SATURATION_THRESHOLD). */
  readonly othersThreshold?: number;
  /** Sessions live on this agent now; without it every full-CPU sample is flagged. */
  readonly sessions?: () => number;
  /** CPU time used so far by this agent's process tree, ms (ProcessTreeCpu.cpuMs); without it others' share is unknown. */
  readonly ownCpuMs?: () => number | undefined;
}

/**
 * Watches the whole machine's CPU (the browser runs in other processes) and
 * memory, so samples measured while the CPU was crowded can be flagged —
 * the crowding may have inflated them — and session starts can be paced
 * (start-rate.ts). While one session is live it also reads, once per
 * OTHERS_SAMPLE_INTERVAL_MS (OTHERS_IDLE_INTERVAL_MS while none is), how much of
 * the machine processes outside this agent's tree use (see crowdedDuring); with
 * more sessions live a full CPU is crowded anyway, and the process tree (which
 * grows with them) is not read.
 */
export class CpuMonitor {
  #last: CpuTimes = readTimes();
  #lastAt = Date.now();
  #lastSessions: number | undefined;
  readonly #readings: CpuReadingWindow[] = [];
  readonly #others: OthersWindow[] = [];
  #othersBase: { at: number; times: CpuTimes; ownMs: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #limits: ContentionLimits;
  readonly #o: CpuMonitorOptions;

  constructor(o: CpuMonitorOptions = {}) {
    this.#o = o;
    this.#limits = {
      threshold: o.threshold ?? CPU_SATURATION_THRESHOLD,
      othersThreshold: o.othersThreshold ?? OTHERS_SATURATION_THRESHOLD,
    };
  }

  start(intervalMs = SATURATION_SAMPLE_INTERVAL_MS): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** Take a reading now (the timer does this every interval). */
  sample(): void {
    const now = readTimes();
    const at = Date.now();
    const live = this.#o.sessions?.();
    const sessions = live === undefined ? undefined : Math.max(live, this.#lastSessions ?? live);
    keep(this.#readings, { from: this.#lastAt, to: at, cpu: busyShare(this.#last, now), sessions });
    if (live !== undefined && live <= 1) this.#sampleOthers(now, at, live === 0 ? OTHERS_IDLE_INTERVAL_MS : OTHERS_SAMPLE_INTERVAL_MS);
    this.#last = now;
    this.#lastAt = at;
    this.#lastSessions = live;
  }

  #sampleOthers(now: CpuTimes, at: number, everyMs: number): void {
    const base = this.#othersBase;
    if (base && at - base.at < everyMs) return;
    const ownMs = this.#o.ownCpuMs?.();
    if (ownMs === undefined) return;
    if (base) {
      const total = now.total - base.times.total;
      const othersMs = now.busy - base.times.busy - (ownMs - base.ownMs);
      if (total > 0) keep(this.#others, { from: base.at, to: at, others: Math.min(1, Math.max(0, othersMs / total)) });
    }
    this.#othersBase = { at, times: now, ownMs };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Busy share over the last interval, 0..1. */
  get cpu(): number {
    return this.#readings.at(-1)?.cpu ?? 0;
  }

  /** Mean busy share over the last `windowMs`. */
  recent(windowMs: number): number {
    return recentCpu(this.#readings, Date.now(), windowMs);
  }

  /** The machine's CPU is full now (status reports and start pacing; samples are judged by `crowdedDuring`). */
  get saturated(): boolean {
    return this.cpu >= this.#limits.threshold;
  }

  /** Was the CPU crowded while [from, to] (epoch ms) was measured? See crowdedDuring. */
  crowdedDuring(from: number, to: number): boolean {
    return crowdedDuring(this.#readings, this.#others, from, to, this.#limits);
  }

  /** Memory in use on the machine, MB (total − free). */
  get memMb(): number {
    return Math.round((totalmem() - freemem()) / 1_048_576);
  }
}

function keep<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > SATURATION_HISTORY) list.shift();
}
