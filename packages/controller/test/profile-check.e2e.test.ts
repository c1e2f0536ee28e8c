import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLED_PROFILES } from '@userprobe/shared';
import { startDemoTarget } from '@userprobe/demo-target';
import { tempDir } from './fixtures.js';
import { startCli } from './processes.js';

/*
 * `controller profile check` on real parts: the controller hands the profile to a real agent
 * process (Chromium headless shell), which runs one chat-load session of it against the demo
 * target and reports it step by step. A working profile exits 0 with every step ok; a profile
 * broken on both sides (the widget's usable selector and the console's ready selector) exits 1
 * naming both fields and selectors in one pass, with what it never reached.
 */
describe('controller profile check (real agent, Chromium, demo target)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a bundled demo shape: every step ok, exit 0', async () => {
    const p = startCli(['profile', 'check', 'demo-nickname', '--step-timeout', '20s']);
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    const code = await p.exited;
    const out = p.stdout();
    process.stdout.write(`[figures] profile check demo-nickname:\n${out}`);
    expect(code, p.stderr()).toBe(0);
    expect(out).toMatch(/^profile "demo-nickname": one chat-load session, step by step/m);
    for (const step of ['page_load', 'widget_load', 'agent_console', 'open_chat', 'msg_visitor_to_agent', 'msg_agent_to_visitor'])
      expect(out).toMatch(new RegExp(`^ {2}ok {6}${step} \\(\\d+ ms\\)$`, 'm'));
    expect(out).toContain("press agent.login.submitKey 'Enter' in agent.login.fields.0.input '#login-nick'");
    expect(out).toMatch(/the profile works: every step passed\n$/);
  }, 120_000);

  it('a profile broken on both sides: both failures named with field and selector in one pass, exit 1', async () => {
    const demo = await startDemoTarget({});
    cleanups.push(() => demo.close());
    const tmp = await tempDir('userprobe-profile-check-');
    cleanups.push(tmp.cleanup);
    const broken = (await readFile(BUNDLED_PROFILES.demo!, 'utf8'))
      .replace(`usable: { selector: '#up-launcher[data-ready="true"]' }`, `usable: { selector: '#up-launcher[data-ready="yes"]' }`)
      .replace("ready: '#console-ready'", "ready: '#console-is-ready'");
    const file = join(tmp.dir, 'broken.yaml');
    await writeFile(file, broken);
    const p = startCli([
      'profile',
      'check',
      file,
      '--step-timeout',
      '3s',
      '--profile-var',
      `DEMO_SITE_URL=${demo.vars['DEMO_SITE_URL']}`,
      '--profile-var',
      `DEMO_APP_URL=${demo.vars['DEMO_APP_URL']}`,
    ]);
    cleanups.push(() => {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
    const code = await p.exited;
    const out = p.stdout();
    process.stdout.write(`[figures] profile check of a broken profile:\n${out}`);
    expect(code, p.stderr()).toBe(1);
    expect(out).toMatch(/^ {2}ok {6}page_load/m);
    expect(out).toMatch(/^ {2}FAILED {2}widget_load \(\d+ ms\)$/m);
    expect(out).toContain(`✗ wait for visitor.widget.usable {"selector":"#up-launcher[data-ready=\\"yes\\"]"}`);
    // the console is opened and checked although the visitor side failed first
    expect(out).toMatch(/^ {2}FAILED {2}agent_console \(\d+ ms\)$/m);
    expect(out).toContain("✗ wait for agent.ready '#console-is-ready'");
    expect(out).toContain("fill agent.login.usernameInput '#login-user'");
    expect(out).toMatch(/not reached \(after the failure; check them once it is fixed\): visitor\.widget\.open, .*visitor\.widget\.messageInput/);
    expect(out).toMatch(/2 step\(s\) failed: widget_load, agent_console; fix the field each names/);
  }, 120_000);
});
