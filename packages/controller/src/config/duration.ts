import { ConfigError, MAX_THINK_TIME_MS, type ThinkTime } from '@userprobe/shared';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const DURATION_ACCEPTED = 'a duration such as 500ms, 30s, 2m, 1h, 1d or plain milliseconds (1500)';

/** `30s`, `2m`, `500ms`, `1.5s`, `1h`, or plain ms → whole milliseconds. Pure. */
export function parseDuration(input: string | number, flag: string): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.round(input);
    throw new ConfigError(`${flag}: ${input} is not ${DURATION_ACCEPTED}`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!m) throw new ConfigError(`${flag}: "${input}" is not ${DURATION_ACCEPTED}`);
  const unit = (m[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 86_400_000) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms >= 1_000) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

export const THINK_TIME_ACCEPTED = 'a duration (20s, 500ms, 1m; a plain number is milliseconds) or a range MIN-MAX (10s-30s), each up to 10m';

/**
 * `--think-time`: `20s` (always 20 s) or `10s-30s` (uniform between) → a
 * ThinkTime range. Pure.
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
