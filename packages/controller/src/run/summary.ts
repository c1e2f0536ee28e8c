import {
  coreMetrics,
  metricUnit,
  ownDeclarations,
  percentileSorted,
  splitsByDetail,
  summarize,
  type BrowserKind,
  type CustomMetricDef,
  type HarMode,
  type ScenarioName,
  type SessionStatus,
  type SkippedMetric,
  type StartGateHold,
} from '@userprobe/shared';
import { thresholdLine, type ThresholdResult } from './thresholds.js';

/*
 * The end-of-run summary, computed from what is durable (the results files):
 * per metric (count, errors, p50/p95/p99/max, samples flagged saturated),
 * per agent, and per failed step. Pure; the renderer is a fixed-width table.
 *
 * `errors` of a core metric = sessions that did not succeed and recorded no
 * value for it (the measurement that was lost). Extra metrics have no errors.
 *
 * Saturation: `saturated` counts the samples an agent measured while its CPU
 * was saturated (their values may be inflated by the measurement itself);
 * `unsaturated` holds the stats without them, and is what thresholds use by
 * default (`thresholdStats`).
 *
 * A metric whose samples' detail names what was measured (api_request and
 * api_server_wait: the request pattern; MetricDef.byDetail) also gets one row
 * per detail, since mixing patterns in one percentile means nothing.
 */

export interface SummarySample {
  readonly agentId: string;
  readonly sessionId: string;
  readonly metric: string;
  readonly value: number;
  readonly detail?: string | undefined;
  readonly saturated?: boolean | undefined;
}

export interface SummarySession {
  readonly agentId: string;
  readonly sessionId: string;
  readonly status: SessionStatus;
  readonly failedStep: string | null;
  /** When it started and ended, epoch ms in the controller's clock (absent: the peak is the agents' peaks, summed). */
  readonly startMs?: number;
  readonly endMs?: number;
}

export interface SummaryAgent {
  readonly agentId: string;
  readonly name: string;
  readonly location: string;
}

/** What became of the run's evidence (see evidence-store.ts). */
export interface SummaryEvidenceInput {
  readonly har: HarMode;
  readonly budget: { readonly maxSessions: number; readonly maxBytes: number };
  readonly sessions: number;
  readonly bytes: number;
  readonly skippedFiles: number;
  readonly skippedBytes: number;
}

export interface SummaryInput {
  readonly runId: string;
  readonly scenario: ScenarioName;
  /** Which browser measured the run. */
  readonly browser?: BrowserKind;
  readonly evidence?: SummaryEvidenceInput;
  /** Per agent: agreed start → its last session started, and its peak of concurrent sessions (from run:finished). */
  readonly ramp?: readonly {
    readonly agentId: string;
    readonly rampMs?: number | undefined;
    readonly peakConcurrent?: number | undefined;
    /** What the agent's adaptive start gate held back (absent: the gate was off). */
    readonly startGate?: StartGateHold | undefined;
  }[];
  /** Sessions the run planned; null when sessions repeat (--duration) and the count is open. */
  readonly expectedSessions: number | null;
  /**
   * What the run could not measure because an agent was lost: sessions that
   * were running on it (lost), planned sessions nobody ran (notRun), and how
   * many planned sessions ran on another agent than planned (reassigned).
   */
  readonly gaps?: { readonly lost: readonly string[]; readonly notRun: readonly string[]; readonly reassigned: number };
  readonly agents: readonly SummaryAgent[];
  readonly samples: readonly SummarySample[];
  readonly sessions: readonly SummarySession[];
  /** Core metrics the run's profile gives no step for (skippedMetrics): not measured, never counted missing. */
  readonly skipped?: readonly SkippedMetric[];
  /**
   * Each session's planned start (the agreed start plus its ramp offset, controller clock), for the
   * sessions that have one: first attempts, first rounds. Absent: no start lateness is reported.
   */
  readonly plannedStarts?: ReadonlyMap<string, number>;
  /** The custom metrics the run's scenario module declared (its batches' declarations): their units, and those of kind core count like core metrics. */
  readonly metrics?: readonly CustomMetricDef[];
}

