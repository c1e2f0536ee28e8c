import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoundReport } from '@userprobe/shared';
import { tempDir } from '../../../test/fixtures.js';
import { startReceiver, type Receiver } from '../../../test/alerts/webhook-receiver.js';
import { parseMonitorConfig, type CheckConfig } from '../monitor-config.js';
import type { RoundObservation } from './alert-engine.js';
import { Alerts } from './alerts.js';
import { SlackOutbox } from './slack-outbox.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function check(extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}): CheckConfig {
  return parseMonitorConfig(
    {
      alerts: { grafanaUrl: 'https://grafana.example.com/', ...top },
      checks: [{ name: 'chat', scenario: 'chat-load', interval: '10s', locations: { region: ['ams3', 'nyc1'] }, ...extra }],
    },
    '/m.yaml',
  ).checks[0]!;
}

let slot = Date.UTC(2030, 0, 1);
function round(p: { location?: string; status?: RoundReport['status']; failed?: number; create?: number; step?: string; error?: string }): RoundObservation {
  slot += 10_000;
  const status = p.status ?? ((p.failed ?? 0) > 0 ? 'failed' : 'ok');
  const planned = status === 'gap' ? 0 : 2;
  return {
    report: {
      check: 'chat',
      location: p.location ?? 'ams3',
      slotAt: slot,
      startedAt: status === 'gap' ? null : slot + 5,
      endedAt: slot + 4_000,
      status,
      runId: status === 'gap' ? null : `chat.ams3.${slot}`,
      scenario: 'chat-load',
      targetName: 'demo',
      agents: status === 'gap' ? [] : ['ams3-a'],
      sessions: { planned, ok: planned - (p.failed ?? 0), failed: p.failed ?? 0 },
      reason: status === 'gap' ? `no agent in ${p.location ?? 'ams3'}` : null,
      failedStep: p.step ? { step: p.step, count: p.failed ?? 0 } : null,
      exitCode: status === 'ok' ? 0 : 1,
    },
    metrics: status === 'gap' ? {} : { api_create: p.create ?? 40 + ((slot / 10_000) % 7) },
    topError: p.error ? { message: p.error, count: p.failed ?? 1 } : null,
    evidence: p.failed ? `/var/lib/userprobe/results/chat.ams3.${slot}/evidence/s0001/` : null,
    summary: null,
  };
}

async function harness(c: CheckConfig, receiver: Receiver, dir?: string) {
  const out = dir ?? (await tempDir('userprobe-alerts-')).dir;
  if (!dir)
    cleanups.push(async () => {
      await (await import('node:fs/promises')).rm(out, { recursive: true, force: true });
    });
  const outbox = await SlackOutbox.open({ dir: `${out}/.alerts-outbox`, webhookUrl: receiver.url, log, retryMinMs: 20, retryMaxMs: 100 });
  const alerts = await Alerts.open({
    outDir: out,
    settings: { webhookEnv: 'X', grafanaUrl: 'https://grafana.example.com', evidenceUrl: null },
    outbox,
    log,
    now: () => slot + 4_000,
  });
  alerts.apply([{ check: c, policy: c.alerts }]);
  const stop = async () => {
    await alerts.stop();
    await outbox.stop();
  };
  cleanups.push(stop);
  return {
    out,
    outbox,
    alerts,
    stop,
    feed: async (...rs: RoundObservation[]) => {
      for (const r of rs) await alerts.observe(r);
      await outbox.idle();
    },
  };
}

