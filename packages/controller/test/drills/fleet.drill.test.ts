import { describe, it, expect, afterEach } from 'vitest';
import { coreMetrics } from '@userprobe/shared';
import { tempDir } from '../fixtures.js';
import { startCli } from '../processes.js';
import { duplicates, runResults, startDrill, type Drill } from '../drill-kit.js';

/*
 * Fault drills as an operator meets them, on the real parts: the controller
 * and agents as processes (real Chromium), the demo target on loopback. Each
 * checks exact counts — planned, completed, lost, reassigned — and that no
 * sample is lost or stored twice. (MySQL paused and packet loss: their own files.)
 */

const TOKEN = 'drill-token';
const CORE = coreMetrics('chat-load').length;

describe('fleet drills (external agents, real Chromium, demo target)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function drill(knobs: Parameters<typeof startDrill>[1] = {}): Promise<Drill> {
    const t = await tempDir('userprobe-drill-');
    cleanups.push(t.cleanup);
    const d = await startDrill(t.dir, knobs);
    cleanups.push(() => d.cleanup());
    return d;
  }

  it('two runs in a row with the same external agent: both succeed (it comes back after the first controller closed)', async () => {
    const d = await drill();
    const first = d.run(['--scenario', 'chat-load', '--total', '2', '--expect-agents', '1', '--ramp-up', '0', '--port', '0', '--run-id', 'first'], TOKEN);
    const [, url] = await first.waitFor(/agents connect to (http:\/\/\S+)/);
    const agent = d.agent(url!, 'steady', TOKEN, ['--capacity=2']);
    expect(await first.exited).toBe(0);
    // The next round on the same port: the agent must come back by itself.
    const port = new URL(url!).port;
    const second = d.run(
      ['--scenario', 'chat-load', '--total', '2', '--expect-agents', '1', '--agent-wait', '60s', '--ramp-up', '0', '--port', port, '--run-id', 'second'],
      TOKEN,
    );
    expect(await second.exited).toBe(0);
    for (const runId of ['first', 'second']) {
      const r = await runResults(d.out, runId);
      expect(r.sessions.map((s) => s.status)).toEqual(['ok', 'ok']);
      expect(r.samples.filter((s) => (coreMetrics('chat-load') as string[]).includes(String(s.metric)))).toHaveLength(2 * CORE);
      expect(duplicates(r)).toEqual([]);
    }
    expect(agent.child.exitCode).toBeNull(); // still running, waiting for the next controller
  }, 180_000);

  it('kill -9 one of two agents mid-run: its running sessions are lost, its unstarted ones run on the other agent, exact counts', async () => {
    // Each session waits 2.5 s on each relay (≈ 6 s in all); starts spread over 12 s.
    const d = await drill({ latency: { realtime: 2_500 } });
    const ctl = d.run(
      [
        '--scenario',
        'chat-load',
        '--total',
        '8',
        '--expect-agents',
        '2',
        '--ramp-up',
        '12s',
        '--no-adaptive-start',
        '--loss-grace',
        '2s',
        '--drain-timeout',
        '10s',
        '--port',
        '0',
        '--run-id',
        'kill9',
        '--json',
      ],
      TOKEN,
    );
    const [, url] = await ctl.waitFor(/agents connect to (http:\/\/\S+)/);
    const a = d.agent(url!, 'victim', TOKEN, ['--capacity=4']);
    d.agent(url!, 'survivor', TOKEN, ['--capacity=4']);
    // Kill the victim once it has started a session and before it has started them all (its starts are ~3 s apart).
    await ctl.waitFor(/victim [12]\/4 started/);
    a.child.kill('SIGKILL');
    const code = await ctl.exited;
    const r = await runResults(d.out, 'kill9');
    const victimSlots = r.state!.slots.filter((s) => s.agentId === 'victim' || s.movedFrom.some((m) => m.agentId === 'victim'));
    const lost = r.summary!.gapIds.lost;
    const reassigned = r.state!.slots.filter((s) => s.attempt === 2);
    // The victim's share: every slot either lost while running on it, or run again on the survivor.
    expect(victimSlots).toHaveLength(4);
    expect(lost.length + reassigned.length).toBe(4);
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(reassigned.every((s) => s.agentId === 'survivor' && s.movedFrom.some((m) => m.agentId === 'victim'))).toBe(true);
    // Exact: every planned session is either an ok record (planned or reassigned) or lost; nothing else.
    const ok = r.sessions
      .filter((s) => s.status === 'ok')
      .map((s) => String(s.sessionId))
      .sort();
    expect(ok).toHaveLength(8 - lost.length);
    expect(ok.filter((id) => id.endsWith('.a2')).sort()).toEqual(reassigned.map((s) => `${s.slot}.a2`).sort());
    expect(r.summary!.sessions).toMatchObject({
      expected: 8,
      ok: 8 - lost.length,
      failed: 0,
      lost: lost.length,
      notRun: 0,
      reassigned: reassigned.length,
      missing: 0,
    });
    // Nothing twice; every ok session has each core metric once; partial samples of lost sessions are kept apart.
    expect(duplicates(r)).toEqual([]);
    for (const id of ok)
      expect(r.samples.filter((s) => s.sessionId === id && (coreMetrics('chat-load') as string[]).includes(String(s.metric)))).toHaveLength(CORE);
    const partial = r.samples.filter((s) => lost.includes(String(s.sessionId)));
    expect(r.summary!.partial.samples).toBe(partial.length);
    console.info(
      `[figures] kill -9 drill: planned 8, victim's share 4 → ${lost.length} lost while running (${lost.join(', ')}), ${reassigned.length} reassigned to the survivor ` +
        `(${reassigned.map((x) => `${x.slot}.a2`).join(', ')}); ok ${ok.length}, failed 0, not run 0, missing 0; ${r.batches.length} batches, ${r.samples.length} samples, ` +
        `${partial.length} partial samples kept apart; duplicates 0; exit ${code}`,
    );
    // Sessions were lost: the run says so (exit 3) and names them.
    expect(code).toBe(3);
    expect(ctl.stderr()).toMatch(/agent victim is lost \(disconnected and not back within 2 s\): \d running session\(s\) lost, \d not started reassigned/);
    expect((JSON.parse(ctl.stdout()) as { error: { message: string } }).error.message).toMatch(/the run lost \d running session/);
  }, 180_000);

  it('an agent restarted mid-run (same id and spool) is seen at once: its old sessions lost or reassigned, no wait for a bound; its spooled batches still arrive', async () => {
    const d = await drill({ latency: { realtime: 2_000 } });
    const ctl = d.run(
      [
        '--scenario',
        'chat-load',
        '--total',
        '3',
        '--expect-agents',
        '1',
        '--ramp-up',
        '6s',
        '--no-adaptive-start',
        '--loss-grace',
        '60s',
        '--port',
        '0',
        '--run-id',
        'restart',
        '--json',
      ],
      TOKEN,
    );
    const [, url] = await ctl.waitFor(/agents connect to (http:\/\/\S+)/);
    const first = d.agent(url!, 'phoenix', TOKEN, ['--capacity=3']);
    await ctl.waitFor(/phoenix [12]\/3 started/);
    const t0 = Date.now();
    first.child.kill('SIGKILL');
    await first.exited;
    d.agent(url!, 'phoenix', TOKEN, ['--capacity=3']);
    const code = await ctl.exited;
    // The loss grace is 60 s: ending well before it means the restart was recognised from the hello, not waited out.
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(ctl.stderr()).toMatch(/agent phoenix is back without this run \(it restarted\)/);
    const r = await runResults(d.out, 'restart');
    const lost = r.summary!.gapIds.lost;
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(r.summary!.sessions).toMatchObject({ expected: 3, lost: lost.length, notRun: 0, ok: 3 - lost.length });
    expect(duplicates(r)).toEqual([]);
    console.info(
      `[figures] restart drill: planned 3; lost ${lost.length} (${lost.join(', ')}), reassigned ${r.summary!.sessions['reassigned']}, ok ${r.summary!.sessions['ok']}; ` +
        `partial samples ${r.summary!.partial.samples}; ended ${Math.round((Date.now() - t0) / 1000)} s after the kill (loss grace 60 s); exit ${code}`,
    );
    expect(code).toBe(3);
  }, 180_000);

  it("a second agent with a connected agent's --id is refused with the reason and exits 2; the first keeps its place", async () => {
    const d = await drill();
    const serve = d.track(startCli(['serve', '--port', '0', '--host', '127.0.0.1', '--out', d.out], { PROBE_TOKEN: TOKEN }));
    const [, url] = await serve.waitFor(/controller listening on (http:\/\/\S+)/, 'stdout');
    const first = d.agent(url!, 'twin', TOKEN);
    await serve.waitFor(/agent twin connected/);
    const impostor = d.agent(url!, 'twin', TOKEN, [], 'other-spool');
    expect(await impostor.exited).toBe(2);
    expect(impostor.stderr()).toMatch(/agent id "twin" is already connected and answering/);
    expect(first.child.exitCode).toBeNull();
    expect(serve.stderr()).not.toMatch(/agent twin disconnected/);
  }, 120_000);
});
