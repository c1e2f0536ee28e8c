import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCENARIO_OPTIONS } from './scenario-options.js';
import type { OptionSpec } from './option-spec.js';

/*
 * The README's CLI reference carries the scenario options as a table between
 * two markers. This test renders it from SCENARIO_OPTIONS and fails when the
 * README differs; run it with UPDATE_DOCS=1 to rewrite the table (the prose
 * around it is kept).
 */

const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));
const START =
  '<!-- scenario-options:start (generated from packages/shared/src/options/scenario-options.ts; UPDATE_DOCS=1 npx vitest run packages/shared/src/options/scenario-options-doc.test.ts) -->';
const END = '<!-- scenario-options:end -->';

/** A table cell: pipes escaped, one line, and `<out>` shown as text rather than taken for an HTML tag. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function renderTable(): string {
  const rows = Object.entries(SCENARIO_OPTIONS).map(
    ([key, s]: [string, OptionSpec<unknown>]) =>
      `| \`--${s.flag}\` | ${cell(s.help)} | ${cell(s.defaultText)} | ${cell(s.accepted)} | \`${s.example}\` | \`${key}\` |`,
  );
  return [
    START,
    '',
    '| flag | what it does | default | accepted | example | assignment field (`options.…`) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    END,
  ].join('\n');
}

describe('README.md CLI reference', () => {
  it('holds the scenario options table, every option with its default, accepted values and an example', () => {
    const text = readFileSync(README, 'utf8');
    const from = text.indexOf('<!-- scenario-options:start');
    const to = text.indexOf(END);
    expect(from, 'README.md has the scenario-options:start marker').toBeGreaterThanOrEqual(0);
    expect(to, 'README.md has the scenario-options:end marker').toBeGreaterThan(from);
    const current = text.slice(from, to + END.length);
    const expected = renderTable();
    if (current !== expected && process.env.UPDATE_DOCS === '1') {
      writeFileSync(README, text.slice(0, from) + expected + text.slice(to + END.length));
      return;
    }
    expect(current, 'README.md is out of date: run UPDATE_DOCS=1 npx vitest run packages/shared/src/options/scenario-options-doc.test.ts').toBe(expected);
    for (const s of Object.values(SCENARIO_OPTIONS)) expect(current).toContain(`| \`--${s.flag}\` |`);
  });
});
