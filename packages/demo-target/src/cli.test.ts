import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Runs the built CLI (the test command builds first: `npx tsc -b packages/demo-target`). */
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function run(args: string[]): { child: ReturnType<typeof spawn>; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

describe('demo-target CLI', () => {
  it('starts with knobs, prints the URLs, serves, and stops on SIGTERM', async () => {
    const p = run(['--site-port', '0', '--app-port', '0', '--latency', 'create=120', '--error', 'init=503', '--log-level', 'silent']);
    const app = await new Promise<string>((resolve, reject) => {
      p.child.stdout!.on('data', () => {
        const m = /DEMO_APP_URL=(\S+)/.exec(p.stdout());
        if (m) resolve(m[1]!);
      });
      void p.exit.then((code) => reject(new Error(`exited ${code}: ${p.stderr()}`)));
    });
    expect(p.stdout()).toMatch(/DEMO_SITE_URL=http:\/\/127\.0\.0\.1:\d+/);
    const knobs = (await (await fetch(`${app}/__knobs`)).json()) as { latency: { create: number }; errors: unknown };
    expect(knobs.latency.create).toBe(120);
    expect(knobs.errors).toEqual({ init: { status: 503, rate: 1 } });
    expect((await fetch(`${app}/api/widget/init`, { method: 'POST', body: '{}' })).status).toBe(503);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it('refuses a bad knob flag with exit 2 and says what is accepted', async () => {
    const p = run(['--latency', 'creat=1']);
    expect(await p.exit).toBe(2);
    expect(p.stderr()).toBe(
      'demo-target: --latency creat=1: latency: Unrecognized key: "creat"; names: page, widgetScript, init, create, addMessage, login, crmConnect, realtime, signaling, cobrowseScript, cobrowseEvents\n',
    );
  });
});
