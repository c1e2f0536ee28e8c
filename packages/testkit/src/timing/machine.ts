import { cpus, loadavg } from 'node:os';

/*
 * The experimenter's own view of the machine: busy share of all cores over
 * time (from the kernel's per-CPU counters) and the load average, for
 * flagging saturated rounds and for failure messages. Kept apart from the
 * agent's CpuMonitor on purpose: the instrument under test does not judge
 * its own experiment.
 */

/** Readings this often while an experiment runs. */
export const MACHINE_SAMPLE_INTERVAL_MS = 250;
/** A round whose mean busy share reaches this was measured on a saturated machine. */
export const SATURATED_BUSY_SHARE = 0.9;

interface Times {
  readonly busy: number;
  readonly total: number;
}

function readTimes(): Times {
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

/** What the machine was doing during an experiment, for its report. */
export interface MachineState {
  readonly cores: number;
  readonly cpuModel: string;
  /** 1-minute load average at the start and at the end. */
  readonly loadStart: number;
  readonly loadEnd: number;
  /** Mean busy share of all cores over the whole experiment, 0..1. */
  readonly busy: number;
}

export function describeMachine(m: MachineState): string {
  return (
    `machine: ${m.cores} × ${m.cpuModel}; load average ${m.loadStart.toFixed(2)} → ${m.loadEnd.toFixed(2)}; ` +
    `${Math.round(m.busy * 100)} % of all cores busy during the experiment`
  );
}

/** Samples the machine's busy share until stopped; answers "how busy was it between a and b". */
export class MachineWatch {
  readonly #readings: { at: number; busy: number }[] = [];
  #last = readTimes();
  readonly #start = readTimes();
  readonly #loadStart = loadavg()[0]!;
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs = MACHINE_SAMPLE_INTERVAL_MS) {
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  #sample(): void {
    const now = readTimes();
    const total = now.total - this.#last.total;
    this.#readings.push({ at: performance.now(), busy: total > 0 ? (now.busy - this.#last.busy) / total : 0 });
    this.#last = now;
  }

  /** Mean busy share of the readings taken in [from, to] (performance.now() ms), or of the reading just after. */
  busyDuring(from: number, to: number): number {
    this.#sample();
    const inside = this.#readings.filter((r) => r.at >= from && r.at <= to + MACHINE_SAMPLE_INTERVAL_MS);
    const use = inside.length > 0 ? inside : this.#readings.slice(-1);
    return use.reduce((s, r) => s + r.busy, 0) / Math.max(1, use.length);
  }

  stop(): MachineState {
    clearInterval(this.#timer);
    const end = readTimes();
    const total = end.total - this.#start.total;
    const info = cpus();
    return {
      cores: info.length,
      cpuModel: info[0]?.model.trim() ?? 'unknown CPU',
      loadStart: this.#loadStart,
      loadEnd: loadavg()[0]!,
      busy: total > 0 ? (end.busy - this.#start.busy) / total : 0,
    };
  }
}
