import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MetricName } from '@userprobe/shared';

/*
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
const READY = 'USERPROBE_HARNESS_READY';
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

export interface HarnessSample {
  metric: MetricName;
  value: number;
  detail: string | null;
}
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
}
export interface HarnessSessionRequest {
  knobs?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

/** A harness running in its namespace: one session per call, in call order. */
export interface NetnsHarness {
  session(request: HarnessSessionRequest): Promise<HarnessRun>;
  /** Ends the harness (closes its stdin) and waits for it to exit. */
  close(): Promise<void>;
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

/**
 * Spawn the harness inside a fresh namespace; resolves once its browser is up
 * (and warmed). Sessions are then run one at a time with `session()`, so a
 * timing experiment can interleave them with anything else.
 */
export function startNetnsHarness(config: HarnessConfig, startTimeoutMs = 90_000): Promise<NetnsHarness> {
  const child = spawn('unshare', ['-n', '--', 'sh', '-c', `${SETUP} && exec node "$0"`, HARNESS], {
    cwd: ROOT,
    env: { ...process.env, USERPROBE_HARNESS: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  let buffered = '';
  const waiting: Array<{ resolve: (r: HarnessRun) => void; reject: (e: Error) => void }> = [];
  let ready: { resolve: () => void; reject: (e: Error) => void } | null = null;
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const failAll = (e: Error): void => {
    ready?.reject(e);
    for (const w of waiting.splice(0)) w.reject(e);
  };
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === READY) {
        ready?.resolve();
        ready = null;
      } else if (line.startsWith(MARKER)) waiting.shift()?.resolve(JSON.parse(line.slice(MARKER.length)) as HarnessRun);
    }
  });
  void exited.then((code) => failAll(new Error(`harness exited ${code ?? 'by signal'}; stderr: ${err.slice(-2000)}`)));
  const harness: NetnsHarness = {
    session: (request) =>
      new Promise<HarnessRun>((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(request)}\n`);
      }),
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise<NetnsHarness>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`harness not ready within ${startTimeoutMs} ms; stderr: ${err.slice(-2000)}`));
    }, startTimeoutMs);
    ready = {
      resolve: () => {
        clearTimeout(timer);
        resolve(harness);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
  });
}
