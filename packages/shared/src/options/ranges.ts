import { formatDuration } from './duration.js';

/*
 * The accepted range of a numeric option (a count, a duration in ms, a size
 * in bytes), and the words that state it: in --help, in the README, and in
 * the one line a value outside it is refused with.
 */

export type RangeUnit = 'count' | 'duration' | 'bytes';

export interface OptionRange {
  /** Smallest accepted value (ms for durations, bytes for sizes). */
  readonly min: number;
  /** Largest accepted value, included. */
  readonly max: number;
  readonly unit: RangeUnit;
}

export const countRange = (min: number, max: number): OptionRange => ({ min, max, unit: 'count' });
export const durationRange = (min: number, max: number): OptionRange => ({ min, max, unit: 'duration' });
export const bytesRange = (min: number, max: number): OptionRange => ({ min, max, unit: 'bytes' });

const BYTE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['TiB', 1024 ** 4],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

/** `1099511627776` → `1TiB`; a size that is no whole unit stays in bytes (`1500B`). */
export function formatBytes(n: number): string {
  for (const [unit, size] of BYTE_UNITS) if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}

/** A value of a range as an operator writes it: `100`, `10m`, `1TiB`. */
export function formatInRange(value: number, unit: RangeUnit): string {
  switch (unit) {
    case 'count':
      return String(value);
    case 'duration':
      return formatDuration(value);
    case 'bytes':
      return formatBytes(value);
    default: {
      const never: never = unit;
      return String(never);
    }
  }
}

/** What a range accepts, in words: "a whole number from 1 to 100", "a duration from 1ms to 10m". */
export function rangeText(r: OptionRange): string {
  const what = r.unit === 'count' ? 'a whole number' : r.unit === 'duration' ? 'a duration' : 'a size';
  return `${what} from ${formatInRange(r.min, r.unit)} to ${formatInRange(r.max, r.unit)}`;
}

/**
 * Null when `value` is in range, else the message: the flag, what was given,
 * what is accepted. Durations and sizes arrive parsed (whole ms, bytes);
 * counts may be anything a CLI parser yields (NaN, fractions). Pure.
 */
export function rangeProblem(flag: string, value: number, r: OptionRange): string | null {
  if (Number.isInteger(value) && value >= r.min && value <= r.max) return null;
  const problem = Number.isNaN(value)
    ? 'not a number'
    : !Number.isInteger(value)
      ? `${value} is not a whole number`
      : `${formatInRange(value, r.unit)} is out of range`;
  return `${flag}: ${problem}; accepted: ${rangeText(r)}`;
}
