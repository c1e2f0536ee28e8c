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
/** @typedef {{ name: string, code: number, signal: NodeJS.Signals | null, seconds: number }} Outcome */

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
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  const drained = [];
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
      resolve({ name, code, signal, seconds: (Date.now() - started) / 1000 });
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
      `[${label}] ${o.name}: ${o.code === 0 ? 'passed' : `failed (exit ${o.code}${o.signal ? `, ${o.signal}` : ''})`} in ${o.seconds.toFixed(0)} s\n`,
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
