import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLED_PROFILES } from '@userprobe/shared';
import { startDemoTarget, type DemoTarget, type KnobsPatch } from '@userprobe/demo-target';
import { AGENT_CLI, startCli, startNode, type Proc } from './processes.js';
import { DEMO_AGENT_TRUST, agentToken } from './fixtures.js';
import type { RunStateFile } from '../src/run/run-state-schema.js';

/*
 * What the fleet drills share: the demo target on loopback with a profile file
 * for it, external agents as real processes (`agent` CLI, real Chromium), the
 * controller CLI, and readers for what a run left in its results folder.
 */

export interface Drill {
  readonly dir: string;
  readonly demo: DemoTarget;
  readonly profile: string;
  readonly out: string;
  /** Kill every process the drill started (SIGKILL) and stop the demo. */
  cleanup(): Promise<void>;
  /** A process the cleanup kills. */
  track(p: Proc): Proc;
  /**
   * An external agent with its own spool under the drill's folder (named after the agent unless `spool` says),
   * its own token (derived from the controller's master `token`), and the demo's hosts and credential variables allowed.
   */
  agent(url: string, id: string, token: string, extra?: readonly string[], spool?: string): Proc;
  /** `controller run` against the drill's demo profile. */
  run(args: readonly string[], token: string): Proc;
}

export async function startDrill(dir: string, knobs: KnobsPatch = {}): Promise<Drill> {
  const demo = await startDemoTarget({ knobs });
  const profile = join(dir, 'demo.yaml');
  const yaml = (await readFile(BUNDLED_PROFILES.demo!, 'utf8')).replaceAll('${DEMO_SITE_URL}', demo.siteUrl).replaceAll('${DEMO_APP_URL}', demo.appUrl);
  await writeFile(profile, yaml);
  const procs: Proc[] = [];
  const track = (p: Proc): Proc => {
    procs.push(p);
    return p;
  };
  return {
    dir,
    demo,
    profile,
    out: join(dir, 'results'),
    track,
    async cleanup() {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
      await demo.close();
    },
    agent(url, id, token, extra = [], spool = id) {
      return track(
        startNode(
          AGENT_CLI,
          [`--controller=${url}`, `--id=${id}`, `--name=${id}`, `--spool=${join(dir, 'spool', spool)}`, '--log-level=info', ...DEMO_AGENT_TRUST, ...extra],
          { PROBE_TOKEN: agentToken(id, token) },
        ),
      );
    },
    run(args, token) {
      return track(startCli(['run', '--target', profile, '--out', join(dir, 'results'), '--host', '127.0.0.1', ...args], { PROBE_TOKEN: token }));
    },
  };
}

export async function jsonl(file: string): Promise<Record<string, unknown>[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** What a run left: its records, samples, batch keys, run-state and summary. */
export async function runResults(out: string, runId: string) {
  const dir = join(out, runId);
  const read = async <T>(name: string): Promise<T | null> => (existsSync(join(dir, name)) ? (JSON.parse(await readFile(join(dir, name), 'utf8')) as T) : null);
  return {
    sessions: await jsonl(join(dir, 'sessions.jsonl')),
    samples: await jsonl(join(dir, 'samples.jsonl')),
    batches: await jsonl(join(dir, 'batches.jsonl')),
    state: await read<RunStateFile>('run-state.json'),
    summary: await read<{ sessions: Record<string, number>; partial: { sessions: number; samples: number }; gapIds: { lost: string[]; notRun: string[] } }>(
      'summary.json',
    ),
    run: await read<{ status: string; endedAt: string | null }>('run.json'),
  };
}

/** Every (agent, seq) once, every (session, metric, detail) once: nothing stored twice. */
export function duplicates(r: Awaited<ReturnType<typeof runResults>>): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const b of r.batches) {
    const k = `batch ${String(b.agentId)}/${String(b.seq)}`;
    if (seen.has(k)) dup.push(k);
    seen.add(k);
  }
  for (const s of r.samples) {
    const k = `sample ${String(s.sessionId)}/${String(s.metric)}/${typeof s.detail === 'string' ? s.detail : ''}`;
    if (seen.has(k)) dup.push(k);
    seen.add(k);
  }
  return dup;
}
