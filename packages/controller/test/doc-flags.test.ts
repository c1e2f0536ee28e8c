import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AGENT_CLI, CONTROLLER_CLI } from './processes.js';

/*
 * Docs say what the code does: every `--flag` the README, docs/, deploy/README.md, the
 * packages' READMEs, the shared limits, the CLIs' sources and their --help mention is a flag
 * one of our CLIs defines (controller commands, agent, demo target), or the `--no-` form of
 * one, or a flag of another program named below. A renamed or removed flag left in a doc,
 * an example or an error message fails here.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO_CLI = fileURLToPath(new URL('../../demo-target/dist/cli.js', import.meta.url));

/** Flags of other programs that our docs and sources quote, with the program. */
const OTHER_PROGRAMS: Readonly<Record<string, string>> = {
  cacert: 'curl',
  cert: 'kubectl create secret tls',
  key: 'kubectl create secret tls',
  'from-env-file': 'kubectl create secret',
  'from-file': 'kubectl create configmap',
  'from-literal': 'kubectl create secret',
  replicas: 'kubectl scale',
  home: 'useradd',
  system: 'useradd',
  now: 'systemctl enable',
  rm: 'docker run',
  silent: 'pnpm run',
  filter: 'pnpm',
  'no-sandbox': 'Chromium',
  'disable-features': 'Chromium',
  'site-per-process': 'Chromium',
  'use-fake-device-for-media-stream': 'Chromium',
  'use-fake-ui-for-media-stream': 'Chromium',
  'allow-loopback-in-peer-connection': 'Chromium',
  'disable-background-networking': 'Chromium',
  'disable-component-update': 'Chromium',
  'disable-dev-shm-usage': 'Chromium',
  'disable-gpu': 'Chromium',
  'disable-quic': 'Chromium',
  'disable-sync': 'Chromium',
  'no-first-run': 'Chromium',
  // Placeholders in the templates that write help and errors for any option (options/option-spec.ts, cli.ts).
  flag: 'a placeholder',
  'no-': 'the prefix of a negated boolean flag',
  'no-flag': 'a placeholder',
  'no-x': 'a placeholder',
};

function help(cli: string, args: readonly string[]): string {
  return execFileSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, PROBE_TOKEN: '' } });
}

/** The flags a yargs --help page defines (its option lines), not the ones its texts mention. */
function definedFlags(page: string): string[] {
  return [...page.matchAll(/^\s+(?:-\w, )?--([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!);
}

function mentions(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
}

function gitFiles(...patterns: string[]): string[] {
  return execFileSync('git', ['ls-files', ...patterns], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('flags in docs, help and messages', () => {
  const top = help(CONTROLLER_CLI, []);
  const commands = [...top.matchAll(/^\s+controller ([a-z-]+)/gm)].map((m) => m[1]!);
  const pages: [string, string][] = [
    ['controller --help', top],
    ...commands.map((c): [string, string] => [`controller ${c} --help`, help(CONTROLLER_CLI, [c])]),
    ['agent --help', help(AGENT_CLI, [])],
    ['demo-target --help', help(DEMO_CLI, [])],
  ];
  const real = new Set(pages.flatMap(([, page]) => definedFlags(page)));

  const known = (flag: string): boolean =>
    real.has(flag) ||
    (flag.startsWith('no-') && real.has(flag.slice(3))) ||
    flag in OTHER_PROGRAMS ||
    // A family written as a prefix: `--tls-*`, `--demo-` flags.
    (flag.endsWith('-') && [...real].some((r) => r.startsWith(flag)));

  it('reads the flags of every command', () => {
    expect(commands).toEqual(expect.arrayContaining(['run', 'serve', 'reconcile', 'migrate', 'retention']));
    for (const f of ['total', 'target', 'controller', 'capacity', 'latency', 'raw-days', 'tls-cert']) expect(real).toContain(f);
  });

  it("every flag mentioned is one of ours or named as another program's", () => {
    const docs = gitFiles('README.md', 'docs/*.md', 'deploy/README.md', 'packages/*/README.md', 'packages/shared/src/limits.ts');
    const sources = gitFiles('packages/*/src/*.ts', 'packages/*/src/**/*.ts').filter((f) => !f.includes('.test.'));
    const texts: [string, string][] = [...[...docs, ...sources].map((f): [string, string] => [f, readFileSync(`${ROOT}${f}`, 'utf8')]), ...pages];
    const unknown = texts.flatMap(([where, text]) =>
      mentions(text)
        .filter((f) => !known(f))
        .map((f) => `--${f} in ${where}`),
    );
    expect([...new Set(unknown)], `flags no CLI defines (the CLIs define: ${[...real].sort().join(' ')})`).toEqual([]);
  });
});
