import { ConfigError } from '../errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
export const DURATION_ACCEPTED = 'a duration such as 500ms, 30s, 2m, 1h or plain milliseconds (1500)';

/** `30s`, `2m`, `500ms`, `1.5s`, `1h`, or plain ms → whole milliseconds; else a ConfigError naming `flag`. Pure. */
export function parseDuration(input: string | number, flag: string): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return Math.round(input);
    throw new ConfigError(`${flag}: ${input} is not ${DURATION_ACCEPTED}`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (!m) throw new ConfigError(`${flag}: "${input}" is not ${DURATION_ACCEPTED}`);
  const unit = (m[2] ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(m[1]) * UNIT_MS[unit]);
}

/** Whole milliseconds in the largest unit that divides them: `120000` → `2m`, `1500` → `1500ms`. Pure. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0 && ms >= 1_000) return `${ms / 1_000}s`;
  return `${ms}ms`;
}
