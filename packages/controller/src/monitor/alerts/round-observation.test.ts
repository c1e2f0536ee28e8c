import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoundReport } from '@userprobe/shared';
import { tempDir } from '../../../test/fixtures.js';
import { parseMonitorConfig } from '../monitor-config.js';
import { observeRound } from './round-observation.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const metric = (name: string, p95: number, saturated: boolean) => ({
  metric: name,
  unit: 'ms',
  errors: 0,
  count: 1,
  saturated: saturated ? 1 : 0,
  p50: p95,
  p95,
  p99: p95,
  max: p95,
  mean: p95,
  unsaturated: saturated ? { count: 0, p50: null, p95: null, p99: null, max: null } : { count: 1, p50: p95, p95, p99: p95, max: p95 },
  byDetail: [],
});

describe('observeRound', () => {
  it("reads the round's stats over unsaturated samples only (unless the rule includes them), the most common error and the evidence", async () => {
    const t = await tempDir('userprobe-observe-');
    cleanups.push(t.cleanup);
    const runId = 'chat.ams3.20300101T000000Z';
    await mkdir(join(t.dir, runId), { recursive: true });
    await writeFile(join(t.dir, runId, 'summary.json'), JSON.stringify({ metrics: [metric('api_create', 812, false), metric('api_init', 900, true)] }));
    const line = (id: string, status: string, message: string | null) =>
      JSON.stringify({
        runId,
        agentId: 'a',
        location: 'ams3',
        sessionId: id,
        scenario: 'chat-load',
        browser: 'shell',
        status,
        startedAt: '',
        endedAt: '',
        failedStep: status === 'failed' ? 'api_init' : null,
        error: message ? { code: 'E_STEP_FAILED', message } : null,
        artifacts: status === 'failed' ? [`evidence/${id}/visitor.png`] : [],
      });
    await writeFile(
      join(t.dir, runId, 'sessions.jsonl'),
      [line('s1', 'failed', 'HTTP 500 from init'), line('s2', 'failed', 'HTTP 500 from init'), line('s3', 'failed', 'timeout'), line('s4', 'ok', null)].join(
        '\n',
      ) + '\n',
    );
    const report: RoundReport = {
      check: 'chat',
      location: 'ams3',
      slotAt: 0,
      startedAt: 1,
      endedAt: 2,
      status: 'failed',
      runId,
      scenario: 'chat-load',
      targetName: 'demo',
      agents: ['a'],
      sessions: { planned: 4, ok: 1, failed: 3 },
      reason: null,
      failedStep: { step: 'api_init', count: 3 },
      exitCode: 1,
    };
    const mk = (includeSaturated: boolean) =>
      parseMonitorConfig({ checks: [{ name: 'chat', scenario: 'chat-load', interval: '1m', alerts: { latency: { includeSaturated } } }] }, '/m.yaml').checks[0]!
        .alerts;
    const settings = { webhookEnv: 'X', grafanaUrl: null, evidenceUrl: 'https://files.example.com/results' };
    const o = await observeRound(report, { outDir: t.dir, policy: mk(false), settings });
    expect(o.metrics).toEqual({ api_create: 812 });
    expect(o.topError).toEqual({ message: 'HTTP 500 from init', count: 2 });
    expect(o.evidence).toBe(`https://files.example.com/results/${runId}/evidence/s1/`);
    expect((await observeRound(report, { outDir: t.dir, policy: mk(true), settings })).metrics).toEqual({ api_create: 812, api_init: 900 });
    expect(await observeRound({ ...report, status: 'gap', runId: null }, { outDir: t.dir, policy: mk(false), settings })).toMatchObject({
      metrics: {},
      topError: null,
    });
  });
});
