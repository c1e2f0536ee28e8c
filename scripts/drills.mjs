#!/usr/bin/env node
// Runs the fault drills (vitest.drills.config.ts): the "drills" project and the
// "drills-waiting" project (the MySQL pause, 150 s of waiting) as two vitest processes side by
// side, each line prefixed with its project; exits non-zero when either fails.
// Extra arguments go to both (e.g. a file filter, --reporter verbose).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const PROJECTS = ['drills', 'drills-waiting'];
const extra = process.argv.slice(2);

function run(project) {
  const child = spawn('npx', ['vitest', 'run', '-c', 'vitest.drills.config.ts', '--project', project, '--passWithNoTests', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    createInterface({ input: stream }).on('line', (line) => out.write(`[${project}] ${line}\n`));
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ project, code: code ?? (signal ? 1 : 0), signal })));
}

const forward = (signal) => process.on(signal, () => {}); // children share the process group and get the signal themselves
forward('SIGINT');
forward('SIGTERM');

const results = await Promise.all(PROJECTS.map(run));
for (const r of results)
  process.stdout.write(`[drills] ${r.project}: ${r.code === 0 ? 'passed' : `failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''})`}\n`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