export interface Stats {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

export interface MetricSummary {
  readonly metric: string;
  readonly unit: string;
  /** A custom metric the run's scenario module declared, and its kind (absent for catalog metrics). */
  readonly custom?: 'core' | 'extra';
  readonly count: number;
  readonly errors: number;
  readonly saturated: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  /** The same stats without the saturated samples. */
  readonly unsaturated: Stats;
  /** Per detail, for metrics whose detail names what was measured (else empty). */
  readonly byDetail: readonly DetailSummary[];
}

export interface DetailSummary {
  readonly detail: string;
  readonly count: number;
  readonly saturated: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  readonly unsaturated: Stats;
}

/** Stats of some samples, and of those not flagged saturated. */
function statsOf(samples: readonly SummarySample[]): Omit<DetailSummary, 'detail'> {
  const st = summarize(samples.map((s) => s.value));
  const clean = summarize(samples.filter((s) => !s.saturated).map((s) => s.value));
  return {
    count: st?.count ?? 0,
    saturated: samples.filter((s) => s.saturated).length,
    p50: st?.p50 ?? null,
    p95: st?.p95 ?? null,
    p99: st?.p99 ?? null,
    max: st?.max ?? null,
    mean: st?.mean ?? null,
    unsaturated: {
      count: clean?.count ?? 0,
      p50: clean?.p50 ?? null,
      p90: clean?.p90 ?? null,
      p95: clean?.p95 ?? null,
      p99: clean?.p99 ?? null,
      max: clean?.max ?? null,
      mean: clean?.mean ?? null,
    },
    p90: st?.p90 ?? null,
  };
}

export interface AgentSummary {
  readonly agentId: string;
  readonly name: string;
  readonly location: string;
  readonly sessionsOk: number;
  readonly sessionsFailed: number;
  readonly sessionsAborted: number;
  readonly samples: number;
}

export interface EvidenceSummary extends SummaryEvidenceInput {
  /** Sessions whose evidence was wanted (failed ones; every one with har 'all') but not stored. */
  readonly skippedSessions: number;
}

export interface RunSummary {
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly browser: BrowserKind | null;
  readonly evidence: EvidenceSummary | null;
  /**
   * Time to reach full concurrency (the slowest agent's), and the most sessions that ran at once
   * across the cluster (from the session records' start and end; the agents' peaks summed when a
   * record has no times).
   */
  readonly ramp: {
    readonly fullConcurrencyMs: number;
    readonly peakConcurrent: number;
    /** Summed over the agents (the longest: the longest anywhere); null when no agent ran the adaptive start gate. */
    readonly startGate: StartGateHold | null;
    /** How late sessions started against their planned instant (startLateness); null when none had a planned start. */
    readonly startLateness?: StartLateness | null;
  } | null;
  readonly sessions: {
    readonly expected: number | null;
    readonly recorded: number;
    readonly ok: number;
    readonly failed: number;
    readonly aborted: number;
    readonly missing: number;
    /** Running on an agent that was lost: no record; their samples are in `partial`, not in the metrics. */
    readonly lost: number;
    /** Planned, never run (their agent was lost and no other could take them before the run ended). */
    readonly notRun: number;
    /** Planned sessions that ran on another agent than planned (their ids end in `.a<n>`). */
    readonly reassigned: number;
  };
  /** Samples of sessions without a record (lost mid-session): kept apart, never in a percentile. */
  readonly partial: { readonly sessions: number; readonly samples: number };
  /** Ids of the lost and not-run sessions (at most 100 of each). */
  readonly gapIds: { readonly lost: readonly string[]; readonly notRun: readonly string[] };
  readonly metrics: readonly MetricSummary[];
  /** Core metrics not measured because the profile gives no step for them, each with the missing field. */
  readonly skipped: readonly SkippedMetric[];
  readonly agents: readonly AgentSummary[];
  /** Failed sessions (status `failed`) by the step that failed. */
  readonly failedSteps: readonly { readonly step: string; readonly count: number }[];
  /** Aborted sessions (status `aborted`: stopped, not failed) by the step running when they were stopped. */
  readonly abortedSteps: readonly { readonly step: string; readonly count: number }[];
  /** The run's thresholds as judged when it closed (run/thresholds.ts); empty when it had none. */
  readonly thresholds: readonly ThresholdResult[];
  /** The abort-on-fail threshold that stopped the run early, as it stood then; null when none did. */
  readonly stoppedBy: ThresholdResult | null;
}

const key = (agentId: string, sessionId: string) => `${agentId}\u0000${sessionId}`;

/**
 * Pure: the most intervals `[start, end]` open at one instant. One that ends as another starts
 * does not overlap it; one of no length (an end at or before its start: a session stopped
 * before it began) never counts.
 */
export function peakOverlap(intervals: readonly (readonly [number, number])[]): number {
  const edges = intervals.flatMap(([start, end]) =>
    end > start
      ? [
          [start, 1],
          [end, -1],
        ]
      : [],
  );
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!); // at the same instant, ends before starts
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d!));
  return peak;
}

