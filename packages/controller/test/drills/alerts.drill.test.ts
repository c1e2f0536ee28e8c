import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoundReport } from '@userprobe/shared';
import { tempDir } from '../fixtures.js';
import { startCli, type Proc } from '../processes.js';
import { jsonl, startDrill } from '../drill-kit.js';
import { startReceiver } from '../alerts/webhook-receiver.js';

/**
 * The alert engine on the real parts: `controller serve --config` with two
 * checks on the demo target (chat from ams3, judged for latency and failure;
 * watch from nyc1, judged for a dark location), external agents with real
 * Chromium, and a Slack-compatible receiver on loopback. Faults are injected
 * with the demo's knobs and by killing an agent; the controller is restarted
 * while an alert fires. Every message Slack got is checked, in order.
 * The latency rule includes saturated samples here: on a 2-core test machine
 * running agents, demo and controller (and, in one of the suite's runs, two
 * busy loops) most samples are flagged saturated, and the default — judging
 * unsaturated samples only — would rightly judge nothing (round-observation.test.ts).
 * The injected delay and the rule's minimum excess sit far above what load
 * does to a loopback call: with the default 100 ms over a 15 ms baseline and
 * an 800 ms delay, one CI run under load fired on the one slow round (an
 * ordinary round beside it went over 115 ms, and 2 of 3 rounds were bad).
 * 1 s over the baseline against a 2.5 s delay keeps "one slow round sends
 * nothing" about the engine's k-of-n, not about the machine's load.
 */
const TOKEN = 'drill-token';
const INTERVAL_MS = 6_000;
const CREATE_DELAY_MS = 2_500;
/**
 * Waits are for events (rounds recorded, messages received); their limits are hang guards, counted in
 * rounds the wait may span. A round of one chat session took about 20 s in a CI run with the whole
 * suite and two busy loops on the 2 cores (load average ~18) — over three 6 s slots — so a guard
 * counted in slots failed there.
 */
