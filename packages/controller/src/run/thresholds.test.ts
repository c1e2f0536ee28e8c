import { describe, expect, it } from 'vitest';
import { ConfigError, parseThreshold, type Threshold } from '@userprobe/shared';
import { summarizeRun, renderSummary, type SummarySample, type SummarySession } from './summary.js';
import { compare, judgeThreshold, judgeThresholds, runThresholds, thresholdLine } from './thresholds.js';

const t = (expr: string): Threshold => {
  const r = parseThreshold(expr);
  if ('problem' in r) throw new Error(r.problem);
  return r.ok;
};

const agents = [{ agentId: 'a1', name: 'local-1', location: 'local' }];
/** Ten ok sessions with api_create 100..1000 ms (the last three saturated), one failed before api_create, one lost. */
function summary() {
  const samples: SummarySample[] = [];
  const sessions: SummarySession[] = [];
  for (let i = 1; i <= 10; i++) {
    const id = `s${i}`;
    sessions.push({ agentId: 'a1', sessionId: id, status: 'ok', failedStep: null });
    samples.push({ agentId: 'a1', sessionId: id, metric: 'api_create', value: i * 100, saturated: i > 7 });
    samples.push({ agentId: 'a1', sessionId: id, metric: 'api_request', value: i, detail: i % 2 ? 'create' : 'init' });
  }
  sessions.push({ agentId: 'a1', sessionId: 's11', status: 'failed', failedStep: 'widget_load' });
  return summarizeRun({
    runId: 'r',
    scenario: 'chat-load',
    expectedSessions: 12,
    agents,
    samples,
    sessions,
    gaps: { lost: ['s12'], notRun: [], reassigned: 0 },
  });
}

describe('compare', () => {
  it.each([
    [1, '<', 2, true],
    [2, '<', 2, false],
    [2, '<=', 2, true],
    [3, '<=', 2, false],
    [3, '>', 2, true],
    [2, '>', 2, false],
    [2, '>=', 2, true],
    [1, '>=', 2, false],
  ] as const)('%d %s %d → %s', (a, op, b, want) => expect(compare(a, op, b)).toBe(want));
});

