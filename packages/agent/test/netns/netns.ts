import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MetricName } from '@userprobe/shared';

/**
 * Run the harness (harness.mjs) in a network namespace of its own, so WebRTC
 * test traffic cannot leave the machine: `unshare -n` (needs root), then
 * loopback up, plus a veth pair whose BOTH ends stay inside the namespace with
 * a benchmarking address (198.18.0.1/24, RFC 2544) and a default route on it.
 * Why the veth: Chromium never gathers ICE candidates on `lo`, and gathers none
 * at all without a default route (measured with Chromium 156); the namespace
 * has no interface connected to the host, so nothing can leave it.
 * The demo target, Chromium and the scenario all run inside.
 */

const HARNESS = fileURLToPath(new URL('./harness.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MARKER = 'USERPROBE_HARNESS_RESULT ';
/** Address of the namespace-internal interface (RFC 2544 benchmarking range). */
export const NETNS_ADDRESS = '198.18.0.1';
const SETUP = [
  'ip link set lo up',
  'ip link add up0 type veth peer name up1',
  `ip addr add ${NETNS_ADDRESS}/24 dev up0`,
  'ip link set up0 up',
  'ip link set up1 up',
  'ip route add default dev up0',
].join(' && ');

export interface HarnessSample { metric: MetricName; value: number; detail: string | null }
export interface HarnessRun {
  samples: HarnessSample[];
  notes: Array<{ message: string; data: Record<string, unknown> | null }>;
  failure: { step: string | null; code: string; message: string } | null;
}
export interface HarnessConfig {
  scenario: string;
  browser?: 'shell' | 'chromium';
  warmup?: boolean;
  options?: Record<string, unknown>;
  runs: Array<{ knobs?: Record<string, unknown>; options?: Record<string, unknown> }>;
}

/** Why the namespace harness cannot run here, or null when it can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (unshare -n needs CAP_SYS_ADMIN)';
  for (const bin of ['unshare', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed`;
  }
  const probe = spawnSync('unshare', ['-n', '--', 'sh', '-c', SETUP]);
  if (probe.status !== 0) return `cannot set up a network namespace: ${probe.stderr.toString().trim()}`;
  for (const dist of ['packages/agent/dist/scenarios/index.js', 'packages/demo-target/dist/index.js']) {
    if (!existsSync(`${ROOT}${dist}`)) return `${dist} is missing: build first (npx tsc -b packages/demo-target packages/agent)`;
  }
  return null;
}

/** Spawn the harness inside a fresh namespace and return its parsed result. */
export function runInNetns(config: HarnessConfig, timeoutMs: number): Promise<HarnessRun[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '--', 'sh', '-c', `${SETUP} && exec node "$0"`, HARNESS], {
      cwd: ROOT,
      env: { ...process.env, USERPROBE_HARNESS: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(MARKER));
      if (code !== 0 || !line) {
        reject(new Error(`harness exited ${code ?? 'by signal'} without a result; stderr: ${err.slice(-2000)}`));
        return;
      }
      resolve((JSON.parse(line.slice(MARKER.length)) as { runs: HarnessRun[] }).runs);
    });
  });
}
