import type { Logger } from 'pino';
import { CLOCK_SYNC_ROUNDS, ClockPongSchema, describeError } from '@userprobe/shared';
import type { AgentSocket } from './agent-socket.js';
import { CLOCK_SYNC_ROUND_TIMEOUT_MS } from '../config/limits.js';

/** One round trip: local send time, local receive time, the controller's clock in between. */
export interface ClockSample {
  readonly t0: number;
  readonly t1: number;
  readonly controllerNow: number;
}

export interface ClockEstimate {
  /** controller clock − local clock, ms. controllerTime = localTime + offsetMs. */
  readonly offsetMs: number;
  /** Round trip of the sample used; the offset is uncertain by ± rttMs / 2. */
  readonly rttMs: number;
  readonly samples: number;
}

/**
 * Pure: the offset from the sample with the smallest round trip (the one least
 * disturbed by queueing), assuming the controller read its clock half-way.
 * Returns null when there is no sample.
 */
export function estimateOffset(samples: readonly ClockSample[]): ClockEstimate | null {
  let best: ClockSample | undefined;
  for (const s of samples) {
    if (s.t1 < s.t0) continue;
    if (!best || s.t1 - s.t0 < best.t1 - best.t0) best = s;
  }
  if (!best) return null;
  const rttMs = best.t1 - best.t0;
  return { offsetMs: best.controllerNow - (best.t0 + rttMs / 2), rttMs, samples: samples.length };
}

/** Controller time (epoch ms) → this machine's clock. */
export function toLocalTime(controllerTs: number, offsetMs: number): number {
  return controllerTs - offsetMs;
}

/** This machine's clock → controller time. */
export function toControllerTime(localTs: number, offsetMs: number): number {
  return localTs + offsetMs;
}

/**
 * Estimate the offset to the controller with `rounds` sequential `clock:sync`
 * round trips. Rounds that time out or answer malformed are skipped; if none
 * succeeds the result is null (callers fall back to offset 0 and say so).
 */
export async function syncClock(socket: AgentSocket, log: Logger, rounds = CLOCK_SYNC_ROUNDS, now: () => number = Date.now): Promise<ClockEstimate | null> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < rounds; i += 1) {
    if (!socket.connected) break;
    const t0 = now();
    try {
      const reply: unknown = await socket.timeout(CLOCK_SYNC_ROUND_TIMEOUT_MS).emitWithAck('clock:sync', { t0 });
      const t1 = now();
      const pong = ClockPongSchema.safeParse(reply);
      if (!pong.success || pong.data.t0 !== t0) {
        log.warn({ component: 'clock-sync' }, 'malformed clock:sync reply dropped');
        continue;
      }
      samples.push({ t0, t1, controllerNow: pong.data.controllerNow });
    } catch (e) {
      log.warn({ component: 'clock-sync', err: describeError(e) }, 'clock:sync round lost');
    }
  }
  return estimateOffset(samples);
}
