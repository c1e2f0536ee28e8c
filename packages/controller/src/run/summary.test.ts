import { describe, it, expect } from 'vitest';
import { coreMetrics } from '@userprobe/shared';
import {
  summarizeRun,
  renderSummary,
  allSessionsOk,
  saturationWarning,
  startGateLine,
  startLateness,
  startLatenessLine,
  unsuccessfulLine,
  peakOverlap,
  type SummarySample,
  type SummarySession,
} from './summary.js';
import { thresholdStats } from './thresholds.js';
import { plannedStarts } from './run-closer.js';

const agents = [
  { agentId: 'a1', name: 'local-1', location: 'local' },
  { agentId: 'a2', name: 'local-2', location: 'ams' },
];
const core = coreMetrics('chat-load');
const okSession = (agentId: string, sessionId: string, base: number): SummarySample[] =>
  core.map((metric, i) => ({ agentId, sessionId, metric, value: base + i }));

describe('summarizeRun', () => {
  it('all ok: counts, percentiles per metric, per agent', () => {
    const samples = [...okSession('a1', 's0001', 100), ...okSession('a2', 's0002', 200), ...okSession('a1', 's0003', 300)];
    const sessions: SummarySession[] = [
      { agentId: 'a1', sessionId: 's0001', status: 'ok', failedStep: null },
      { agentId: 'a2', sessionId: 's0002', status: 'ok', failedStep: null },
      { agentId: 'a1', sessionId: 's0003', status: 'ok', failedStep: null },
    ];
    const s = summarizeRun({ runId: 'r1', scenario: 'chat-load', expectedSessions: 3, agents, samples, sessions });
    expect(s.sessions).toEqual({ expected: 3, recorded: 3, ok: 3, failed: 0, aborted: 0, missing: 0, lost: 0, notRun: 0, reassigned: 0 });
    expect(s.metrics.map((m) => m.metric)).toEqual(core);
    expect(s.metrics[0]).toEqual({
      metric: 'page_load',
      unit: 'ms',
      count: 3,
      errors: 0,
      saturated: 0,
      p50: 200,
      p90: 300,
      p95: 300,
      p99: 300,
      max: 300,
      mean: 200,
      unsaturated: { count: 3, p50: 200, p90: 300, p95: 300, p99: 300, max: 300, mean: 200 },
      byDetail: [],
    });
    expect(s.agents).toEqual([
      { agentId: 'a1', name: 'local-1', location: 'local', sessionsOk: 2, sessionsFailed: 0, sessionsAborted: 0, samples: 2 * core.length },
      { agentId: 'a2', name: 'local-2', location: 'ams', sessionsOk: 1, sessionsFailed: 0, sessionsAborted: 0, samples: core.length },
    ]);
    expect(s.failedSteps).toEqual([]);
    expect(allSessionsOk(s)).toBe(true);
  });

  it('a failed session counts errors for the core metrics it lost, and its failed step', () => {
    const samples: SummarySample[] = [
      ...okSession('a1', 's0001', 100),
      { agentId: 'a2', sessionId: 's0002', metric: 'page_load', value: 50, saturated: true },
      { agentId: 'a2', sessionId: 's0002', metric: 'crm_ws_frame_rtt', value: 3 },
    ];
    const sessions: SummarySession[] = [
      { agentId: 'a1', sessionId: 's0001', status: 'ok', failedStep: null },
      { agentId: 'a2', sessionId: 's0002', status: 'failed', failedStep: 'widget_load' },
    ];
    const s = summarizeRun({ runId: 'r1', scenario: 'chat-load', expectedSessions: 3, agents, samples, sessions });
    expect(s.sessions).toEqual({ expected: 3, recorded: 2, ok: 1, failed: 1, aborted: 0, missing: 1, lost: 0, notRun: 0, reassigned: 0 });
    const by = Object.fromEntries(s.metrics.map((m) => [m.metric, m]));
    expect(by.page_load).toMatchObject({ count: 2, errors: 0, saturated: 1, p50: 50, max: 100 });
    expect(by.widget_load).toMatchObject({ count: 1, errors: 1 });
    expect(by.crm_ws_frame_rtt).toMatchObject({ count: 1, errors: 0, p50: 3 });
    expect(s.metrics.at(-1)!.metric).toBe('crm_ws_frame_rtt'); // extras after core
    expect(s.failedSteps).toEqual([{ step: 'widget_load', count: 1 }]);
    expect(allSessionsOk(s)).toBe(false);
  });

  it('core metrics the profile gives no step for are skipped: no row, no error for a failed session, one line saying why', () => {
    const skipped = [
      { metric: 'api_create', reason: 'the profile names no network.requests.create' },
      { metric: 'api_add_message', reason: 'the profile names no network.requests.addMessage' },
    ] as const;
    const measured = (agentId: string, sessionId: string): SummarySample[] =>
      okSession(agentId, sessionId, 100).filter((x) => !skipped.some((k) => k.metric === x.metric));
    const sessions: SummarySession[] = [
      { agentId: 'a1', sessionId: 's0001', status: 'ok', failedStep: null },
      { agentId: 'a2', sessionId: 's0002', status: 'failed', failedStep: 'widget_load' },
    ];
    const s = summarizeRun({ runId: 'r1', scenario: 'chat-load', expectedSessions: 2, agents, samples: measured('a1', 's0001'), sessions, skipped });
    const names = s.metrics.map((m) => m.metric);
    expect(names).not.toContain('api_create');
    expect(names).not.toContain('api_add_message');
    // the failed session still counts an error for each metric it could have measured, and none for the skipped ones
    expect(s.metrics.filter((m) => m.errors === 1).map((m) => m.metric)).toEqual(core.filter((m) => !skipped.some((k) => k.metric === m)));
    expect(s.skipped).toEqual(skipped);
    expect(renderSummary(s)).toContain(
      'not measured (the profile does not define their step): api_create (the profile names no network.requests.create); api_add_message (the profile names no network.requests.addMessage)',
    );
    // without skipped metrics, no such line
    expect(renderSummary(summarizeRun({ runId: 'r1', scenario: 'chat-load', expectedSessions: 2, agents, samples: [], sessions }))).not.toContain(
      'not measured',
    );
  });

  it('open-ended runs (duration) have no missing sessions; aborted ones are counted', () => {
    const s = summarizeRun({
      runId: 'r1',
      scenario: 'chat-load',
      expectedSessions: null,
      agents,
      samples: [],
      sessions: [{ agentId: 'a1', sessionId: 's0001.r1', status: 'aborted', failedStep: null }],
    });
    expect(s.sessions).toEqual({ expected: null, recorded: 1, ok: 0, failed: 0, aborted: 1, missing: 0, lost: 0, notRun: 0, reassigned: 0 });
    expect(s.failedSteps).toEqual([]);
    expect(s.abortedSteps).toEqual([{ step: '(no step running)', count: 1 }]);
    expect(s.metrics.every((m) => m.count === 0 && m.errors === 1 && m.p50 === null)).toBe(true);
  });

  it('splits request patterns: api_request and api_server_wait get a row per detail; other details stay pooled', () => {
    const req = (sessionId: string, metric: string, detail: string, value: number, saturated = false): SummarySample => ({
      agentId: 'a1',
      sessionId,
      metric,
      value,
      detail,
      saturated,
    });
    const samples: SummarySample[] = [
      ...okSession('a1', 's0001', 100),
      ...okSession('a1', 's0002', 100),
      req('s0001', 'api_request', 'agentLogin', 300),
      req('s0002', 'api_request', 'agentLogin', 310),
      req('s0001', 'api_request', 'history', 20),
      req('s0002', 'api_request', 'history', 40, true),
      req('s0001', 'api_server_wait', 'create', 290),
      req('s0001', 'api_server_wait', 'agentLogin', 295),
      req('s0001', 'crm_ws_frame_rtt', 'ack-1', 5),
      req('s0002', 'crm_ws_frame_rtt', 'ack-2', 7),
    ];
    const sessions: SummarySession[] = ['s0001', 's0002'].map((sessionId) => ({ agentId: 'a1', sessionId, status: 'ok', failedStep: null }));
    const s = summarizeRun({ runId: 'r1', scenario: 'chat-load', expectedSessions: 2, agents, samples, sessions });
    const m = (name: string) => s.metrics.find((x) => x.metric === name)!;
    expect(m('api_request')).toMatchObject({ count: 4, p50: 40, max: 310 });
    expect(m('api_request').byDetail).toEqual([
      {
        detail: 'agentLogin',
        count: 2,
        saturated: 0,
        p50: 300,
        p90: 310,
        p95: 310,
        p99: 310,
        max: 310,
        mean: 305,
        unsaturated: { count: 2, p50: 300, p90: 310, p95: 310, p99: 310, max: 310, mean: 305 },
      },
      {
        detail: 'history',
        count: 2,
        saturated: 1,
        p50: 20,
        p90: 40,
        p95: 40,
        p99: 40,
        max: 40,
        mean: 30,
        unsaturated: { count: 1, p50: 20, p90: 20, p95: 20, p99: 20, max: 20, mean: 20 },
      },
    ]);
    expect(m('api_server_wait').byDetail.map((d) => [d.detail, d.count, d.p50])).toEqual([
      ['agentLogin', 1, 295],
      ['create', 1, 290],
    ]);
    expect(m('crm_ws_frame_rtt').byDetail).toEqual([]);
    expect(m('page_load').byDetail).toEqual([]);
    const lines = renderSummary(s).split('\n');
    const at = lines.findIndex((l) => l.startsWith('api_request '));
    expect(lines[at + 1]).toMatch(/^ {2}api_request\[agentLogin\]\s+ms\s+2\s+300\.0\s+310\.0\s+310\.0\s+310\.0\s+0$/);
    expect(lines[at + 2]).toMatch(/^ {2}api_request\[history\]\s+ms\s+2\s+20\.0\s+40\.0\s+40\.0\s+40\.0\s+1$/);
  });

  it('aborted sessions are counted and printed as aborted, never as failed', () => {
    const sessions: SummarySession[] = [
      { agentId: 'a1', sessionId: 's0001', status: 'failed', failedStep: 'widget_load' },
      { agentId: 'a1', sessionId: 's0002', status: 'aborted', failedStep: 'send-message' },
      { agentId: 'a2', sessionId: 's0003', status: 'aborted', failedStep: 'send-message' },
      { agentId: 'a2', sessionId: 's0004', status: 'aborted', failedStep: null },
    ];
    const s = summarizeRun({ runId: 'r1', scenario: 'chat-load', expectedSessions: 5, agents, samples: [], sessions });
    expect(s.sessions).toEqual({ expected: 5, recorded: 4, ok: 0, failed: 1, aborted: 3, missing: 1, lost: 0, notRun: 0, reassigned: 0 });
    expect(s.failedSteps).toEqual([{ step: 'widget_load', count: 1 }]);
    expect(s.abortedSteps).toEqual([
      { step: 'send-message', count: 2 },
      { step: '(no step running)', count: 1 },
    ]);
    expect(s.agents.map((a) => [a.name, a.sessionsFailed, a.sessionsAborted])).toEqual([
      ['local-1', 1, 1],
      ['local-2', 0, 2],
    ]);
    expect(unsuccessfulLine(s)).toBe('1 session(s) failed, 3 aborted, 1 missing');
    const out = renderSummary(s);
    expect(out.split('\n')[0]).toBe('run r1 (chat-load): 4/5 sessions recorded — 0 ok, 1 failed, 3 aborted, 1 missing');
    expect(out).toMatch(/\nfailed step\s+sessions\n-+\s+-+\nwidget_load\s+1\n/);
    expect(out).toMatch(/\naborted at step\s+sessions\n-+\s+-+\nsend-message\s+2\n\(no step running\)\s+1\n/);
  });

  it('renders a fixed-width table', () => {
    const s = summarizeRun({
      runId: 'r1',
      scenario: 'chat-load',
      expectedSessions: 1,
      agents,
      samples: okSession('a1', 's0001', 100),
      sessions: [{ agentId: 'a1', sessionId: 's0001', status: 'ok', failedStep: null }],
    });
    const out = renderSummary(s);
    const lines = out.split('\n');
    expect(lines[0]).toBe('run r1 (chat-load): 1/1 sessions recorded — 1 ok, 0 failed, 0 aborted');
    expect(lines[2]).toMatch(/^metric\s+unit\s+count\s+errors\s+p50\s+p95\s+p99\s+max\s+saturated$/);
    expect(lines[4]).toMatch(/^page_load\s+ms\s+1\s+0\s+100\.0\s+100\.0\s+100\.0\s+100\.0\s+0$/);
    const metricRows = lines.slice(2, 4 + core.length);
    expect(new Set(metricRows.map((l) => l.length)).size).toBe(1); // right-aligned last column: equal widths
    expect(out).toContain('local-1');
    expect(out).not.toContain('saturated;');
  });

  it('warns when samples were taken while saturated', () => {
    const s = summarizeRun({
      runId: 'r1',
      scenario: 'chat-load',
      expectedSessions: 1,
      agents,
      samples: okSession('a1', 's0001', 100).map((x, i) => ({ ...x, saturated: i < 2 })),
      sessions: [{ agentId: 'a1', sessionId: 's0001', status: 'ok', failedStep: null }],
    });
    expect(renderSummary(s)).toContain(
      `warning: 2 of ${core.length} samples (${Math.round((2 / core.length) * 100)} %) were taken while an agent's CPU was saturated`,
    );
  });

  const ramp = (peakConcurrent: number, fullConcurrencyMs: number) => ({ peakConcurrent, fullConcurrencyMs, startGate: null });
  const TAIL =
    "(A lone session that fills the CPU by itself is not flagged: one session on its own is the reference; other programs on an agent's machine count as crowding.)";
  it.for([
    [
      '6 sessions at once on 2 agents, started over 5 s',
      134,
      186,
      ramp(3, 5_040),
      2,
      `warning: 134 of 186 samples (72 %) were taken while an agent's CPU was saturated; those values may be inflated; thresholds leave them out. This run started its sessions over 5.0 s, at most 3 at once over its 2 agent(s); fewer at once keep a machine below saturation: start them over 11 s or more (--ramp-up 11s), or add agents on other machines. ${TAIL}`,
    ],
    [
      'a ramp shorter than half a second: at least 1 s',
      1,
      100,
      ramp(2, 300),
      1,
      `warning: 1 of 100 samples (1 %) were taken while an agent's CPU was saturated; those values may be inflated; thresholds leave them out. This run started its sessions over 0.3 s, at most 2 at once over its 1 agent(s); fewer at once keep a machine below saturation: start them over 1 s or more (--ramp-up 1s), or add agents on other machines. ${TAIL}`,
    ],
    [
      'one session at a time: other programs took the CPU, a ramp cannot help',
      186,
      186,
      ramp(1, 25_000),
      2,
      "warning: 186 of 186 samples (100 %) were taken while an agent's CPU was saturated; those values may be inflated; thresholds leave them out. This run had at most one session at a time, so the CPU was taken by other programs on the agents' machines (or other agents sharing one): a longer ramp will not help; give each agent a machine of its own, or stop what else runs there.",
    ],
    [
      'no ramp known (a monitoring round)',
      1,
      10,
      null,
      1,
      `warning: 1 of 10 samples (10 %) were taken while an agent's CPU was saturated; those values may be inflated; thresholds leave them out. Fewer sessions at once keep a machine below saturation: a longer --ramp-up, or agents on more machines. ${TAIL}`,
    ],
  ] as const)('the saturation warning says what to change with the numbers of this run: %s', ([, saturated, samples, r, agentCount, want]) => {
    expect(saturationWarning(saturated, samples, r, agentCount)).toBe(want);
  });

  it('names the browser, keeps saturated samples out of the threshold stats, counts skipped evidence, reports the ramp', () => {
    const samples: SummarySample[] = [
      { agentId: 'a1', sessionId: 's1', metric: 'api_create', value: 150 },
      { agentId: 'a1', sessionId: 's2', metric: 'api_create', value: 152 },
      { agentId: 'a2', sessionId: 's3', metric: 'api_create', value: 711, saturated: true },
    ];
    const sessions: SummarySession[] = [
      { agentId: 'a1', sessionId: 's1', status: 'failed', failedStep: 'x' },
      { agentId: 'a1', sessionId: 's2', status: 'failed', failedStep: 'x' },
      { agentId: 'a2', sessionId: 's3', status: 'failed', failedStep: 'x' },
    ];
    const s = summarizeRun({
      runId: 'r1',
      scenario: 'chat-load',
      browser: 'chromium',
      expectedSessions: 3,
      agents,
      samples,
      sessions,
      evidence: { har: 'failures', budget: { maxSessions: 2, maxBytes: 200 * 1_048_576 }, sessions: 2, bytes: 3 * 1_048_576, skippedFiles: 0, skippedBytes: 0 },
      ramp: [
        { agentId: 'a1', rampMs: 4_000, peakConcurrent: 2, startGate: { held: 1, totalMs: 1_200, maxMs: 1_200 } },
        { agentId: 'a2', rampMs: 6_500, peakConcurrent: 1, startGate: { held: 2, totalMs: 3_000, maxMs: 2_500 } },
      ],
    });
    const m = s.metrics.find((x) => x.metric === 'api_create')!;
    expect(m).toMatchObject({ count: 3, saturated: 1, max: 711, unsaturated: { count: 2, p50: 150, max: 152 } });
    expect(thresholdStats(m)).toEqual(m.unsaturated);
    expect(thresholdStats(m, { includeSaturated: true })).toMatchObject({ count: 3, max: 711 });
    expect(s.browser).toBe('chromium');
    expect(s.evidence).toMatchObject({ sessions: 2, skippedSessions: 1 });
    expect(s.ramp).toEqual({ fullConcurrencyMs: 6_500, peakConcurrent: 3, startGate: { held: 3, totalMs: 4_200, maxMs: 2_500 } });
    // The peak from the records' start and end [ms], with each agent's own peak as reported.
    const peak = (times: readonly (readonly [number, number])[] | null, peaks: { a1: number; a2: number }): number | undefined =>
      summarizeRun({
        runId: 'r1',
        scenario: 'chat-load',
        expectedSessions: 3,
        agents,
        samples,
        sessions: times === null ? sessions : sessions.map((x, i) => ({ ...x, startMs: times[i]![0], endMs: times[i]![1] })),
        ramp: [
          { agentId: 'a1', rampMs: 4_000, peakConcurrent: peaks.a1 },
          { agentId: 'a2', rampMs: 6_500, peakConcurrent: peaks.a2 },
        ],
      }).ramp?.peakConcurrent;
    // The cluster's own peak: neither an agent's peak (2) nor their sum (4).
    expect(
      peak(
        [
          [0, 1_500],
          [500, 2_000],
          [1_000, 2_500],
        ],
        { a1: 2, a2: 2 },
      ),
    ).toBe(3);
    // Never below one agent's own peak (a session lost mid-run has no record).
    expect(
      peak(
        [
          [0, 1_500],
          [10_000, 11_500],
          [20_000, 21_500],
        ],
        { a1: 2, a2: 1 },
      ),
    ).toBe(2);
    // No times in the records: the agents' peaks summed.
    expect(peak(null, { a1: 2, a2: 1 })).toBe(3);
    const out = renderSummary(s);
    expect(out.split('\n')[0]).toBe('run r1 (chat-load on chromium (full, new headless)): 3/3 sessions recorded — 0 ok, 3 failed, 0 aborted');
    expect(out).toContain('full concurrency after 6.5 s (peak 3 concurrent session(s))');
    expect(out).toContain("adaptive start held 3 session start(s) back, 4.2 s in all, the longest 2.5 s (it spaces starts by the agents' CPU");
    expect(out).toContain(
      'evidence: 2 session(s) stored (3.0 MB) under r1/evidence/; skipped by the budget (2 sessions / 200.0 MB, --evidence-sessions / --evidence-bytes): 1 session(s)',
    );
    expect(out).toContain('thresholds leave them out');
  });

  it('lost and not-run sessions are gaps: counted apart, their partial samples kept out of every percentile, rendered with their ids', () => {
    const samples = [
      { agentId: 'a', sessionId: 's1', metric: 'page_load', value: 100 },
      { agentId: 'a', sessionId: 's2', metric: 'page_load', value: 5_000 }, // s2 was running on a lost agent: no record
      { agentId: 'a', sessionId: 's2', metric: 'api_init', value: 7 },
      { agentId: 'b', sessionId: 's3.a2', metric: 'page_load', value: 120 },
    ];
    const s = summarizeRun({
      runId: 'r1',
      scenario: 'chat-load',
      expectedSessions: 4,
      agents: [
        { agentId: 'a', name: 'A', location: 'x' },
        { agentId: 'b', name: 'B', location: 'y' },
      ],
      gaps: { lost: ['s2'], notRun: ['s4'], reassigned: 1 },
      samples,
      sessions: [
        { agentId: 'a', sessionId: 's1', status: 'ok', failedStep: null },
        { agentId: 'b', sessionId: 's3.a2', status: 'ok', failedStep: null },
      ],
    });
    expect(s.sessions).toEqual({ expected: 4, recorded: 2, ok: 2, failed: 0, aborted: 0, missing: 0, lost: 1, notRun: 1, reassigned: 1 });
    expect(s.partial).toEqual({ sessions: 1, samples: 2 });
    expect(s.metrics.find((m) => m.metric === 'page_load')).toMatchObject({ count: 2, max: 120 }); // the 5 000 ms partial value is not in it
    expect(allSessionsOk(s)).toBe(false);
    const text = renderSummary(s);
    expect(text).toContain('2 ok, 0 failed, 0 aborted, 1 lost, 1 not run (1 reassigned to another agent)');
    expect(text).toContain('lost while running: s2');
    expect(text).toContain('not run: s4');
    expect(text).toContain('2 sample(s) of 1 session(s) that never ended are kept out of the metrics above');
  });
});