/**
 * Pure: the most sessions that ran at once across the cluster — from the records' start and end
 * when every record has them (never below one agent's own peak: a session lost mid-run has no
 * record), else the agents' peaks summed.
 */
function clusterPeak(records: readonly SummarySession[], agents: readonly { readonly peakConcurrent?: number | undefined }[]): number {
  const peaks = agents.map((a) => a.peakConcurrent ?? 0);
  const timed = records.length > 0 && records.every((s) => Number.isFinite(s.startMs) && Number.isFinite(s.endMs));
  if (!timed) return peaks.reduce((n, p) => n + p, 0);
  return Math.max(peakOverlap(records.map((s) => [s.startMs!, s.endMs!])), ...peaks);
}

export function summarizeRun(input: SummaryInput): RunSummary {
  // Last record per (agent, session) wins.
  const sessions = new Map<string, SummarySession>();
  for (const s of input.sessions) sessions.set(key(s.agentId, s.sessionId), s);

  const samplesByMetric = new Map<string, SummarySample[]>();
  const metricsBySession = new Map<string, Set<string>>();
  const samplesByAgent = new Map<string, number>();
  // A sample whose session has no record belongs to a session that never ended (its agent was lost): kept apart.
  const partialSessions = new Set<string>();
  let partialSamples = 0;
  for (const s of input.samples) {
    if (!sessions.has(key(s.agentId, s.sessionId))) {
      partialSessions.add(key(s.agentId, s.sessionId));
      partialSamples += 1;
      continue;
    }
    let vs = samplesByMetric.get(s.metric);
    if (!vs) samplesByMetric.set(s.metric, (vs = []));
    vs.push(s);
    const k = key(s.agentId, s.sessionId);
    let ms = metricsBySession.get(k);
    if (!ms) metricsBySession.set(k, (ms = new Set()));
    ms.add(s.metric);
    samplesByAgent.set(s.agentId, (samplesByAgent.get(s.agentId) ?? 0) + 1);
  }

  const skipped = input.skipped ?? [];
  const declared = ownDeclarations(input.metrics);
  // A module that declares its own metrics says what it measures: of the class's core metrics, only
  // those it recorded stay core (the rest would be empty rows of a scenario that did not run).
  const classCore = coreMetrics(input.scenario).filter((m) => !skipped.some((k) => k.metric === m));
  const core: string[] = [
    ...(declared.length ? classCore.filter((m) => samplesByMetric.has(m)) : classCore),
    ...declared.filter((d) => d.kind === 'core').map((d) => d.name),
  ];
  const unsuccessful = [...sessions.entries()].filter(([, s]) => s.status !== 'ok');
  const metricNames = [...core, ...[...samplesByMetric.keys()].filter((m) => !core.includes(m)).sort()];
  const metrics: MetricSummary[] = metricNames.map((metric) => {
    const mine = samplesByMetric.get(metric) ?? [];
    const isCore = core.includes(metric);
    const errors = isCore ? unsuccessful.filter(([k]) => !metricsBySession.get(k)?.has(metric)).length : 0;
    const byDetail: DetailSummary[] = [];
    if (splitsByDetail(metric)) {
      const groups = new Map<string, SummarySample[]>();
      for (const s of mine) {
        const d = s.detail ?? '(none)';
        let g = groups.get(d);
        if (!g) groups.set(d, (g = []));
        g.push(s);
      }
      for (const [detail, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        byDetail.push({ detail, ...statsOf(g) });
      }
    }
    const def = declared.find((d) => d.name === metric);
    return { metric, unit: metricUnit(metric, declared) ?? '?', ...(def ? { custom: def.kind } : {}), errors, ...statsOf(mine), byDetail };
  });

  const agentIds = new Set<string>([...input.agents.map((a) => a.agentId), ...[...sessions.values()].map((s) => s.agentId), ...samplesByAgent.keys()]);
  const agentInfo = new Map(input.agents.map((a) => [a.agentId, a]));
  // Grouped once: a run over 5,000 agents has 5,000 of them.
  const sessionsByAgent = new Map<string, SummarySession[]>();
  for (const s of sessions.values()) {
    const list = sessionsByAgent.get(s.agentId);
    if (list) list.push(s);
    else sessionsByAgent.set(s.agentId, [s]);
  }
  const agents: AgentSummary[] = [...agentIds].sort().map((agentId) => {
    const mine = sessionsByAgent.get(agentId) ?? [];
    const info = agentInfo.get(agentId);
    return {
      agentId,
      name: info?.name ?? agentId,
      location: info?.location ?? '?',
      sessionsOk: mine.filter((s) => s.status === 'ok').length,
      sessionsFailed: mine.filter((s) => s.status === 'failed').length,
      sessionsAborted: mine.filter((s) => s.status === 'aborted').length,
      samples: samplesByAgent.get(agentId) ?? 0,
    };
  });

  const byStep = (status: SessionStatus, none: string) => {
    const steps = new Map<string, number>();
    for (const [, s] of unsuccessful) {
      if (s.status !== status) continue;
      const step = s.failedStep ?? none;
      steps.set(step, (steps.get(step) ?? 0) + 1);
    }
    return [...steps].map(([step, count]) => ({ step, count })).sort((a, b) => b.count - a.count || (a.step < b.step ? -1 : 1));
  };
  const failedSteps = byStep('failed', '(unknown)');
  const abortedSteps = byStep('aborted', '(no step running)');

  const all = [...sessions.values()];
  const recorded = all.length;
  const gaps = input.gaps ?? { lost: [], notRun: [], reassigned: 0 };
  let evidence: EvidenceSummary | null = null;
  if (input.evidence) {
    const e = input.evidence;
    const wanted = e.har === 'all' ? all.filter((s) => s.status !== 'aborted').length : all.filter((s) => s.status === 'failed').length;
    evidence = { ...e, skippedSessions: Math.max(0, wanted - e.sessions) };
  }
  const rampRows = (input.ramp ?? []).filter((r) => r.rampMs !== undefined);
  const gates = rampRows.flatMap((r) => (r.startGate ? [r.startGate] : []));
  const ramp = rampRows.length
    ? {
        fullConcurrencyMs: Math.max(...rampRows.map((r) => r.rampMs!)),
        peakConcurrent: clusterPeak(all, rampRows),
        ...(input.plannedStarts ? { startLateness: startLateness(all, input.plannedStarts) } : {}),
        startGate: gates.length
          ? {
              held: gates.reduce((n, g) => n + g.held, 0),
              totalMs: gates.reduce((n, g) => n + g.totalMs, 0),
              maxMs: Math.max(...gates.map((g) => g.maxMs)),
            }
          : null,
      }
    : null;
  return {
    runId: input.runId,
    scenario: input.scenario,
    browser: input.browser ?? null,
    evidence,
    ramp,
    sessions: {
      expected: input.expectedSessions,
      recorded,
      ok: all.filter((s) => s.status === 'ok').length,
      failed: all.filter((s) => s.status === 'failed').length,
      aborted: all.filter((s) => s.status === 'aborted').length,
      missing: input.expectedSessions === null ? 0 : Math.max(0, input.expectedSessions - recorded - gaps.lost.length - gaps.notRun.length),
      lost: gaps.lost.length,
      notRun: gaps.notRun.length,
      reassigned: gaps.reassigned,
    },
    partial: { sessions: partialSessions.size, samples: partialSamples },
    gapIds: { lost: gaps.lost.slice(0, 100), notRun: gaps.notRun.slice(0, 100) },
    metrics,
    skipped: [...skipped],
    agents,
    failedSteps,
    abortedSteps,
    thresholds: [],
    stoppedBy: null,
  };
}

/** The controller's closing line for a run that did not fully succeed: failed, aborted, lost, not run and missing kept apart. */
export function unsuccessfulLine(s: RunSummary): string {
  const ss = s.sessions;
  return `${ss.failed} session(s) failed, ${ss.aborted} aborted${ss.lost ? `, ${ss.lost} lost` : ''}${ss.notRun ? `, ${ss.notRun} not run` : ''}, ${ss.missing} missing`;
}

/** Every expected session recorded and ok, none lost or left unrun. */
export function allSessionsOk(s: RunSummary): boolean {
  const ss = s.sessions;
  return ss.failed === 0 && ss.aborted === 0 && ss.missing === 0 && ss.lost === 0 && ss.notRun === 0 && ss.recorded > 0;
}

const BROWSER_LABEL: Record<BrowserKind, string> = { shell: 'shell (chromium-headless-shell)', chromium: 'chromium (full, new headless)' };

function mb(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(1);
}

/** A fixed-width text table: the first `leftCols` columns left-aligned, the rest right-aligned. Pure. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], leftCols = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The terminal rendering: sessions line, metric table, agent table, failed steps. */
export function renderSummary(s: RunSummary): string {
  const ss = s.sessions;
  const head =
    `run ${s.runId} (${s.scenario}${s.browser === null ? '' : ` on ${BROWSER_LABEL[s.browser]}`}): ${ss.recorded}${ss.expected === null ? '' : `/${ss.expected}`} sessions recorded — ` +
    `${ss.ok} ok, ${ss.failed} failed, ${ss.aborted} aborted${ss.lost ? `, ${ss.lost} lost` : ''}${ss.notRun ? `, ${ss.notRun} not run` : ''}` +
    `${ss.missing ? `, ${ss.missing} missing` : ''}${ss.reassigned ? ` (${ss.reassigned} reassigned to another agent)` : ''}`;
  const metrics = textTable(
    ['metric', 'unit', 'count', 'errors', 'p50', 'p95', 'p99', 'max', 'saturated'],
    s.metrics.flatMap((m) => [
      [m.metric, m.unit, String(m.count), String(m.errors), fmt(m.p50), fmt(m.p95), fmt(m.p99), fmt(m.max), String(m.saturated)],
      ...m.byDetail.map((d) => [
        `  ${m.metric}[${d.detail}]`,
        m.unit,
        String(d.count),
        '',
        fmt(d.p50),
        fmt(d.p95),
        fmt(d.p99),
        fmt(d.max),
        String(d.saturated),
      ]),
    ]),
    2,
  );
  const agents = textTable(
    ['agent', 'location', 'ok', 'failed', 'aborted', 'samples'],
    s.agents.map((a) => [a.name, a.location, String(a.sessionsOk), String(a.sessionsFailed), String(a.sessionsAborted), String(a.samples)]),
    2,
  );
  const parts = [head, '', metrics];
  if (s.skipped.length) parts.push('', skippedLine(s.skipped));
  parts.push('', agents);
  if (s.stoppedBy) parts.push('', `stopped early: abort-on-fail threshold failed while the run was going: ${thresholdLine(s.stoppedBy)}`);
  if (s.thresholds.length) {
    const failed = s.thresholds.filter((r) => !r.ok).length;
    parts.push(
      '',
      `thresholds: ${failed ? `${failed} of ${s.thresholds.length} FAILED` : `all ${s.thresholds.length} passed`} (on the merged samples of every agent)`,
      ...s.thresholds.map((r) => `  ${thresholdLine(r)}`),
    );
  }
  const saturated = s.metrics.reduce((n, m) => n + m.saturated, 0);
  const samples = s.metrics.reduce((n, m) => n + m.count, 0);
  if (saturated > 0) parts.push('', saturationWarning(saturated, samples, s.ramp, s.agents.length));
  if (s.ramp) {
    parts.push('', `full concurrency after ${(s.ramp.fullConcurrencyMs / 1000).toFixed(1)} s (peak ${s.ramp.peakConcurrent} concurrent session(s))`);
    const g = s.ramp.startGate;
    if (g) parts.push(startGateLine(g));
    if (s.ramp.startLateness) parts.push(startLatenessLine(s.ramp.startLateness, g !== null));
  }
  const e = s.evidence;
  if (e && (e.sessions > 0 || e.skippedSessions > 0 || e.skippedFiles > 0)) {
    const stored = `evidence: ${e.sessions} session(s) stored (${mb(e.bytes)}) under ${s.runId}/evidence/`;
    const skipped =
      e.skippedSessions > 0 || e.skippedFiles > 0
        ? `; skipped by the budget (${e.budget.maxSessions} sessions / ${mb(e.budget.maxBytes)}, --evidence-sessions / --evidence-bytes): ${e.skippedSessions} session(s)${e.skippedFiles ? `, ${e.skippedFiles} file(s) of ${mb(e.skippedBytes)}` : ''}`
        : '';
    parts.push('', stored + skipped);
  }
  if (ss.lost || ss.notRun || s.partial.samples) {
    const ids = (xs: readonly string[], n: number) => `${xs.slice(0, 8).join(', ')}${n > 8 ? `, … (${n} in all)` : ''}`;
    parts.push(
      '',
      [
        'gaps (an agent was lost mid-run):',
        ss.lost ? `  lost while running: ${ids(s.gapIds.lost, ss.lost)}` : '',
        ss.notRun ? `  not run: ${ids(s.gapIds.notRun, ss.notRun)}` : '',
        s.partial.samples ? `  ${s.partial.samples} sample(s) of ${s.partial.sessions} session(s) that never ended are kept out of the metrics above` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  if (s.failedSteps.length)
    parts.push(
      '',
      textTable(
        ['failed step', 'sessions'],
        s.failedSteps.map((f) => [f.step, String(f.count)]),
      ),
    );
  if (s.abortedSteps.length)
    parts.push(
      '',
      textTable(
        ['aborted at step', 'sessions'],
        s.abortedSteps.map((f) => [f.step, String(f.count)]),
      ),
    );
  return parts.join('\n') + '\n';
}

/**
 * Pure: the saturation warning, with what to change in numbers of this run: how long its starts
 * took to reach full concurrency and how many sessions ran at once (the sum of the agents'
 * peaks), and the ramp-up that would start the same sessions half as densely. A run's sessions
 * count against the agents' --capacity whatever the ramp, so a lower capacity is not the advice;
 * local agents share one machine, so more of them is not either.
 */
export function saturationWarning(saturated: number, samples: number, ramp: RunSummary['ramp'], agents: number): string {
  const share = samples > 0 ? saturated / samples : 0;
  const head = `warning: ${saturated} of ${samples} samples (${Math.round(share * 100)} %) were taken while an agent's CPU was saturated; those values may be inflated; thresholds leave them out.`;
  const tail =
    "(A lone session that fills the CPU by itself is not flagged: one session on its own is the reference; other programs on an agent's machine count as crowding.)";
  if (!ramp || ramp.peakConcurrent <= 0)
    return `${head} Fewer sessions at once keep a machine below saturation: a longer --ramp-up, or agents on more machines. ${tail}`;
  if (ramp.peakConcurrent === 1)
    return (
      `${head} This run had at most one session at a time, so the CPU was taken by other programs on the agents' machines (or other agents sharing one): ` +
      'a longer ramp will not help; give each agent a machine of its own, or stop what else runs there.'
    );
  const rampS = Math.max(1, Math.ceil((2 * ramp.fullConcurrencyMs) / 1000));
  return (
    `${head} This run started its sessions over ${(ramp.fullConcurrencyMs / 1000).toFixed(1)} s, at most ${ramp.peakConcurrent} at once over its ${agents} agent(s); ` +
    `fewer at once keep a machine below saturation: start them over ${rampS} s or more (--ramp-up ${rampS}s), or add agents on other machines. ${tail}`
  );
}

/** Pure: the core metrics the profile gave no step for, in words. */
export function skippedLine(skipped: readonly SkippedMetric[]): string {
  return `not measured (the profile does not define their step): ${skipped.map((k) => `${k.metric} (${k.reason})`).join('; ')}`;
}

/** Pure: what the agents' adaptive start gates held back, in words. */
export function startGateLine(g: StartGateHold): string {
  if (g.held === 0) return 'adaptive start held no session start back';
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return (
    `adaptive start held ${g.held} session start(s) back, ${sec(g.totalMs)} in all, the longest ${sec(g.maxMs)} ` +
    "(it spaces starts by the agents' CPU; --no-adaptive-start starts every session on the plan)"
  );
}

/** Sessions' start against their planned instant, ms (negative: early, as far as the agents' clock sync can tell). */
export interface StartLateness {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly min: number;
}

/** Pure: how late the sessions with a planned start began it (record start − planned), or null when none did. */
export function startLateness(sessions: readonly SummarySession[], planned: ReadonlyMap<string, number>): StartLateness | null {
  const late = sessions
    .flatMap((x) => (x.startMs !== undefined && planned.has(x.sessionId) ? [x.startMs - planned.get(x.sessionId)!] : []))
    .sort((a, b) => a - b);
  if (late.length === 0) return null;
  return { count: late.length, p50: percentileSorted(late, 50), p99: percentileSorted(late, 99), max: late.at(-1)!, min: late[0]! };
}

/** Pure: the summary's start-lateness line; with the adaptive gate on, it says the gate's holds are in it. */
export function startLatenessLine(l: StartLateness, gate: boolean): string {
  const ms = (v: number): string => `${Math.round(v)} ms`;
  return (
    `sessions started ${ms(l.p50)} (p50), ${ms(l.p99)} (p99), ${ms(l.max)} (max) after their planned instant (${l.count} session(s); the agreed start plus each one's ramp offset, controller clock)` +
    (gate ? "; the adaptive start gate's holds are in these (--no-adaptive-start for a synchronized start)" : '')
  );
}
