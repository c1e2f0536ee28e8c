import { describe, it, expect, afterEach } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_PROFILES, coreMetrics } from '@userprobe/shared';
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import { DEMO_AGENT_TRUST, agentToken, tempDir } from './fixtures.js';
import { AGENT_CLI, startCli, startNode, type Proc } from './processes.js';

/*
 * Nothing lost, nothing twice, and no run left open across a controller crash —
 * with the real parts: a real agent process running real Chromium sessions
 * against the demo target, a real controller killed with SIGKILL mid-run, and a
 * new controller (`serve`) on the same port and results folder. The agent keeps
 * every unacknowledged batch in its spool and starts no new session while no
 * controller answers; the new controller re-adopts the run from its
 * run-state.json, the agent comes back holding it, the run ends under the new
 * controller and is closed with a summary, every batch stored exactly once.
 */

const TOKEN = 'replay-test-token';
const RUN_ID = 'replay-run';
const SESSIONS = 2;

async function lines(file: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function spooled(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => /^\d+\.json$/.test(f));
}

/** Polls `check` until it returns true; fails with `what` after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('controller crash before ack (real agent, Chromium, demo target)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const track = (p: Proc) => {
    cleanups.push(() => {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    });
    return p;
  };

  it('controller SIGKILL mid-run, then serve on the same folder: the run is re-adopted and closed; every batch stored once', async () => {
    const tmp = await tempDir('userprobe-replay-');
    cleanups.push(tmp.cleanup);
    // Slow relays, starts spread out: the run is mid-way when the controller dies.
    const demo: DemoTarget = await startDemoTarget({ knobs: { latency: { realtime: 1_000 } } });
    cleanups.push(() => demo.close());
    const profilePath = join(tmp.dir, 'demo.yaml');
    const yaml = (await readFile(BUNDLED_PROFILES.demo!, 'utf8')).replaceAll('${DEMO_SITE_URL}', demo.siteUrl).replaceAll('${DEMO_APP_URL}', demo.appUrl);
    await writeFile(profilePath, yaml);
    const out = join(tmp.dir, 'results');
    const spoolRoot = join(tmp.dir, 'spool');
    const runSpool = join(spoolRoot, 'agent-r', RUN_ID);

    const first = track(
      startCli(
        [
          'run',
          '--scenario',
          'chat-load',
          '--total',
          String(SESSIONS),
          '--expect-agents',
          '1',
          '--ramp-up',
          '6s',
          '--no-adaptive-start',
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--out',
          out,
          '--target',
          profilePath,
          '--run-id',
          RUN_ID,
        ],
        { PROBE_TOKEN: TOKEN },
      ),
    );
    const [, url] = await first.waitFor(/agents connect to (http:\/\/\S+)/);

    const agent = track(
      startNode(
        AGENT_CLI,
        [`--controller=${url!}`, '--id=agent-r', '--name=agent-r', `--spool=${spoolRoot}`, '--capacity=2', '--log-level=info', ...DEMO_AGENT_TRUST],
        { PROBE_TOKEN: agentToken('agent-r', TOKEN) },
      ),
    );

    // Mid-run: the first session started, the second (3 s later) not yet.
    await first.waitFor(/agent-r 1\/2 started/);
    first.child.kill('SIGKILL');
    await first.exited;
    const state = JSON.parse(await readFile(join(out, RUN_ID, 'run-state.json'), 'utf8')) as { status: string };
    expect(state.status).toBe('open'); // the dead controller could not close it

    // A new controller on the same port and folder re-adopts the run; the agent comes back holding it.
    const port = new URL(url!).port;
    const second = track(startCli(['serve', '--port', port, '--host', '127.0.0.1', '--out', out], { PROBE_TOKEN: TOKEN }));
    await second.waitFor(/controller listening on/, 'stdout');
    expect(second.stderr()).toMatch(new RegExp(`re-adopting run ${RUN_ID}`));
    await second.waitFor(new RegExp(`run ${RUN_ID} closed: passed \\(exit code 0\\)`));
    await until('the spool to drain', async () => (await spooled(runSpool)).length === 0);

    const samples = await lines(join(out, RUN_ID, 'samples.jsonl'));
    const sessions = await lines(join(out, RUN_ID, 'sessions.jsonl'));
    const batches = await lines(join(out, RUN_ID, 'batches.jsonl'));
    expect(sessions.map((s) => s.status)).toEqual(Array(SESSIONS).fill('ok'));
    // Exactly once: every batch key once, every (session, core metric) once.
    expect(new Set(batches.map((b) => `${String(b.agentId)}/${String(b.seq)}`)).size).toBe(batches.length);
    const core = samples.filter((s) => (coreMetrics('chat-load') as string[]).includes(String(s.metric)));
    expect(core).toHaveLength(SESSIONS * coreMetrics('chat-load').length);
    expect(new Set(core.map((s) => `${String(s.sessionId)}/${String(s.metric)}`)).size).toBe(core.length);
    // Closed: summary written, run.json passed, run-state closed.
    const run = JSON.parse(await readFile(join(out, RUN_ID, 'run.json'), 'utf8')) as { status: string; endedAt: string | null };
    expect(run.status).toBe('passed');
    expect(run.endedAt).not.toBeNull();
    expect((JSON.parse(await readFile(join(out, RUN_ID, 'summary.json'), 'utf8')) as { sessions: { ok: number } }).sessions.ok).toBe(SESSIONS);
    expect((JSON.parse(await readFile(join(out, RUN_ID, 'run-state.json'), 'utf8')) as { status: string }).status).toBe('closed');

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 120_000);
});
