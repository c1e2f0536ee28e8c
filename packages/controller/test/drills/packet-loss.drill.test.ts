import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_PROFILES, coreMetrics } from '@userprobe/shared';
import { DEMO_AGENT_TRUST, agentToken, tempDir } from '../fixtures.js';
import { AGENT_CLI, startCli, startProcess, type Proc } from '../processes.js';
import { duplicates, runResults } from '../drill-kit.js';

/*
 * Drill: 20 % of the packets between agent and controller dropped, both ways.
 * The agent (and the demo target it measures) run in a network namespace this
 * test creates, joined to the host by a veth pair on a benchmarking address
 * (198.18.0.0/15, RFC 2544); nftables in the namespace drops a random 20 % of
 * what crosses the veth (the kernel here has no netem). The controller listens
 * on the host end. The run must end by itself with every session stored
 * exactly once.
 */

const DEMO_CLI = fileURLToPath(new URL('../../../demo-target/dist/cli.js', import.meta.url));
const TOKEN = 'loss-token';
const LOSS_PERCENT = 20;
const SESSIONS = 4;

function sh(cmd: string): { ok: boolean; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Why this drill cannot run here, or null. */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN)';
  if (!sh('command -v ip').ok) return 'iproute2 (ip) is not installed';
  if (!sh('command -v nft').ok) return 'nftables (nft) is not installed: scripts/test-services.sh installs it';
  return null;
}

const why = unavailable();

describe.skipIf(why !== null)(`drill: ${LOSS_PERCENT} % packet loss between agent and controller${why ? ` (skipped: ${why})` : ''}`, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('every session stored exactly once, the run ends by itself', async () => {
    const t = await tempDir('userprobe-drill-loss-');
    cleanups.push(t.cleanup);
    const id = randomBytes(3).toString('hex');
    const ns = `updrill-${id}`;
    const host = `uph-${id}`;
    const peer = `upn-${id}`;
    const [hostIp, nsIp] = ['198.18.7.1', '198.18.7.2'];
    cleanups.push(() => {
      sh(`ip link del ${host} 2>/dev/null; ip netns del ${ns} 2>/dev/null`);
    });
    for (const cmd of [
      `ip netns add ${ns}`,
      `ip link add ${host} type veth peer name ${peer} netns ${ns}`,
      `ip addr add ${hostIp}/30 dev ${host}`,
      `ip link set ${host} up`,
      `ip netns exec ${ns} ip link set lo up`,
      `ip netns exec ${ns} ip addr add ${nsIp}/30 dev ${peer}`,
      `ip netns exec ${ns} ip link set ${peer} up`,
      `ip netns exec ${ns} nft add table inet drill`,
      `ip netns exec ${ns} nft 'add chain inet drill in { type filter hook input priority 0; }'`,
      `ip netns exec ${ns} nft 'add chain inet drill out { type filter hook output priority 0; }'`,
      `ip netns exec ${ns} nft add rule inet drill in iifname ${peer} numgen random mod 100 '<' ${LOSS_PERCENT} counter drop`,
      `ip netns exec ${ns} nft add rule inet drill out oifname ${peer} numgen random mod 100 '<' ${LOSS_PERCENT} counter drop`,
    ]) {
      const r = sh(cmd);
      expect(r.ok, `${cmd}: ${r.out}`).toBe(true);
    }
    const procs: Proc[] = [];
    cleanups.push(async () => {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
    });
    const inNs = (script: string, args: string[], env: Record<string, string> = {}): Proc => {
      const p = startProcess('ip', ['netns', 'exec', ns, process.execPath, script, ...args], env);
      procs.push(p);
      return p;
    };

    // The demo target inside the namespace, on its loopback (only the agent's browser reaches it).
    const demo = inNs(DEMO_CLI, ['--site-port', '18080', '--app-port', '18081']);
    await demo.waitFor(/127\.0\.0\.2:18081/, 'stdout');
    const profile = join(t.dir, 'demo.yaml');
    await writeFile(
      profile,
      (await readFile(BUNDLED_PROFILES.demo!, 'utf8'))
        .replaceAll('${DEMO_SITE_URL}', 'http://127.0.0.1:18080')
        .replaceAll('${DEMO_APP_URL}', 'http://127.0.0.2:18081'),
    );

    // The controller on the host end of the veth; the agent in the namespace dials it across the lossy link.
    const out = join(t.dir, 'results');
    const ctl = startCli(
      [
        'run',
        '--scenario',
        'chat-load',
        '--total',
        String(SESSIONS),
        '--expect-agents',
        '1',
        '--ramp-up',
        '4s',
        '--host',
        hostIp,
        '--port',
        '0',
        '--target',
        profile,
        '--out',
        out,
        '--run-id',
        'lossy',
        '--json',
        '--loss-grace',
        '60s',
        '--allow-plain-http',
      ],
      { PROBE_TOKEN: TOKEN },
    ); // a private veth pair: plain HTTP by choice (the drill is about loss, not TLS)
    procs.push(ctl);
    const [, url] = await ctl.waitFor(/agents connect to (http:\/\/\S+)/);
    await mkdir(join(t.dir, 'spool'), { recursive: true });
    inNs(
      AGENT_CLI,
      [
        `--controller=${url!}`,
        '--id=lossy-agent',
        '--name=lossy-agent',
        `--spool=${join(t.dir, 'spool')}`,
        '--capacity=4',
        '--log-level=warn',
        '--allow-plain-http',
        ...DEMO_AGENT_TRUST,
      ],
      { PROBE_TOKEN: agentToken('lossy-agent', TOKEN) },
    );
    const code = await ctl.exited;
    const r = await runResults(out, 'lossy');
    expect(code, ctl.stderr().slice(-3000)).toBe(0);
    expect(r.sessions.map((s) => s.status)).toEqual(Array(SESSIONS).fill('ok'));
    expect(duplicates(r)).toEqual([]);
    expect(r.samples.filter((s) => (coreMetrics('chat-load') as string[]).includes(String(s.metric)))).toHaveLength(SESSIONS * coreMetrics('chat-load').length);
    // The loss was real: the rules' counters say how many packets they dropped.
    const dropped = [...sh(`ip netns exec ${ns} nft list ruleset`).out.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    console.info(
      `[figures] packet loss drill: ${SESSIONS} sessions over a ${LOSS_PERCENT} % lossy link, exit ${code}; packets dropped in / out: ${dropped.join(' / ')}`,
    );
  }, 240_000);
});