describe('judgeThreshold on the merged summary', () => {
  const s = summary();
  it.each([
    // Unsaturated api_create values: 100..700 (800, 900, 1000 were taken saturated and are left out).
    ['api_create:p50<500ms', true, 400, 7, 3],
    ['api_create:p95<700ms', false, 700, 7, 3],
    ['api_create:p95<=700ms', true, 700, 7, 3],
    ['api_create:max<0.75s', true, 700, 7, 3],
    ['api_create:mean>=400', true, 400, 7, 3],
    ['api_create:p90<650', false, 700, 7, 3],
    // error-rate: 1 failed session recorded no api_create over 10 values + 1 error.
    ['api_create:error-rate<10%', true, 1 / 11, 11, 0],
    ['api_create:error-rate<9%', false, 1 / 11, 11, 0],
    // sessions: 1 failed + 1 lost of 12.
    ['sessions:error-rate<=16.7%', true, 2 / 12, 12, 0],
    ['sessions:error-rate<16%', false, 2 / 12, 12, 0],
    // A detail row: api_request{create} has 1, 3, 5, 7, 9.
    ['api_request{create}:max<10', true, 9, 5, 0],
    ['api_request{init}:p50<5', false, 6, 5, 0],
  ] as const)('%s → %s (observed %d over %d, %d saturated left out)', (expr, ok, observed, count, saturatedExcluded) => {
    const r = judgeThreshold(s, t(expr));
    expect(r).toMatchObject({ threshold: expr, ok, count, saturatedExcluded, reason: null });
    expect(r.observed).toBeCloseTo(observed, 9);
  });

  it('fails, saying why, when there is nothing to judge', () => {
    expect(judgeThreshold(s, t('widget_load:p95<1s'))).toMatchObject({ ok: false, observed: null, reason: 'no widget_load sample was recorded' });
    expect(judgeThreshold(s, t('api_request{addMessage}:p95<1s'))).toMatchObject({
      ok: false,
      reason: 'no api_request sample has the detail "addMessage" (recorded: create, init)',
    });
    const allSaturated = summarizeRun({
      runId: 'r',
      scenario: 'chat-load',
      expectedSessions: 1,
      agents,
      samples: [{ agentId: 'a1', sessionId: 's1', metric: 'api_create', value: 5, saturated: true }],
      sessions: [{ agentId: 'a1', sessionId: 's1', status: 'ok', failedStep: null }],
    });
    expect(judgeThreshold(allSaturated, t('api_create:p95<1s'))).toMatchObject({
      ok: false,
      observed: null,
      saturatedExcluded: 1,
      reason: expect.stringContaining("all 1 were taken while an agent's CPU was saturated"),
    });
  });

  it('renders pass/FAIL lines in the summary, with what was judged', () => {
    const judged = { ...s, thresholds: judgeThresholds(s, [t('api_create:p95<800ms'), t('sessions:error-rate<5%')]) };
    expect(judged.thresholds.map(thresholdLine)).toEqual([
      'pass  api_create:p95<800ms  p95 700 ms over 7 value(s) (3 saturated left out)',
      'FAIL  sessions:error-rate<5%  error-rate 17 % over 12 session(s)',
    ]);
    expect(renderSummary(judged)).toContain('thresholds: 1 of 2 FAILED (on the merged samples of every agent)\n  pass  api_create:p95<800ms');
    const stopped = { ...judged, stoppedBy: judgeThreshold(s, { ...t('sessions:error-rate<5%'), abortOnFail: true }) };
    expect(renderSummary(stopped)).toContain(
      'stopped early: abort-on-fail threshold failed while the run was going: FAIL  sessions:error-rate<5%  error-rate 17 % over 12 session(s)  [abort-on-fail]',
    );
  });
});

describe('runThresholds', () => {
  const cfg = (thresholds: Threshold[], scenarioModule: string | null = null) => ({ scenario: 'chat-load' as const, scenarioModule, thresholds });
  it("takes the profile's, then the flags' (the same expression once, the flag's options winning)", () => {
    const got = runThresholds(cfg([t('api_create:p95<800ms'), { ...t('sessions:error-rate<5%'), abortOnFail: true }]), {
      thresholds: ['sessions:error-rate<5%', 'page_load:p95<3s'],
    });
    expect(got.map((x) => [x.text, x.abortOnFail])).toEqual([
      ['sessions:error-rate<5%', true],
      ['page_load:p95<3s', false],
      ['api_create:p95<800ms', false],
    ]);
  });
  it("a name outside the catalog is a custom module's metric: refused without --scenario-module, taken with one (a plain number, its unit)", () => {
    const typo = () => runThresholds(cfg([t('api_creat:p95<800')]), {});
    expect(typo).toThrow(/threshold api_creat:p95<800: unknown metric "api_creat"; accepted: a metric of the catalog .* with --scenario-module/);
    expect(runThresholds(cfg([t('widget_first_call:p95<800')], '/srv/m.mjs'), {}).map((x) => [x.metric, x.value])).toEqual([['widget_first_call', 800]]);
  });
  it("refuses a metric the scenario never records, naming every one (a custom module's metrics are its own)", () => {
    const run = () => runThresholds(cfg([t('cobrowse_mirror_lag:p95<1s'), t('call_setup:p95<1s')]), {});
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/threshold cobrowse_mirror_lag:p95<1s: chat-load does not record cobrowse_mirror_lag .*; threshold call_setup/);
    expect(runThresholds(cfg([t('cobrowse_mirror_lag:p95<1s')], '/x/mod.mjs'), {})).toHaveLength(1);
  });
});