const ROUND_GUARD_MS = 45_000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('alerts drill (demo knobs, external agents, a Slack receiver on loopback)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a regression fires once and resolves once, one slow round sends nothing, failing sessions alert within two rounds naming the step, a killed agent darkens its location, a restart while firing sends nothing twice', async () => {
    const t = await tempDir('userprobe-alerts-drill-');
    cleanups.push(t.cleanup);
    const d = await startDrill(t.dir);
    cleanups.push(() => d.cleanup());
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const cfg = join(t.dir, 'monitor.yaml');
    await writeFile(
      cfg,
      `alerts:
  grafanaUrl: https://grafana.example.com
checks:
  - name: chat
    scenario: chat-load
    target: ${d.profile}
    interval: ${INTERVAL_MS / 1000}s
    locations: { region: [ams3] }
    options: { input: insert, step-timeout: 10s }
    alerts: { latency: { metrics: [api_create], minBaseline: 4, minDelta: 1s, includeSaturated: true }, dark: false, noData: false }
  - name: watch
    scenario: chat-load
    target: ${d.profile}
    interval: ${INTERVAL_MS / 1000}s
    locations: { region: [nyc1] }
    options: { input: insert }
    alerts: { latency: false, failure: false, noData: false, flapWindow: 12s }
`,
    );
    const port = await freePort();
    const serve = (): Proc =>
      d.track(
        startCli(['serve', '--config', cfg, '--out', d.out, '--host', '127.0.0.1', '--port', String(port), '--loss-grace', '3s'], {
          PROBE_TOKEN: TOKEN,
          PROBE_OPERATOR_TOKEN: 'operator-token-alerts-drill',
          PROBE_SLACK_WEBHOOK_URL: rx.url,
        }),
      );
    let ctl = serve();
    const [, url] = await ctl.waitFor(/controller listening on (http:\/\/\S+)/, 'stdout');
    d.agent(url!, 'ams3-a', TOKEN, ['--labels=region=ams3', '--capacity=2']);
    const nyc = d.agent(url!, 'nyc1-a', TOKEN, ['--labels=region=nyc1', '--capacity=2']);
    const rounds = () => jsonl(join(d.out, 'monitor-rounds.jsonl')) as Promise<RoundReport[]>;
    const chatRounds = async () => (await rounds()).filter((r) => r.check === 'chat' && r.startedAt !== null);
    // What the drill judges: the messages after the warm-up (see below).
    let skip = 0;
    const msgs = () => rx.accepted.slice(skip);
    const heads = () => msgs().map((m) => m.text.split(' — ')[0] ?? '');
    const until = async (what: string, ok: () => Promise<boolean> | boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; Slack got ${JSON.stringify(heads())}; ${ctl.stderr().slice(-2500)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    /** Wait for the next chat round to be recorded; returns it. */
    const nextChat = async () => {
      const n = (await chatRounds()).length;
      await until('the next chat round', async () => (await chatRounds()).length > n, 2 * ROUND_GUARD_MS);
      return (await chatRounds()).at(-1)!;
    };

    // Warm-up: both agents measuring. On a busy machine the nyc1 agent may connect after its location's first rounds: the
    // location was dark then, and its alert said so and resolved once a round ran there — right, and not what is judged here.
    // (The watch check's short flap window: the dark alert judged below, minutes later, is then not taken for that one flapping.)
    // Hang guards, not measures: on a loaded machine a round can outlast its 6 s slot, and the next slot is then skipped.
    await until('five ok chat rounds', async () => (await chatRounds()).filter((r) => r.status === 'ok').length >= 5, 8 * ROUND_GUARD_MS);
    await until('an ok round in nyc1', async () => (await rounds()).some((r) => r.check === 'watch' && r.status === 'ok'), 3 * ROUND_GUARD_MS);
    const DARK = 'watch: location nyc1 is dark (no agent)';
    await until(
      'every early firing resolved',
      () => heads().filter((h) => h.startsWith('🔴')).length === heads().filter((h) => h.startsWith('✅')).length,
      2 * ROUND_GUARD_MS,
    );
    expect(heads().filter((h) => !h.endsWith(DARK))).toEqual([]);
    skip = rx.accepted.length;

    // A baseline, then one slow round: pending only, no message.
    await nextChat();
    d.demo.knobs.set({ latency: { create: CREATE_DELAY_MS } });
    await nextChat();
    d.demo.knobs.reset();
    await nextChat();
    await nextChat();
    expect(heads(), JSON.stringify(msgs().map((m) => m.text))).toEqual([]);

    // A sustained regression: one firing message; reset: one resolved.
    d.demo.knobs.set({ latency: { create: CREATE_DELAY_MS } });
    await until('the latency alert', () => heads().length >= 1, 4 * ROUND_GUARD_MS);
    await nextChat();
    d.demo.knobs.reset();
    await until('its resolution', () => heads().length >= 2, 4 * ROUND_GUARD_MS);
    expect(heads()).toEqual(['🔴 Firing [degraded]: chat slow in ams3: api_create', '✅ Resolved: chat slow in ams3: api_create']);
    expect(msgs()[0]!.text).toMatch(/api_create p95 \d{4} ms over 1\d{3} ms \(its baseline \d+ ms, the median of the last \d+ good rounds, \+ 1000 ms\)/);

    // Failing sessions (the chat API answers 500): an alert within two rounds, naming the failing step.
    d.demo.knobs.set({ errors: { init: { status: 500, rate: 1 } } });
    const before = (await chatRounds()).length;
    // A failing session waits out its step timeout (10 s here: with 4 s, a busy run's sessions timed out at widget_load and a
    // failure alert fired during the latency phase), so its round overruns slots (skipped): rounds, not slots, count.
    await until('the failure alert', () => heads().length >= 3, 6 * ROUND_GUARD_MS);
    const failedRounds = (await chatRounds()).slice(before).filter((r) => r.status === 'failed');
    expect(failedRounds.length).toBeLessThanOrEqual(2);
    expect(heads()[2]).toBe('🔴 Firing [failed]: chat failing in ams3');
    const failing = msgs()[2]!.text;
    expect(failing).toMatch(/1 of 1 session\(s\) failed, most at step \S+ \(1\); most common error \(1×\): /);
    expect(failing).toContain(failedRounds[0]!.failedStep!.step);
    d.demo.knobs.reset();
    await until('the failure resolved', () => heads().length >= 4, 4 * ROUND_GUARD_MS);
    expect(heads()[3]).toBe('✅ Resolved: chat failing in ams3');

    // The only agent of nyc1 killed: a dark-location alert.
    nyc.child.kill('SIGKILL');
    await until('the dark-location alert', () => heads().length >= 5, 2 * ROUND_GUARD_MS);
    expect(heads()[4]).toBe(`🔴 Firing [degraded]: ${DARK}`);

    // A controller restart while it fires: no message again.
    ctl.child.kill('SIGTERM');
    expect(await ctl.exited).toBe(0);
    ctl = serve();
    await ctl.waitFor(/controller listening on/, 'stdout');
    const gapsBefore = (await rounds()).filter((r) => r.check === 'watch' && r.status === 'gap').length;
    await until(
      'three more gap rounds in nyc1',
      async () => (await rounds()).filter((r) => r.check === 'watch' && r.status === 'gap').length >= gapsBefore + 3,
      2 * ROUND_GUARD_MS,
    );
    expect(heads()).toHaveLength(5);
    ctl.child.kill('SIGTERM');
    expect(await ctl.exited).toBe(0);
    process.stdout.write(`[figures] alerts drill: Slack got, in order:\n${rx.accepted.map((m) => `  ${m.text}`).join('\n')}\n`);
  }, 1_200_000);
});
