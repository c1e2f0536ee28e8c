import { z } from 'zod';

/*
 * A monitor round, per check and location: what the daemon decided at a slot
 * and how the run went. Written by the controller (results folder
 * `monitor-rounds.jsonl`, MySQL `monitor_rounds`), read by its operator API
 * and alerts. One vocabulary everywhere:
 * - ok: the round's run ended with every session ok;
 * - failed: the run ended with failed sessions, or failed as a run;
 * - gap: the location had no agent (or none with room): nothing measured there;
 * - skipped: the slot came while the check's previous round still ran, or while checks were paused for a load test;
 * - missed: the slot's time passed before it could start (a stalled or restarted controller): never replayed;
 * - not-run: the run could not start (no plan, its agents left before the start).
 */

export const ROUND_STATUSES = ['ok', 'failed', 'gap', 'skipped', 'missed', 'not-run'] as const;
export type RoundStatus = (typeof ROUND_STATUSES)[number];

export const RoundReportSchema = z.strictObject({
  check: z.string().min(1).max(64),
  location: z.string().min(1).max(128),
  /** The grid slot (UTC epoch ms) and when the round actually started (null: it did not). */
  slotAt: z.number().int(),
  startedAt: z.number().int().nullable(),
  endedAt: z.number().int(),
  status: z.enum(ROUND_STATUSES),
  /** The round's run (null for gap, skipped, missed). */
  runId: z.string().max(64).nullable(),
  scenario: z.string().max(32),
  targetName: z.string().max(128),
  /** The agents that carried it, by name. */
  agents: z.array(z.string().max(64)).max(100),
  sessions: z.strictObject({ planned: z.number().int().min(0), ok: z.number().int().min(0), failed: z.number().int().min(0) }),
  /** Why it was not ok: "no agent in nyc1", the run's error, the step most sessions failed at. */
  reason: z.string().max(2000).nullable(),
  /** The step most failed sessions failed at, and how many failed there. */
  failedStep: z.strictObject({ step: z.string().max(64), count: z.number().int().min(0) }).nullable(),
  exitCode: z.number().int().nullable(),
});
export type RoundReport = z.infer<typeof RoundReportSchema>;
