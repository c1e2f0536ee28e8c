import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { MAX_THINK_TIME_MS } from '../limits.js';
import { formatDuration, parseDuration } from './duration.js';

/**
 * Chat scenarios: the pause between a chat's exchanges (after the reply has
 * arrived, before the next message), drawn uniformly from [minMs, maxMs] per
 * pause. A person reads and thinks; back-to-back exchanges are a stress test.
 */
export const ThinkTimeSchema = z
  .strictObject({
    minMs: z.number().int().min(0).max(MAX_THINK_TIME_MS),
    maxMs: z.number().int().min(0).max(MAX_THINK_TIME_MS),
  })
  .refine((t) => t.minMs <= t.maxMs, { message: 'minMs must not exceed maxMs' });
export type ThinkTime = z.infer<typeof ThinkTimeSchema>;

/** No pause: exchanges back to back. */
export const NO_THINK_TIME: ThinkTime = Object.freeze({ minMs: 0, maxMs: 0 });

export const THINK_TIME_ACCEPTED = `a duration (20s, 500ms, 1m; a plain number is milliseconds) or a range MIN-MAX (10s-30s), each up to ${formatDuration(MAX_THINK_TIME_MS)}`;

/**
 * `--think-time`: `20s` (always 20 s) or `10s-30s` (uniform between) → a
 * ThinkTime range; else a ConfigError naming `flag` and what is accepted. Pure.
 */
export function parseThinkTime(input: string | number, flag: string): ThinkTime {
  const parts = typeof input === 'number' ? [input] : input.split('-');
  if (parts.length > 2 || parts.some((p) => typeof p === 'string' && p.trim() === '')) {
    throw new ConfigError(`${flag}: "${input}" is not ${THINK_TIME_ACCEPTED}`);
  }
  const [min, max = min] = parts.map((p) => {
    try {
      return parseDuration(p, flag);
    } catch {
      throw new ConfigError(`${flag}: "${input}" is not ${THINK_TIME_ACCEPTED}`);
    }
  }) as [number, number?];
  if (min > max) throw new ConfigError(`${flag}: the range ${formatDuration(min)}-${formatDuration(max)} ends before it starts; write MIN-MAX, e.g. 10s-30s`);
  if (max > MAX_THINK_TIME_MS) throw new ConfigError(`${flag}: at most ${formatDuration(MAX_THINK_TIME_MS)} (got ${formatDuration(max)})`);
  return { minMs: min, maxMs: max };
}