describe('startGateLine', () => {
  it.each([
    [{ held: 0, totalMs: 0, maxMs: 0 }, 'adaptive start held no session start back'],
    [{ held: 5, totalMs: 9_340, maxMs: 4_210 }, 'adaptive start held 5 session start(s) back, 9.3 s in all, the longest 4.2 s'],
  ])('%j → %s', (g, text) => {
    expect(startGateLine(g)).toMatch(new RegExp(`^${text.replace(/[().]/g, '\\$&')}`));
  });

  it('no agent ran the gate (--no-adaptive-start): the ramp has no gate figures and the summary no gate line', () => {
    const s = summarizeRun({
      runId: 'r',
      scenario: 'chat-load',
      expectedSessions: 1,
      agents: [],
      samples: [],
      sessions: [],
      ramp: [{ agentId: 'a1', rampMs: 10, peakConcurrent: 1 }],
    });
    expect(s.ramp).toEqual({ fullConcurrencyMs: 10, peakConcurrent: 1, startGate: null });
    expect(renderSummary(s)).not.toContain('adaptive start');
  });
});

describe('peakOverlap', () => {
  it.each([
    ['none', [], 0],
    ['one', [[0, 10]], 1],
    [
      'back to back: one ends as the next starts',
      [
        [0, 10],
        [10, 20],
      ],
      1,
    ],
    [
      'nested',
      [
        [0, 100],
        [10, 20],
        [30, 40],
      ],
      2,
    ],
    [
      'three at once, unsorted',
      [
        [20, 50],
        [0, 30],
        [25, 26],
        [40, 60],
      ],
      3,
    ],
    [
      'the same instant twice',
      [
        [5, 9],
        [5, 9],
      ],
      2,
    ],
    [
      'no length (stopped before it began) never counts',
      [
        [10, 5],
        [7, 7],
        [0, 20],
      ],
      1,
    ],
  ] as const)('%s', (_name, intervals, peak) => {
    expect(peakOverlap(intervals)).toBe(peak);
  });
});

