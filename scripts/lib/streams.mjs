// Runs commands side by side, each output line prefixed with the stream's name, and resolves
// with every stream's outcome. Used by scripts/suite.mjs and scripts/drills.mjs.
//
// Each stream runs in a process group (and session) of its own, so it can be stopped whole:
// a shell's children, vitest's workers, the controllers and agents a test started. (Puppeteer
// starts each Chromium in a session of its own and closes it when its owner exits.)
// - SIGINT, SIGTERM and SIGHUP stop every running stream: its group gets the same signal, and
//   SIGKILL if it is still there 10 s later or on a second signal. `interrupted()` then says
//   so, and the caller exits with 128 + the signal.
// - When a stream's command exits, whatever it left running in its group gets SIGKILL, so
//   nothing from one phase runs on into the next (the timing experiments run alone).
// Not covered: this process killed by SIGKILL leaves the groups running until they end.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { constants } from 'node:os';

/** @typedef {{ name: string, command: string, args: string[] }} Stream */
/** @typedef {{ name: string, code: number, signal: NodeJS.Signals | null, seconds: number, cpuSeconds: number | null }} Outcome */

// Each command runs under a shell that, when it ends, writes the CPU time (user + system) of the
// processes it waited for — the command and every descendant reaped below it (vitest's workers,
// the Chromium and CLI processes a test closed) — to fd 3: `times` prints the shell's own line,
// then its children's. What a stream leaves running is killed unreaped, so it is not counted.
const WRAP = '"$0" "$@"; rc=$?; times >&3; exit $rc';

/** @param {string} text what `times` printed @returns {number | null} the children's user + system seconds */
export function childrenCpuSeconds(text) {
  const line = text.trim().split('\n')[1];
  const parts = line?.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
  if (!parts) return null;
  const [, um, us, sm, ss] = parts.map(Number);
  return um * 60 + us + sm * 60 + ss;
}

/** After a child exits, how long its output may still drain (a leaked grandchild holding the pipe must not hang the suite). */
const DRAIN_MS = 5_000;
/** After a stopping signal, how long the streams get to end before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();
/** @type {NodeJS.Signals | null} */
let stoppedBy = null;

/** @param {number | undefined} pid a group leader's pid @param {NodeJS.Signals} signal */
function signalGroup(pid, signal) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(signal, () => {
    const again = stoppedBy !== null;
    stoppedBy ??= signal;
    for (const child of running) signalGroup(child.pid, again ? 'SIGKILL' : signal);
    if (!again) setTimeout(() => running.forEach((child) => signalGroup(child.pid, 'SIGKILL')), STOP_GRACE_MS).unref();
  });
}

/** @returns {number | null} the exit code for the signal that stopped the streams (128 + its number), or null */
export const interrupted = () => (stoppedBy === null ? null : 128 + constants.signals[stoppedBy]);

/** @param {Stream} stream @returns {Promise<Outcome>} */
function runOne({ name, command, args }) {
  const started = Date.now();
  const child = spawn('sh', ['-c', WRAP, command, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let times = '';
  const fd3 = /** @type {import('node:stream').Readable} */ (child.stdio[3]);
  fd3.on('data', (b) => (times += String(b)));
  const drained = [new Promise((resolve) => fd3.once('close', resolve))];
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    const lines = createInterface({ input: from });
    lines.on('line', (line) => to.write(`[${name}] ${line}\n`));
    drained.push(new Promise((resolve) => lines.once('close', resolve)));
  }
  return new Promise((resolve) => {
    const done = (code, signal) => {
      running.delete(child);
      resolve({ name, code, signal, seconds: (Date.now() - started) / 1000, cpuSeconds: childrenCpuSeconds(times) });
    };
    child.once('error', (e) => {
      process.stderr.write(`[${name}] could not run ${command}: ${e.message}\n`);
      done(127, null);
    });
    child.once('exit', (code, signal) => {
      signalGroup(child.pid, 'SIGKILL'); // what it left behind
      let timer;
      const outcome = () => {
        clearTimeout(timer);
        done(code ?? 1, signal);
      };
      Promise.race([Promise.all(drained), new Promise((r) => (timer = setTimeout(r, DRAIN_MS)))]).then(outcome, outcome);
    });
  });
}

/** @param {Stream[]} streams @returns {Promise<Outcome[]>} every stream's outcome; none started once interrupted */
export async function runSideBySide(streams) {
  if (stoppedBy !== null) return [];
  return Promise.all(streams.map(runOne));
}

/** @param {string} label @param {Outcome[]} outcomes @returns {boolean} every stream passed */
export function report(label, outcomes) {
  for (const o of outcomes)
    process.stdout.write(
      `[${label}] ${o.name}: ${o.code === 0 ? 'passed' : `failed (exit ${o.code}${o.signal ? `, ${o.signal}` : ''})`} in ${o.seconds.toFixed(0)} s${o.cpuSeconds === null ? '' : ` (${o.cpuSeconds.toFixed(0)} CPU-s)`}\n`,
    );
  return outcomes.every((o) => o.code === 0);
}

// The fault drills' projects (vitest.drills.config.ts), one vitest process each: a vitest
// process runs its projects one after the other, and these mostly wait (on a monitor's
// interval grid, on a paused MySQL), so side by side they cost the wall time of the longest.
const DRILL_PROJECTS = ['drills', 'drills-monitor', 'drills-waiting'];

/** @param {string[]} extra arguments for every vitest process (a file filter, --reporter verbose) @returns {Stream[]} */
export const drillStreams = (extra = []) =>
  DRILL_PROJECTS.map((project) => ({
    name: project,
    command: 'npx',
    args: ['vitest', 'run', '-c', 'vitest.drills.config.ts', '--project', project, '--passWithNoTests', ...extra],
  }));
