import { ownDeclarations, type MetricBatch, type RoundReport } from '@userprobe/shared';
import type { AgentInfo, RunInfo } from '../results/sink.js';
import { ROLLUP_BUCKET_SECONDS } from './limits.js';

/*
 * Pure mapping from wire payloads to the row arrays of the multi-row INSERTs.
 * Column lists and value order are defined together here, so they cannot drift.
 */

export const SAMPLE_COLUMNS = ['run_id', 'session_id', 'agent_id', 'scenario', 'metric', 'value', 'ts', 'location', 'browser', 'saturated', 'detail'] as const;
export type SampleRow = [string, string, string, string, string, number, Date, string, string, 0 | 1, string | null];

export const SESSION_COLUMNS = [
  'run_id',
  'session_id',
  'agent_id',
  'location',
  'scenario',
  'browser',
  'status',
  'started_at',
  'ended_at',
  'failed_step',
  'error_code',
  'error_message',
  'artifact_path',
  'artifacts',
] as const;
export type SessionRow = [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  Date,
  Date,
  string | null,
  string | null,
  string | null,
  string | null,
  string,
];

/**
 * The scenario and browser of a sample: from the batch's session record when it
 * carries one, else from the run (a batch may hold samples of sessions that
 * end in a later batch).
 */
export interface BatchContext {
  readonly scenario: string;
  readonly browser: string;
}

export function sampleRows(batch: MetricBatch, agent: AgentInfo, ctx: BatchContext): SampleRow[] {
  const bySession = new Map(batch.sessions.map((s) => [s.sessionId, s]));
  return batch.samples.map((s) => {
    const rec = bySession.get(s.sessionId);
    return [
      batch.runId,
      s.sessionId,
      batch.agentId,
      rec?.scenario ?? ctx.scenario,
      s.metric,
      s.value,
      new Date(s.ts),
      agent.location,
      rec?.browser ?? ctx.browser,
      s.saturated === true ? 1 : 0,
      s.detail ?? null,
    ];
  });
}

/**
 * Sample rows as the file of `LOAD DATA LOCAL INFILE … FIELDS TERMINATED BY '\t' LINES TERMINATED BY '\n'`
 * (SAMPLES_LOAD_SQL): the default escape character `\`, NULL as `\N`, times as UTC `YYYY-MM-DD HH:MM:SS.mmm`
 * (DATETIME(3) takes them as written; the session time zone is UTC anyway).
 */
export function samplesTsv(rows: readonly SampleRow[]): Buffer {
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(
      [
        tsvText(r[0]),
        tsvText(r[1]),
        tsvText(r[2]),
        tsvText(r[3]),
        tsvText(r[4]),
        String(r[5]),
        utcDatetime(r[6]),
        tsvText(r[7]),
        tsvText(r[8]),
        String(r[9]),
        r[10] === null ? '\\N' : tsvText(r[10]),
      ].join('\t'),
    );
  }
  return Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8');
}

/** The statement that loads samplesTsv's file (the file itself is sent from memory, never read from disk). */
export const SAMPLES_LOAD_SQL = `LOAD DATA LOCAL INFILE 'samples.tsv' INTO TABLE samples CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' (${SAMPLE_COLUMNS.join(', ')})`;

const TSV_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };

/** A text field of the load file: the characters LOAD DATA treats specially, escaped. */
export function tsvText(s: string): string {
  return s.replace(/[\\\t\n\r\0]/g, (c) => TSV_ESCAPES[c]!);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS.mmm` of `d` in UTC. */
export function utcDatetime(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

export const CUSTOM_METRIC_COLUMNS = ['run_id', 'name', 'unit', 'kind', 'description', 'updated_at'] as const;
export type CustomMetricRow = [string, string, string, string, string, Date];

/**
 * The declarations a batch carries (MetricBatch.metrics), as its run's custom_metrics rows stamped
 * `at`; none for a batch without any. A name the catalog defines is left out (the catalog wins).
 */
export function customMetricRows(batch: MetricBatch, at: Date): CustomMetricRow[] {
  return ownDeclarations(batch.metrics).map((d) => [batch.runId, d.name, d.unit, d.kind, d.description, at]);
}

export function sessionRows(batch: MetricBatch, agent: AgentInfo): SessionRow[] {
  return batch.sessions.map((s) => [
    batch.runId,
    s.sessionId,
    batch.agentId,
    agent.location,
    s.scenario,
    s.browser,
    s.status,
    new Date(s.startedAt),
    new Date(s.endedAt),
    s.failedStep,
    s.error?.code ?? null,
    s.error?.message ?? null,
    s.artifacts[0] ?? null,
    JSON.stringify(s.artifacts),
  ]);
}

/** Start (epoch ms) of the rollup bucket holding `ms`. */
export function bucketStartMs(ms: number, bucketSeconds = ROLLUP_BUCKET_SECONDS): number {
  const w = bucketSeconds * 1000;
  return Math.floor(ms / w) * w;
}

/** The distinct rollup buckets a batch touches (samples by ts, sessions by end), ascending. */
export function touchedBuckets(batch: MetricBatch, bucketSeconds = ROLLUP_BUCKET_SECONDS): number[] {
  const set = new Set<number>();
  for (const s of batch.samples) set.add(bucketStartMs(s.ts, bucketSeconds));
  for (const s of batch.sessions) set.add(bucketStartMs(s.endedAt, bucketSeconds));
  return [...set].sort((a, b) => a - b);
}

export function runRow(run: RunInfo): [string, string, string, string, number, string, Date, string, string | null] {
  return [
    run.runId,
    run.scenario,
    run.browser,
    run.targetName,
    run.total,
    'running',
    new Date(run.startedAt),
    JSON.stringify(run.params),
    run.checkName ?? null,
  ];
}

export const ROUND_COLUMNS = [
  'check_name',
  'location',
  'slot_at',
  'started_at',
  'ended_at',
  'status',
  'run_id',
  'scenario',
  'target_name',
  'agents',
  'sessions_planned',
  'sessions_ok',
  'sessions_failed',
  'reason',
  'failed_step',
  'exit_code',
] as const;

/** A monitor round's row in monitor_rounds (ROUND_COLUMNS order). */
export function roundRow(r: RoundReport): unknown[] {
  return [
    r.check,
    r.location,
    new Date(r.slotAt),
    r.startedAt === null ? null : new Date(r.startedAt),
    new Date(r.endedAt),
    r.status,
    r.runId,
    r.scenario,
    r.targetName,
    JSON.stringify(r.agents),
    r.sessions.planned,
    r.sessions.ok,
    r.sessions.failed,
    r.reason,
    r.failedStep?.step ?? null,
    r.exitCode,
  ];
}

export function runAgentRow(runId: string, a: AgentInfo, joinedAt: number): [string, string, string, string, string, string, Date] {
  return [runId, a.agentId, a.name, a.location, JSON.stringify(a.labels), JSON.stringify(a.capacity), new Date(joinedAt)];
}

/** Splits rows into chunks of at most `size` for multi-row statements. */
export function chunk<T>(rows: readonly T[], size: number): T[][] {
  if (!(size > 0)) throw new RangeError(`chunk size must be positive, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