describe('alerts over rounds, to a Slack-compatible receiver on loopback', () => {
  it('a sustained regression: exactly one firing message, and after it recovers exactly one resolved; a single slow round sends nothing', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const h = await harness(check({ alerts: { failure: false, dark: false, noData: false } }), rx);
    await h.feed(...Array.from({ length: 6 }, () => round({}))); // baseline ~40-46 ms
    await h.feed(round({ create: 400 }), round({}), round({})); // one slow round: pending only
    expect(rx.accepted).toEqual([]);
    await h.feed(round({ create: 420 }), round({ create: 410 }), round({ create: 430 }), round({ create: 405 })); // sustained
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual(['🔴 Firing [degraded]: chat slow in ams3: api_create']);
    expect(rx.accepted[0]!.text).toMatch(/api_create p95 410 ms over 1\d\d ms \(its baseline \d+ ms, the median of the last \d+ good rounds, \+ 100 ms\)/);
    await h.feed(round({}), round({}), round({}));
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual([
      '🔴 Firing [degraded]: chat slow in ams3: api_create',
      '✅ Resolved: chat slow in ams3: api_create',
    ]);
    const blocks = JSON.stringify(rx.accepted[0]!.blocks);
    expect(blocks).toContain('https://grafana.example.com/d/userprobe-monitor/userprobe-monitor?var-check=chat');
    expect(blocks).toContain('var-location=ams3');
  });

  it('failing sessions: a failure alert at the second bad round, naming the step and the most common error, with the evidence path', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const h = await harness(check({ alerts: { latency: false } }), rx);
    await h.feed(round({}), round({ failed: 2, step: 'widget_load', error: 'step "widget_load" did not finish within 10000 ms' }));
    expect(rx.accepted).toEqual([]);
    await h.feed(round({ failed: 2, step: 'widget_load', error: 'step "widget_load" did not finish within 10000 ms' }));
    expect(rx.accepted).toHaveLength(1);
    const m = rx.accepted[0]!;
    expect(m.text).toBe(
      '🔴 Firing [failed]: chat failing in ams3 — 2 of 2 session(s) failed, most at step widget_load (2); most common error (2×): step "widget_load" did not finish within 10000 ms',
    );
    expect(JSON.stringify(m.blocks)).toMatch(/evidence: \/var\/lib\/userprobe\/results\/chat\.ams3\.\d+\/evidence\/s0001\//);
    expect(JSON.stringify(m.blocks)).toContain('100% of sessions failed (alert at 50%)');
  });

  it('a location with no agent: a dark-location alert after two gap rounds, resolved when an agent measures it again', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const h = await harness(check({ alerts: { latency: false } }), rx);
    await h.feed(round({ location: 'nyc1' }), round({ location: 'nyc1', status: 'gap' }));
    expect(rx.accepted).toEqual([]);
    await h.feed(round({ location: 'nyc1', status: 'gap' }));
    expect(rx.accepted.map((m) => m.text)).toEqual(['🔴 Firing [degraded]: chat: location nyc1 is dark (no agent) — no agent in nyc1']);
    await h.feed(round({ location: 'nyc1', status: 'gap' }), round({ location: 'nyc1' }));
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual([
      '🔴 Firing [degraded]: chat: location nyc1 is dark (no agent)',
      '✅ Resolved: chat: location nyc1 is dark (no agent)',
    ]);
  });

  it('Slack answering 500 three times then 200: each message delivered once, in order, nothing blocked', async () => {
    const rx = await startReceiver((n) => ({ status: n < 3 ? 500 : 200 }));
    cleanups.push(() => rx.close());
    const h = await harness(check({ alerts: { latency: false } }), rx);
    const bad = { failed: 2, step: 'api_init', error: 'HTTP 500 from init' };
    // Rounds never wait on Slack: every round is observed while Slack answers nothing at all.
    const release = rx.hold();
    for (const r of [round({ location: 'nyc1', status: 'gap' }), round({ location: 'nyc1', status: 'gap' }), round(bad), round(bad), round({}), round({})])
      await h.alerts.observe(r);
    expect(rx.answers).toEqual([]);
    release();
    await h.outbox.idle();
    expect(rx.answers).toEqual([500, 500, 500, 200, 200, 200]);
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual([
      '🔴 Firing [degraded]: chat: location nyc1 is dark (no agent)',
      '🔴 Firing [failed]: chat failing in ams3',
      '✅ Resolved: chat failing in ams3',
    ]);
  });

  it('a controller restart while firing sends nothing again; the resolution is still announced once', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const c = check({ alerts: { latency: false } });
    const first = await harness(c, rx);
    const bad = { failed: 2, step: 'api_init' };
    await first.feed(round(bad), round(bad), round(bad));
    expect(rx.accepted).toHaveLength(1);
    await first.stop();
    const second = await harness(c, rx, first.out);
    await second.feed(round(bad), round(bad));
    expect(rx.accepted).toHaveLength(1);
    await second.feed(round({}), round({}));
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual(['🔴 Firing [failed]: chat failing in ams3', '✅ Resolved: chat failing in ams3']);
  });

  it('flapping: firing again right after resolving sends nothing until it settles; agreement across locations fires once for the check', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const h = await harness(check({ alerts: { latency: false, dark: false } }), rx);
    const bad = { failed: 2, step: 'api_init' };
    await h.feed(round(bad), round(bad), round({}), round({}), round(bad), round(bad));
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual(['🔴 Firing [failed]: chat failing in ams3', '✅ Resolved: chat failing in ams3']);
    expect(h.alerts.states().find((s) => s.kind === 'failure')!.detail).toContain('flapping');

    const rx2 = await startReceiver();
    cleanups.push(() => rx2.close());
    const h2 = await harness(check({ alerts: { latency: false, dark: false, agree: 2 } }), rx2);
    await h2.feed(round({ ...bad, location: 'ams3' }), round({ ...bad, location: 'ams3' }));
    expect(rx2.accepted).toEqual([]); // one location alone does not fire with agree: 2
    await h2.feed(round({ ...bad, location: 'nyc1' }), round({ ...bad, location: 'nyc1' }));
    expect(rx2.accepted.map((m) => m.text.split(' — ')[0])).toEqual(['🔴 Firing [failed]: chat failing in several locations']);
    expect(rx2.accepted[0]!.text).toContain('2 of 2 location(s) firing (ams3, nyc1)');
  });

  it('no data: a check with no round started for 3 intervals fires, and resolves when one starts', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const h = await harness(check({ alerts: { latency: false, dark: false, failure: false } }), rx);
    await h.feed(round({}));
    slot += 35_000; // 3.5 intervals of silence
    // The engine's no-data tick (NO_DATA_TICK_MS) fires it: wait for that message, not for a fixed time (a busy machine ticks late).
    for (const until = Date.now() + 30_000; rx.accepted.length === 0 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    await h.outbox.idle();
    expect(rx.accepted.map((m) => m.text)).toEqual([
      expect.stringMatching(/^🔴 Firing \[failed\]: chat measures nothing — no round started for 3\ds \(3 intervals of 10s\): nothing is being measured$/),
    ]);
    await h.feed(round({}));
    expect(rx.accepted.map((m) => m.text.split(' — ')[0])).toEqual(['🔴 Firing [failed]: chat measures nothing', '✅ Resolved: chat measures nothing']);
  });
});
