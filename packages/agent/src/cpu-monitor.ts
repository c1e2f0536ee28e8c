import { cpus } from 'node:os';
import { CPU_SAMPLE_INTERVAL_MS, CPU_SATURATION_THRESHOLD } from './limits.js';

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

/**
 * Watches the whole machine's CPU (the browser runs in other processes) so
 * samples taken while it is saturated can be flagged: the measurement itself
 * may have inflated them.
 */
export class CpuMonitor {
  #last: CpuTimes = readTimes();
  #share = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #threshold: number;

  constructor(threshold = CPU_SATURATION_THRESHOLD) {
    this.#threshold = threshold;
  }

  start(intervalMs = CPU_SAMPLE_INTERVAL_MS): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      const now = readTimes();
      this.#share = busyShare(this.#last, now);
      this.#last = now;
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Busy share over the last interval, 0..1. */
  get cpu(): number {
    return this.#share;
  }

  get saturated(): boolean {
    return this.#share >= this.#threshold;
  }
}