describe('startLateness (sessions against their planned start)', () => {
  const session = (sessionId: string, startMs?: number) => ({
    agentId: 'a1',
    sessionId,
    status: 'ok' as const,
    failedStep: null,
    ...(startMs === undefined ? {} : { startMs }),
  });
  const planned = new Map([
    ['s0001', 1_000],
    ['s0002', 1_000],
    ['s0003', 2_000],
  ]);
  it.each([
    ['none planned', [session('s0001', 1_005)], new Map<string, number>(), null],
    [
      'only sessions with a planned start and a start time count; repeats and reassigned attempts have none',
      [session('s0001', 1_004), session('s0002', 1_012), session('s0003', 1_998), session('s0001.r1', 9_000), session('s0002.a2', 9_000), session('s0003')],
      planned,
      { count: 3, p50: 4, p99: 12, max: 12, min: -2 },
    ],
  ])('%s', (_n, sessions, plan, want) => expect(startLateness(sessions, plan)).toEqual(want));

  it('says what it is measured against, and that the adaptive gate holds are in it when the gate ran', () => {
    const l = { count: 8, p50: 3.4, p99: 11.6, max: 12, min: -1 };
    expect(startLatenessLine(l, false)).toBe(
      "sessions started 3 ms (p50), 12 ms (p99), 12 ms (max) after their planned instant (8 session(s); the agreed start plus each one's ramp offset, controller clock)",
    );
    expect(startLatenessLine(l, true)).toMatch(/; the adaptive start gate's holds are in these \(--no-adaptive-start for a synchronized start\)$/);
  });

  it('the planned starts are those of first attempts: the agreed start plus the ramp offset', () => {
    const slot = (s: string, attempt: number, offsetMs: number) => [s, { slot: s, attempt, offsetMs }] as const;
    const state = { startAt: 10_000, slots: new Map([slot('s0001', 1, 0), slot('s0002', 1, 500), slot('s0003', 2, 1_000)]) };
    expect([...plannedStarts(state as never)]).toEqual([
      ['s0001', 10_000],
      ['s0002', 10_500],
    ]);
  });
});

describe("a custom scenario module's declared metrics in the summary", () => {
  it('a declared core metric no session recorded still has its row, with the failed sessions as its errors; its unit is the declared one', () => {
    const s = summarizeRun({
      runId: 'r',
      scenario: 'chat-load',
      expectedSessions: 2,
      agents: [{ agentId: 'a1', name: 'local-1', location: 'local' }],
      samples: [
        { agentId: 'a1', sessionId: 's0001', metric: 'retries', value: 2 },
        { agentId: 'a1', sessionId: 's0001', metric: 'page_load', value: 120 },
      ],
      sessions: [
        { agentId: 'a1', sessionId: 's0001', status: 'ok', failedStep: null },
        { agentId: 'a1', sessionId: 's0002', status: 'failed', failedStep: 'login' },
      ],
      metrics: [
        { name: 'login_ms', unit: 'ms', kind: 'core', description: 'Console log-in' },
        { name: 'retries', unit: 'count', kind: 'extra', description: 'Retried requests' },
        // A name the catalog took up since: the catalog wins.
        { name: 'page_load', unit: 'count', kind: 'core', description: 'an older module' },
      ],
    });
    const row = (m: string) => s.metrics.find((x) => x.metric === m);
    expect(row('login_ms')).toMatchObject({ unit: 'ms', custom: 'core', count: 0, errors: 1 });
    expect(row('retries')).toMatchObject({ unit: 'count', custom: 'extra', count: 1, errors: 0 });
    expect(row('page_load')).toMatchObject({ unit: 'ms' });
    expect(row('page_load')!.custom).toBeUndefined();
    // The class's core metrics the module never recorded are not listed as empty rows.
    expect(row('widget_load')).toBeUndefined();
  });
});
