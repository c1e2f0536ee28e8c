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

/** How late a slot may still start: past this, it is missed (not replayed) and the next slot is the one to wait for. */
export const SLOT_LATE_LIMIT_MS = 1_000;

/**
 * What to do when a slot's timer fires at `now`. A slot whose round would
 * start more than SLOT_LATE_LIMIT_MS late is missed, and nothing is replayed:
 * after a controller restart or a stall, the check resumes at its next slot.
 */
export function decideSlot(p: { slotAt: number; now: number; previousRunning: boolean; paused: boolean }): SlotDecision {
  if (p.now - p.slotAt > SLOT_LATE_LIMIT_MS) return { kind: 'missed' };
  if (p.paused) return { kind: 'skip', reason: 'paused' };
  if (p.previousRunning) return { kind: 'skip', reason: 'previous-round-running' };
  return { kind: 'start' };
}

/** How many slots, from `slotAt` on, can no longer start on time at `now` (each is counted as missed; none is replayed). */
export function missedSlots(grid: Grid, slotAt: number, now: number): number {
  if (now - slotAt <= SLOT_LATE_LIMIT_MS) return 0;
  return Math.floor((now - SLOT_LATE_LIMIT_MS - slotAt) / grid.intervalMs) + 1;
}
