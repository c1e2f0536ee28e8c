import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoundReport } from '@userprobe/shared';
import { tempDir } from '../fixtures.js';
import { startCli, type Proc } from '../processes.js';
import { jsonl, startDrill, type Drill } from '../drill-kit.js';
import { slotLateLimitMs } from '../../src/monitor/schedule.js';

/*
 * The monitoring daemon as an operator runs it, with time compressed
 * (intervals of seconds): `controller serve --config` with two checks
 * (chat-load every 10 s, cobrowse every 11 s) from two locations of external
 * agents (ams3: two agents, nyc1: one), real Chromium, the demo target on
 * loopback. Then what operators do to it: kill -9 the only agent of nyc1 and
 * start it again, submit a load test with `controller run --controller`, ask
 * `controller status`, change the config and send SIGHUP, stop it with SIGTERM.
 */

const TOKEN = 'drill-token';
const OPERATOR = 'operator-token-for-the-drill';
// A round (1.5 s agreed start lead, the session, the last batch) takes 4-6 s on a quiet 2-core machine and
// up to about 8 s beside other work: intervals above that, so a slot is never skipped for a slow round.
const CHAT_MS = 10_000;
const COBROWSE_MS = 11_000;
const ROUNDS = 20;

const config = (profile: string, checks: string) => `loadTests: keep
checks:
${checks.replaceAll('PROFILE', profile)}`;
const CHAT = `  - name: chat
    scenario: chat-load
    target: PROFILE
    interval: ${CHAT_MS / 1000}s
    locations: { region: [ams3, nyc1] }
    options: { input: insert }
`;
const COBROWSE = `  - name: cobrowse
    scenario: cobrowse
    target: PROFILE
    interval: ${COBROWSE_MS / 1000}s
    locations: { region: [ams3, nyc1] }
    options: { input: insert, mirror-samples: 2 }
`;
const CHAT_FAST_MS = 5_000;
const CHAT_FAST = `  - name: chat-fast
    scenario: chat-load
    target: PROFILE
    interval: ${CHAT_FAST_MS / 1000}s
    locations: { region: [ams3] }
    options: { input: insert }
`;

