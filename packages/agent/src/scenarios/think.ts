import { setTimeout as sleep } from 'node:timers/promises';
import type { ThinkTime } from '@userprobe/shared';
import { abortError } from '../collectors/deadline.js';

/** One think pause, uniform in [minMs, maxMs], whole milliseconds. Pure given `random` (0 ≤ r < 1). */
export function thinkPauseMs(t: ThinkTime, random: () => number = Math.random): number {
  return t.minMs + Math.floor((t.maxMs - t.minMs + 1) * random());
}

/** Pause like a person between two exchanges; the session's abort ends it at once. */
export async function think(t: ThinkTime, step: string, signal: AbortSignal, random?: () => number): Promise<void> {
  if (signal.aborted) throw abortError(step, signal);
  const ms = thinkPauseMs(t, random);
  if (ms === 0) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch (e) {
    if (signal.aborted) throw abortError(step, signal);
    throw e;
  }
}
