import {
  MAX_AGENT_WAIT_MS,
  MAX_DRAIN_TIMEOUT_MS,
  MAX_EVIDENCE_BUDGET_BYTES,
  MAX_EVIDENCE_BUDGET_SESSIONS,
  MAX_EXPECTED_AGENTS,
  MAX_LOCAL_AGENTS,
  MAX_RAMP_UP_MS,
  MAX_RUN_DURATION_MS,
  MAX_TOTAL_SESSIONS,
  MIN_AGENT_WAIT_MS,
  MIN_DRAIN_TIMEOUT_MS,
  MIN_LOSS_GRACE_MS,
  MAX_LOSS_GRACE_MS,
  bytesRange,
  countRange,
  durationRange,
  type OptionRange,
} from '@userprobe/shared';

/**
 * The accepted range of every numeric `controller run` / `serve` flag that
 * is the controller's own, checked once at start (config.ts) so a bad value
 * exits 2 naming the flag instead of failing later. The scenario options'
 * ranges (--messages, --step-timeout, …) are in their table in
 * packages/shared (options/scenario-options.ts), with the wire schema
 * agents check: what passes here is never refused by an assignment.
 */
export const OPTION_RANGES = {
  port: countRange(0, 65_535),
  total: countRange(1, MAX_TOTAL_SESSIONS),
  expectAgents: countRange(1, MAX_EXPECTED_AGENTS),
  localAgents: countRange(0, MAX_LOCAL_AGENTS),
  evidenceSessions: countRange(0, MAX_EVIDENCE_BUDGET_SESSIONS),
  evidenceBytes: bytesRange(0, MAX_EVIDENCE_BUDGET_BYTES),
  rampUp: durationRange(0, MAX_RAMP_UP_MS),
  duration: durationRange(0, MAX_RUN_DURATION_MS),
  agentWait: durationRange(MIN_AGENT_WAIT_MS, MAX_AGENT_WAIT_MS),
  drainTimeout: durationRange(MIN_DRAIN_TIMEOUT_MS, MAX_DRAIN_TIMEOUT_MS),
  lossGrace: durationRange(MIN_LOSS_GRACE_MS, MAX_LOSS_GRACE_MS),
} as const satisfies Readonly<Record<string, OptionRange>>;

/** By config key (the flag is its kebab-case spelling: `rampUp` → `--ramp-up`). */
export type RangedOption = keyof typeof OPTION_RANGES;