describe('monitoring daemon drill (external labelled agents, real Chromium, demo target)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('keeps every slot of a location whose agents are up, records gaps for one whose only agent is killed, takes it back after a restart; load test, status and SIGHUP on the running daemon', async () => {
    const t = await tempDir('userprobe-monitor-drill-');
    cleanups.push(t.cleanup);
    const d: Drill = await startDrill(t.dir);
    cleanups.push(() => d.cleanup());
    const cfgFile = join(t.dir, 'monitor.yaml');
    await writeFile(cfgFile, config(d.profile, CHAT + COBROWSE));
    const rounds = () => jsonl(join(d.out, 'monitor-rounds.jsonl')) as Promise<RoundReport[]>;
    const until = async (what: string, ok: (r: RoundReport[]) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const r = await rounds();
        if (ok(r)) return r;
        if (Date.now() > deadline)
          throw new Error(
            `${what}: not within ${ms} ms; rounds: ${JSON.stringify(r.slice(-12).map((x) => [x.check, x.location, x.status, x.reason]))}\n${ctl.stderr().slice(-3000)}`,
          );
        await new Promise((res) => setTimeout(res, 500));
      }
    };

    const ctl: Proc = d.track(
      startCli(['serve', '--config', cfgFile, '--out', d.out, '--host', '127.0.0.1', '--port', '0', '--loss-grace', '3s', '--drain-timeout', '5s'], {
        PROBE_TOKEN: TOKEN,
        PROBE_OPERATOR_TOKEN: OPERATOR,
      }),
    );
    const [, url] = await ctl.waitFor(/controller listening on (http:\/\/\S+)/, 'stdout');
    const agent = (id: string, region: string) => d.agent(url!, id, TOKEN, [`--labels=region=${region}`, '--capacity=3']);
    agent('ams3-a', 'ams3');
    agent('ams3-b', 'ams3');
    let nyc = agent('nyc1-a', 'nyc1');
    await Promise.all(['ams3-a', 'ams3-b', 'nyc1-a'].map((id) => ctl.waitFor(new RegExp(`agent ${id} connected`))));
    const t0 = Date.now();
    const after = (r: RoundReport[], at: number) => r.filter((x) => x.slotAt >= at);
    const count = (r: RoundReport[], check: string, location: string, status?: string) =>
      r.filter((x) => x.check === check && x.location === location && (status === undefined || x.status === status)).length;

    // A load test on the same fleet while the checks run (loadTests: keep): the standalone run's output and exit code.
    await until('three ams3 rounds of each check', (r) => ['chat', 'cobrowse'].every((c) => count(after(r, t0), c, 'ams3') >= 3), 60_000);
    const load = d.track(
      startCli(['run', '--controller', url!, '--scenario', 'chat-load', '--total', '2', '--target', d.profile, '--run-id', 'load-1', '--input', 'insert'], {
        PROBE_OPERATOR_TOKEN: OPERATOR,
      }),
    );
    expect(await load.exited, load.stderr()).toBe(0);
    expect(load.stdout()).toMatch(/sessions\s+2 planned.*2 ok|2 ok/);
    expect(load.stdout()).toContain('results: ');
    expect(load.stderr()).toContain('checks keep running (loadTests: keep)');
    expect(load.stderr()).toMatch(/plan: 2 chat-load session\(s\) over/);
    // Its report.html, written by the daemon into its results folder, as `controller run` writes one.
    expect(load.stderr()).toContain(`report: ${join(d.out, 'load-1', 'report.html')}`);

    // The status an operator asks for.
    const status = d.track(startCli(['status', '--controller', url!, '--json'], { PROBE_OPERATOR_TOKEN: OPERATOR }));
    expect(await status.exited, status.stderr()).toBe(0);
    const doc = JSON.parse(status.stdout()) as {
      agents: { name: string; connected: boolean; location: string }[];
      checks: { name: string; nextRoundAt: string | null }[];
    };
    expect(
      doc.agents
        .filter((a) => a.connected)
        .map((a) => a.name)
        .sort(),
    ).toEqual(['ams3-a', 'ams3-b', 'nyc1-a']);
    expect(doc.checks.map((c) => c.name)).toEqual(['chat', 'cobrowse']);
    expect(doc.checks.every((c) => c.nextRoundAt !== null)).toBe(true);
    const refused = d.track(startCli(['status', '--controller', url!], { PROBE_OPERATOR_TOKEN: 'not-the-operator-token' }));
    expect(await refused.exited).toBe(2);
    expect(refused.stderr()).toContain('refused (401)');

    // kill -9 the only agent of nyc1: gaps there; ams3 goes on.
    await until('eight ams3 rounds of each check', (r) => ['chat', 'cobrowse'].every((c) => count(after(r, t0), c, 'ams3') >= 8), 120_000);
    nyc.child.kill('SIGKILL');
    await nyc.exited;
    const tKill = Date.now();
    await until(
      'two gaps in nyc1 for each check',
      (r) => ['chat', 'cobrowse'].every((c) => after(r, tKill).filter((x) => x.check === c && x.location === 'nyc1' && x.status === 'gap').length >= 2),
      60_000,
    );
    nyc = agent('nyc1-a', 'nyc1');
    const tRestart = Date.now();
    // When the controller has the restarted agent again (its second "connected" line): no gap may be slotted after
    // that. Bounding by tRestart plus one interval failed a loaded run whose agent took longer than that to start.
    const connects = () => (ctl.stderr().match(/agent nyc1-a connected/g) ?? []).length;
    while (connects() < 2) {
      if (Date.now() - tRestart > 60_000) throw new Error(`the restarted nyc1-a did not connect within 60 s\n${ctl.stderr().slice(-3000)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    const tBack = Date.now();
    await until(
      'nyc1 back in rotation for each check',
      (r) => ['chat', 'cobrowse'].every((c) => after(r, tRestart).filter((x) => x.check === c && x.location === 'nyc1' && x.status === 'ok').length >= 2),
      90_000,
    );
    const startedIn = (r: RoundReport[], check: string) =>
      after(r, t0).filter((x) => x.check === check && x.location === 'ams3' && x.startedAt !== null).length;
    const all = await until(`${ROUNDS} started ams3 rounds of each check`, (r) => ['chat', 'cobrowse'].every((c) => startedIn(r, c) >= ROUNDS), 360_000);

    // SIGHUP with a changed config: cobrowse removed, chat-fast added; no agent dropped.
    const disconnectsBefore = (ctl.stderr().match(/ disconnected \(/g) ?? []).length;
    await writeFile(cfgFile, config(d.profile, CHAT + CHAT_FAST));
    ctl.child.kill('SIGHUP');
    await ctl.waitFor(/monitor config reloaded: 2 check\(s\); added chat-fast; removed cobrowse/);
    const tReload = Date.now();
    // A hang guard, not a measure: on a loaded machine a 5 s check's rounds can outlast their slot and every other one is skipped.
    await until('two chat-fast rounds', (r) => count(after(r, tReload), 'chat-fast', 'ams3', 'ok') >= 2, 90_000);
    const reloaded = await rounds();
    expect(after(reloaded, tReload + 1_000).filter((x) => x.check === 'cobrowse')).toEqual([]);
    expect((ctl.stderr().match(/ disconnected \(/g) ?? []).length).toBe(disconnectsBefore);
    // A config with a problem is refused, the running one kept.
    await writeFile(cfgFile, 'checks: [{ name: Bad, scenario: chat, interval: soon }]\n');
    ctl.child.kill('SIGHUP');
    await ctl.waitFor(/reload refused, the running config is kept: --config \S+: \d problem\(s\)/);

    // SIGTERM: graceful, exit 0.
    const tTerm = Date.now();
    ctl.child.kill('SIGTERM');
    expect(await ctl.exited).toBe(0);
    expect(Date.now() - tTerm).toBeLessThan(45_000);

    const took = all
      .filter((x) => x.startedAt !== null)
      .map((x) => x.endedAt - x.startedAt!)
      .sort((x, y) => x - y);
    process.stdout.write(
      `[figures] monitor drill: ${all.length} round reports; round duration p50 ${took[Math.floor(took.length / 2)]} ms, max ${took.at(-1)} ms; ` +
        `start lateness max ${Math.max(...all.filter((x) => x.startedAt !== null).map((x) => x.startedAt! - x.slotAt))} ms\n`,
    );
    // Every round started at its slot, no later than the daemon's own limit (a quarter of the interval, at least
    // 1 s: slotLateLimitMs); a slot it could not start by then is reported missed, which the checks below refuse in
    // ams3. A fixed 1 s here failed a quiet run whose controller started a cobrowse round 1.1 s late.
    const intervalOf: Record<string, number> = { chat: CHAT_MS, cobrowse: COBROWSE_MS, 'chat-fast': CHAT_FAST_MS };
    const started = all.filter((x) => x.startedAt !== null);
    expect(started.length).toBeGreaterThanOrEqual(2 * ROUNDS);
    expect(started.filter((x) => x.startedAt! - x.slotAt > slotLateLimitMs(intervalOf[x.check]!) || x.startedAt! < x.slotAt)).toEqual([]);
    for (const [check, interval] of [
      ['chat', CHAT_MS],
      ['cobrowse', COBROWSE_MS],
    ] as const) {
      // In slot order (a report is written when its round ends, so the file is in end order), up to the last round
      // that ended: a round still running when `all` was read has no report yet, while the slots it made skip do (a
      // quiet run whose rounds took 8-14 s read slot 43 skipped and slot 42's round not yet reported).
      const inCheck = after(all, t0).filter((x) => x.check === check && x.location === 'ams3');
      const lastEnded = Math.max(...inCheck.filter((x) => x.startedAt !== null).map((x) => x.slotAt));
      const ams = inCheck.filter((x) => x.slotAt <= lastEnded).sort((x, y) => x.slotAt - y.slotAt);
      // No missed slot in ams3, whatever happened in nyc1: each slot one interval after the last.
      for (let i = 1; i < ams.length; i++)
        expect(
          ams[i]!.slotAt - ams[i - 1]!.slotAt,
          `${check} ams3 slot ${i}: ${JSON.stringify(ams.map((x) => [x.slotAt, x.status, x.startedAt, x.endedAt]))}`,
        ).toBe(interval);
      // Each slot started, or was skipped because this check's previous round in ams3 was still running at
      // that slot (the documented rule: a check's rounds never overlap in a location) — what a round longer
      // than the interval causes on a slow or busy machine (a cobrowse round beside the load test took over
      // 11 s on a 2-core EPYC; rounds there took p50 6.8 s, max 12.4 s; in a quiet CI run beside the other
      // drills, p50 15.1 s and half the slots skipped). How many are skipped follows the machine's load, so it
      // is not judged: a daemon that falls behind for good never reaches 20 started rounds above, and one that
      // skips without cause, or overlaps its rounds, fails here.
      const notStarted = ams.filter((x) => x.status !== 'ok' && x.status !== 'failed');
      for (const x of notStarted) {
        const why = `${check} ams3 slot ${x.slotAt}: ${JSON.stringify(ams.map((y) => [y.slotAt, y.status, y.startedAt, y.endedAt]))}`;
        expect([x.status, x.reason], why).toEqual(['skipped', 'the previous round of this check in ams3 is still running']);
        // The round still running may have started before t0 (before every agent was connected): look among all of them.
        const previous = all
          .filter((y) => y.check === check && y.location === 'ams3' && y.slotAt < x.slotAt && y.startedAt !== null)
          .sort((y, z) => y.slotAt - z.slotAt)
          .at(-1);
        expect(previous !== undefined && previous.endedAt > x.slotAt, why).toBe(true);
      }
      const startedRounds = ams.filter((x) => x.startedAt !== null);
      for (let i = 1; i < startedRounds.length; i++) {
        const [prev, next] = [startedRounds[i - 1]!, startedRounds[i]!];
        expect(next.startedAt! >= prev.endedAt, `${check} ams3: the round of slot ${next.slotAt} started before the one of slot ${prev.slotAt} ended`).toBe(
          true,
        );
      }
      expect(ams.filter((x) => x.status === 'ok').length, `${check} ams3 rounds ok`).toBeGreaterThanOrEqual(ROUNDS - 2);
      // Each agent of ams3 is used.
      expect(new Set(ams.flatMap((x) => x.agents))).toEqual(new Set(['ams3-a', 'ams3-b']));
      // nyc1: gaps while its agent was down, named; then measured again by the restarted agent.
      const gaps = all.filter((x) => x.check === check && x.location === 'nyc1' && x.status === 'gap' && x.slotAt >= tKill);
      expect(gaps.length).toBeGreaterThanOrEqual(2);
      expect(
        gaps.filter((x) => x.reason !== 'no agent in nyc1' || x.slotAt > tBack),
        `${check} nyc1 gaps after the kill (t ${tKill}), restart (t ${tRestart}), reconnect (by t ${tBack})`,
      ).toEqual([]);
      expect(
        all.filter((x) => x.check === check && x.location === 'nyc1' && x.status === 'ok' && x.slotAt > tRestart).every((x) => x.agents.join() === 'nyc1-a'),
      ).toBe(true);
    }
    // Rounds are ordinary runs, tagged with their check.
    const runJson = JSON.parse(
      await import('node:fs/promises').then((f) => f.readFile(join(d.out, all.find((x) => x.status === 'ok')!.runId!, 'run.json'), 'utf8')),
    ) as { checkName: string; status: string };
    expect(runJson.checkName).toBe(all.find((x) => x.status === 'ok')!.check);
    expect(runJson.status).toBe('passed');
  }, 600_000);
});
