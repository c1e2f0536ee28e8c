import { cpus, freemem, totalmem } from 'node:os';
import { CPU_SATURATION_THRESHOLD } from '../config/limits.js';

/**
 * Saturation sampling period. Short enough that a 150 ms API call overlaps at
 * most two readings, long enough that /proc/stat deltas are meaningful.
 */
export const SATURATION_SAMPLE_INTERVAL_MS = 250;
/** Readings kept (at 250 ms: one minute), for `saturatedDuring` and `average`. */
export const SATURATION_HISTORY = 240;

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

/** One reading: the machine's busy share over [from, to] (epoch ms). */
export interface CpuReadingWindow {
  readonly from: number;
  readonly to: number;
  readonly cpu: number;
}

/**
 * Pure: was the machine saturated while [from, to] was measured? Judged by the
 * machine's mean busy share over the interval (each overlapping reading
 * weighted by its overlap); an instant, or an interval newer than the last
 * reading, is judged by the reading that holds it (else the last one — the
 * best knowledge of "now"). A brief spike inside a long interval does not
 * flag it; a CPU pegged for most of it does.
 */
export function saturatedDuring(readings: readonly CpuReadingWindow[], from: number, to: number, threshold: number): boolean {
  const last = readings.at(-1);
  if (!last) return false;
  let weighted = 0;
  let covered = 0;
  let holder: CpuReadingWindow | undefined;
  for (let i = readings.length - 1; i >= 0; i--) {
    const r = readings[i]!;
    if (r.to < from) break;
    if (r.from <= to && r.to >= to) holder = r;
    const overlap = Math.min(r.to, to) - Math.max(r.from, from);
    if (overlap > 0) {
      weighted += overlap * r.cpu;
      covered += overlap;
    }
  }
  if (to > last.to) {
    const rest = to - Math.max(from, last.to);
    weighted += rest * last.cpu;
    covered += rest;
  }
  if (covered <= 0) return (holder ?? last).cpu >= threshold;
  return weighted / covered >= threshold;
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

/**
 * Watches the whole machine's CPU (the browser runs in other processes) and
 * memory, so samples measured while the CPU was saturated can be flagged —
 * the measurement itself may have inflated them — and session starts can be
 * paced (start-rate.ts).
 */
export class CpuMonitor {
  #last: CpuTimes = readTimes();
  #lastAt = Date.now();
  readonly #readings: CpuReadingWindow[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #threshold: number;

  constructor(threshold = CPU_SATURATION_THRESHOLD) {
    this.#threshold = threshold;
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
    this.#readings.push({ from: this.#lastAt, to: at, cpu: busyShare(this.#last, now) });
    if (this.#readings.length > SATURATION_HISTORY) this.#readings.shift();
    this.#last = now;
    this.#lastAt = at;
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

  get saturated(): boolean {
    return this.cpu >= this.#threshold;
  }

  /** Was the machine saturated at any time during [from, to] (epoch ms)? */
  saturatedDuring(from: number, to: number): boolean {
    return saturatedDuring(this.#readings, from, to, this.#threshold);
  }

  /** Memory in use on the machine, MB (total − free). */
  get memMb(): number {
    return Math.round((totalmem() - freemem()) / 1_048_576);
  }
}
