/*
 * Adaptive start rate: how long to wait before starting the next session so
 * the machine stays below saturation. Pure AIMD on the start interval, driven
 * by the machine's recent CPU busy share:
 *
 * - cpu ≥ `saturated`: do not start; double the interval (multiplicative
 *   back-off) and ask again after it — unless the machine would stay
 *   saturated without this agent (`cpu − own ≥ saturated`: other processes
 *   load it), where holding starts cannot help: keep the pace (the samples
 *   still carry the saturation flag);
 * - cpu ≥ `high`: start after the current interval, unchanged;
 * - cpu < `high`: shorten the interval by `stepMs` (additive speed-up), then start.
 *
 * Why: on 2 cores, starting 20 sessions at once inflated a 150 ms call to
 * 711 ms; one start per second kept 40 sessions accurate (PLATFORM.md). A
 * session costs most CPU while it loads, so starts are what must be paced.
 */

export interface StartRateConfig {
  /** Fastest pace: at most one start per this many ms. */
  readonly minIntervalMs: number;
  /** Slowest pace (also the longest single wait while saturated). */
  readonly maxIntervalMs: number;
  readonly initialIntervalMs: number;
  /** Additive decrease of the interval while CPU is below `high`. */
  readonly stepMs: number;
  /** CPU busy share (0..1) from which the pace is held. */
  readonly high: number;
  /** CPU busy share (0..1) at which starts stop and the interval doubles. */
  readonly saturated: number;
}

export const DEFAULT_START_RATE: StartRateConfig = Object.freeze({
  minIntervalMs: 100,
  maxIntervalMs: 4_000,
  initialIntervalMs: 500,
  stepMs: 100,
  high: 0.7,
  saturated: 0.85,
});

export interface StartRateState {
  readonly intervalMs: number;
}

export interface CpuReading {
  /** Machine CPU busy share over the recent past, 0..1. */
  readonly cpu: number;
  /** The part of it this agent's own processes (node and its browsers) used, 0..1 of the machine; unknown → treated as all of it. */
  readonly own?: number;
}

export interface StartDecision {
  /** Wait this long after the previous start (or, when `hold`, from now) … */
  readonly delayMs: number;
  /** … and then ask again instead of starting (the machine is saturated). */
  readonly hold: boolean;
  readonly state: StartRateState;
}

export function initialStartRate(cfg: StartRateConfig = DEFAULT_START_RATE): StartRateState {
  return { intervalMs: cfg.initialIntervalMs };
}

export function nextStartDelay(state: StartRateState, reading: CpuReading, cfg: StartRateConfig = DEFAULT_START_RATE): StartDecision {
  const clamp = (ms: number): number => Math.min(cfg.maxIntervalMs, Math.max(cfg.minIntervalMs, ms));
  const external = reading.own === undefined ? 0 : Math.max(0, reading.cpu - reading.own);
  if (reading.cpu >= cfg.saturated && external < cfg.saturated) {
    const intervalMs = clamp(state.intervalMs * 2);
    return { delayMs: intervalMs, hold: true, state: { intervalMs } };
  }
  if (reading.cpu >= cfg.high) {
    const intervalMs = clamp(state.intervalMs);
    return { delayMs: intervalMs, hold: false, state: { intervalMs } };
  }
  const intervalMs = clamp(state.intervalMs - cfg.stepMs);
  return { delayMs: intervalMs, hold: false, state: { intervalMs } };
}
