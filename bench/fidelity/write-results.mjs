#!/usr/bin/env node
// Writes bench/fidelity/results.md: the method and findings (below) around the
// tables that run.mjs generated into table.md and drift.md. Run after run.mjs.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const generated = async (name) =>
  (await readFile(join(HERE, name), 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => !l.startsWith('<!--'))
    .join('\n')
    .trim();
const table = await generated('table.md');
const drift = await generated('drift.md');
const cpu = await generated('cpu.md');
const notes = await readFile(join(HERE, 'notes.md'), 'utf8');
await writeFile(join(HERE, 'results.md'), notes.replace('{{TABLE}}', table).replace('{{DRIFT}}', drift).replace('{{CPU}}', cpu));
process.stdout.write('bench/fidelity/results.md written\n');
