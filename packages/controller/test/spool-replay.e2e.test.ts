import { describe, it, expect, afterEach } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { coreMetrics } from '@userprobe/shared';
import { startDemoTarget, DEMO_PROFILE_PATH, type DemoTarget } from '@userprobe/demo-target';
import { tempDir } from './fixtures.js';
import { AGENT_CLI, startCli, startNode, type Proc } from './processes.js';

/**
 * Nothing lost, nothing twice, across a controller crash — with the real parts:
 * a real agent process running real Chromium sessions against the demo target,
 * a real controller killed with SIGKILL right after it assigned the run (before
 * it could ack any batch), and a new controller (`serve`) on the same port and
 * results folder. The agent finishes its sessions while the controller is gone,
 * keeps every batch in its spool, and delivers each exactly once to the new one.
 */

const TOKEN = 'replay-test-token';
const RUN_ID = 'replay-run';
const SESSIONS = 2;

async function lines(file: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
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
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });
  const track = (p: Proc) => { cleanups.push(() => { if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL'); }); return p; };

  it('the agent keeps its batches in the spool and a new controller stores each once', async () => {
    const tmp = await tempDir('userprobe-replay-');
    cleanups.push(tmp.cleanup);
    // Slow realtime so the sessions are still running when the controller dies.
    const demo: DemoTarget = await startDemoTarget({ knobs: { latency: { realtime: 300 } } });
    cleanups.push(() => demo.close());
    const profilePath = join(tmp.dir, 'demo.yaml');
    const yaml = (await readFile(DEMO_PROFILE_PATH, 'utf8'))
      .replaceAll('${DEMO_SITE_URL}', demo.siteUrl).replaceAll('${DEMO_APP_URL}', demo.appUrl);
    await writeFile(profilePath, yaml);
    const out = join(tmp.dir, 'results');
    const spoolRoot = join(tmp.dir, 'spool');
    const runSpool = join(spoolRoot, 'agent-r', RUN_ID);

    const first = track(startCli(['run', '--scenario', 'chat-load', '--total', String(SESSIONS), '--expect-agents', '1',
      '--ramp-up', '0', '--port', '0', '--host', '127.0.0.1', '--out', out, '--target', profilePath, '--run-id', RUN_ID], { PROBE_TOKEN: TOKEN }));
    const [, url] = await first.waitFor(/agents connect to (http:\/\/\S+)/);

    const agent = track(startNode(AGENT_CLI, [`--controller=${url!}`, '--id=agent-r', '--name=agent-r', `--spool=${spoolRoot}`,
      '--capacity=2', '--log-level=info'], { PROBE_TOKEN: TOKEN }));

    // The assignment is out; sessions start START_LEAD_MS later, so no batch can have been sent yet.
    await first.waitFor(/assigned; sessions start at/);
    first.child.kill('SIGKILL');
    await first.exited;

    // The agent runs its sessions with no controller and keeps every batch.
    await agent.waitFor(/run finished on this agent/);
    const kept = await spooled(runSpool);
    expect(kept.length).toBeGreaterThan(0);
    expect(await lines(join(out, RUN_ID, 'samples.jsonl'))).toHaveLength(0);

    // A new controller on the same port and folder: the agent reconnects and replays.
    const port = new URL(url!).port;
    const second = track(startCli(['serve', '--port', port, '--host', '127.0.0.1', '--out', out], { PROBE_TOKEN: TOKEN }));
    await second.waitFor(/controller listening on/, 'stdout');
    await until('the spool to drain', async () => (await spooled(runSpool)).length === 0);

    const samples = await lines(join(out, RUN_ID, 'samples.jsonl'));
    const sessions = await lines(join(out, RUN_ID, 'sessions.jsonl'));
    const batches = await lines(join(out, RUN_ID, 'batches.jsonl'));
    expect(sessions.map((s) => s.status)).toEqual(Array(SESSIONS).fill('ok'));
    // Exactly once: every batch key once, every (session, core metric) once.
    expect(new Set(batches.map((b) => `${String(b.agentId)}/${String(b.seq)}`)).size).toBe(batches.length);
    expect(batches).toHaveLength(kept.length);
    const core = samples.filter((s) => (coreMetrics('chat-load') as string[]).includes(String(s.metric)));
    expect(core).toHaveLength(SESSIONS * coreMetrics('chat-load').length);
    expect(new Set(core.map((s) => `${String(s.sessionId)}/${String(s.metric)}`)).size).toBe(core.length);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  }, 120_000);
});
