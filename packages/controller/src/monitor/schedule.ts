import { createHash } from 'node:crypto';

/*
 * A check's schedule: rounds on a fixed grid — slot k starts at
 * `k × interval + phase` (epoch ms) — not "interval after the last one
 * ended", so a slow round never shifts the ones after it. The phase is the
 * check's own, drawn from its name (stable across restarts and reloads, and
 * different per check), so checks with the same interval do not all fire in
 * the same second. Pure.
 */

export interface Grid {
  readonly intervalMs: number;
  readonly phaseMs: number;
}

/** The check's phase within its interval: a hash of its name, uniform in [0, interval). */
export function checkPhaseMs(checkName: string, intervalMs: number): number {
  const h = createHash('sha256').update(checkName).digest();
  return h.readUInt32BE(0) % Math.max(1, intervalMs);
}

export function gridOf(checkName: string, intervalMs: number): Grid {
  return { intervalMs, phaseMs: checkPhaseMs(checkName, intervalMs) };
}

/** The first slot at or after `now`. */
export function nextSlot(grid: Grid, now: number): number {
  const k = Math.ceil((now - grid.phaseMs) / grid.intervalMs);
  return k * grid.intervalMs + grid.phaseMs;
}

/** The slot after `slot` (slots are exact grid points). */
export function slotAfter(grid: Grid, slot: number): number {
  return slot + grid.intervalMs;
}

export type SlotDecision =
  | { readonly kind: 'start' }
  /** The previous round of this check still runs: this slot is not doubled. */
  | { readonly kind: 'skip'; readonly reason: 'previous-round-running' | 'paused' }
  /** The timer fired too late for this slot (the process was stopped, the machine suspended): not replayed. */
  | { readonly kind: 'missed' };

const SLOT_LATE_LIMIT_MIN_MS = 1_000;
const SLOT_LATE_LIMIT_MAX_MS = 30_000;

/**
 * How late a slot may still start: a quarter of the interval, at least 1 s and at most 30 s (a
 * 5-minute check's round 25 s late is still that slot's measurement; a 1 s stall of a loaded
 * controller — seen on a 2-core machine running agents beside it — must not cost a measurement).
 * Past it, the slot is missed (not replayed) and the next slot is the one to wait for. Pure.
 */
export function slotLateLimitMs(intervalMs: number): number {
  return Math.min(SLOT_LATE_LIMIT_MAX_MS, Math.max(SLOT_LATE_LIMIT_MIN_MS, Math.floor(intervalMs / 4)));
}

/**
 * What to do when a slot's timer fires at `now`. A slot whose round would
 * start later than slotLateLimitMs(interval) is missed, and nothing is replayed:
 * after a controller restart or a stall, the check resumes at its next slot.
 */
export function decideSlot(p: { slotAt: number; now: number; intervalMs: number; previousRunning: boolean; paused: boolean }): SlotDecision {
  if (p.now - p.slotAt > slotLateLimitMs(p.intervalMs)) return { kind: 'missed' };
  if (p.paused) return { kind: 'skip', reason: 'paused' };
  if (p.previousRunning) return { kind: 'skip', reason: 'previous-round-running' };
  return { kind: 'start' };
}

/** How many slots, from `slotAt` on, can no longer start on time at `now` (each is counted as missed; none is replayed). */
export function missedSlots(grid: Grid, slotAt: number, now: number): number {
  const limit = slotLateLimitMs(grid.intervalMs);
  if (now - slotAt <= limit) return 0;
  return Math.floor((now - limit - slotAt) / grid.intervalMs) + 1;
}
