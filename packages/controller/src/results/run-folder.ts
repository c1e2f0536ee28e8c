import { join } from 'node:path';
import { ProbeError, ERROR_CODES, type SessionNote, type SessionStatus } from '@userprobe/shared';

/** The layout of one run's results folder: `<out>/<runId>/…`. */
export const RESULT_FILES = {
  samples: 'samples.jsonl',
  sessions: 'sessions.jsonl',
  batches: 'batches.jsonl',
  run: 'run.json',
  summary: 'summary.json',
  /** The run's assignments and what became of them (run/run-state-file.ts). */
  state: 'run-state.json',
  /** The run's first assignment (profile and options, secret-free): what a re-adopted run reassigns sessions with. */
  assignment: 'assignment.json',
  /** The custom metrics the run's scenario module declared (shared custom-metrics.ts), as its batches brought them. */
  metrics: 'metrics.json',
  /** The run as one self-contained HTML page (results/html-report.ts). */
  report: 'report.html',
} as const;

/** Beside the run folders: a line per monitor round (check, location, slot), written by `controller serve --config`. */
export const MONITOR_ROUNDS_FILE = 'monitor-rounds.jsonl';

/** The run's folder; refuses ids that would leave the results folder ('.', '..'). */
export function runDir(outDir: string, runId: string): string {
  if (runId === '.' || runId === '..' || runId.includes('/') || runId.includes('\\')) {
    throw new ProbeError(ERROR_CODES.SINK_PERMANENT, `run id "${runId}" cannot name a results folder; use letters, digits and - _ : (not "." or "..")`);
  }
  return join(outDir, runId);
}

/** One line of batches.jsonl: the idempotency key plus where the batch's lines end. */
export interface BatchKeyLine {
  readonly agentId: string;
  readonly seq: number;
  readonly samples: number;
  readonly sessions: number;
  /** Byte length of samples.jsonl / sessions.jsonl once this batch was written. */
  readonly samplesEnd: number;
  readonly sessionsEnd: number;
  /** When it was stored, ISO UTC. */
  readonly storedAt: string;
}

/** One line of samples.jsonl. */
export interface SampleLine {
  readonly runId: string;
  readonly agentId: string;
  readonly sessionId: string;
  readonly scenario: string | null;
  readonly metric: string;
  readonly value: number;
  /** ISO 8601 UTC with milliseconds. */
  readonly ts: string;
  readonly location: string;
  readonly browser: string | null;
  readonly saturated: boolean;
  readonly detail?: string;
}

/** One line of sessions.jsonl. */
export interface SessionLine {
  readonly runId: string;
  readonly agentId: string;
  readonly location: string;
  readonly sessionId: string;
  readonly scenario: string;
  readonly browser: string;
  readonly status: SessionStatus;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly failedStep: string | null;
  readonly error: { code: string; message: string } | null;
  readonly artifacts: readonly string[];
  /** The scenario's notes (`recorder.note`), `at` in UTC; absent when it made none. */
  readonly notes?: readonly (Omit<SessionNote, 'at'> & { readonly at: string })[];
}
