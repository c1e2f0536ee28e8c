import {
  MAX_AGENT_WAIT_MS, MAX_CALL_DURATION_MS, MAX_DRAIN_TIMEOUT_MS, MAX_EVIDENCE_BUDGET_BYTES, MAX_EVIDENCE_BUDGET_SESSIONS,
  MAX_EXPECTED_AGENTS, MAX_LOCAL_AGENTS, MAX_MESSAGES, MAX_MIRROR_SAMPLES, MAX_RAMP_UP_MS, MAX_RUN_DURATION_MS,
  MAX_SESSION_TIMEOUT_MS, MAX_STEP_TIMEOUT_MS, MAX_TOTAL_SESSIONS, MIN_AGENT_WAIT_MS, MIN_DRAIN_TIMEOUT_MS, MIN_LOSS_GRACE_MS, MAX_LOSS_GRACE_MS,
} from '@userprobe/shared';
import { formatDuration } from './duration.js';

/**
 * The accepted range of every numeric `controller run` / `serve` flag, checked
 * once at start (config.ts) so a bad value exits 2 naming the flag instead of
 * failing later. The bounds are packages/shared's, the same the wire schemas
 * use: what passes here is never refused by an assignment.
 */
export type RangeUnit = 'count' | 'duration' | 'bytes';

export interface OptionRange {
  /** Smallest accepted value (ms for durations). */
  readonly min: number;
  /** Largest accepted value, included. */
  readonly max: number;
  readonly unit: RangeUnit;
}

const count = (min: number, max: number): OptionRange => ({ min, max, unit: 'count' });
const duration = (min: number, max: number): OptionRange => ({ min, max, unit: 'duration' });

/** By config key (the flag is its kebab-case spelling: `rampUp` → `--ramp-up`). */
export const OPTION_RANGES = {
  port: count(0, 65_535),
  total: count(1, MAX_TOTAL_SESSIONS),
  expectAgents: count(1, MAX_EXPECTED_AGENTS),
  localAgents: count(0, MAX_LOCAL_AGENTS),
  messages: count(1, MAX_MESSAGES),
  mirrorSamples: count(1, MAX_MIRROR_SAMPLES),
  evidenceSessions: count(0, MAX_EVIDENCE_BUDGET_SESSIONS),
  evidenceBytes: { min: 0, max: MAX_EVIDENCE_BUDGET_BYTES, unit: 'bytes' },
  callDuration: duration(0, MAX_CALL_DURATION_MS),
  stepTimeout: duration(1, MAX_STEP_TIMEOUT_MS),
  sessionTimeout: duration(1, MAX_SESSION_TIMEOUT_MS),
  rampUp: duration(0, MAX_RAMP_UP_MS),
  duration: duration(0, MAX_RUN_DURATION_MS),
  agentWait: duration(MIN_AGENT_WAIT_MS, MAX_AGENT_WAIT_MS),
  drainTimeout: duration(MIN_DRAIN_TIMEOUT_MS, MAX_DRAIN_TIMEOUT_MS),
  lossGrace: duration(MIN_LOSS_GRACE_MS, MAX_LOSS_GRACE_MS),
} as const satisfies Readonly<Record<string, OptionRange>>;

export type RangedOption = keyof typeof OPTION_RANGES;

const BYTE_UNITS: ReadonlyArray<readonly [string, number]> = [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];

/** `1099511627776` → `1TiB`; a size that is no whole unit stays in bytes (`1500B`). */
export function formatBytes(n: number): string {
  for (const [unit, size] of BYTE_UNITS) if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}

function show(value: number, unit: RangeUnit): string {
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
  return `${what} from ${show(r.min, r.unit)} to ${show(r.max, r.unit)}`;
}

/**
 * Null when `value` is in range, else the message: the flag, what was given,
 * what is accepted. Durations and sizes arrive parsed (whole ms, bytes);
 * counts may be anything a CLI parser yields (NaN, fractions). Pure.
 */
export function rangeProblem(flag: string, value: number, r: OptionRange): string | null {
  if (Number.isInteger(value) && value >= r.min && value <= r.max) return null;
  const problem = Number.isNaN(value) ? 'not a number'
    : !Number.isInteger(value) ? `${value} is not a whole number`
      : `${show(value, r.unit)} is out of range`;
  return `${flag}: ${problem}; accepted: ${rangeText(r)}`;
}
