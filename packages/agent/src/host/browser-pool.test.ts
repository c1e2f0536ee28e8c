import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import { BrowserPool, launchPlan } from './browser-pool.js';
import { staleProfileParents } from './profile-dirs.js';
import { DEFAULT_CHROMIUM_PATH, DEFAULT_SHELL_PATH } from '../config/config.js';
import { captureLog } from '../../test/log-capture.js';

const paths = { chromiumPath: DEFAULT_CHROMIUM_PATH, shellPath: DEFAULT_SHELL_PATH };

describe('launchPlan', () => {
  it('shell: the headless shell binary with headless "shell"', () => {
    const p = launchPlan('shell', paths);
    expect(p).toMatchObject({ executablePath: DEFAULT_SHELL_PATH, headless: 'shell' });
    expect(p.args).toContain('--no-sandbox');
    expect(p.args.join(' ')).not.toContain('WebUIOmniboxPopup');
  });
  it('chromium: the full binary, new headless, omnibox popup disabled', () => {
    const p = launchPlan('chromium', paths);
    expect(p).toMatchObject({ executablePath: DEFAULT_CHROMIUM_PATH, headless: true });
    expect(p.args).toContain('--disable-features=WebRtcHideLocalIpsWithMdns,WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup');
  });
  it.each(['shell', 'chromium'] as const)('%s: exactly one --disable-features (Chromium honours only the last), with mDNS candidates off', (kind) => {
    const flags = launchPlan(kind, paths).args.filter((a) => a.startsWith('--disable-features='));
    expect(flags).toHaveLength(1);
    expect(flags[0]).toContain('WebRtcHideLocalIpsWithMdns');
  });
  it('shell: site isolation forced, so the cross-site widget frame is its own target as in real Chrome', () => {
    expect(launchPlan('shell', paths).args).toContain('--site-per-process');
  });
});

describe('staleProfileParents', () => {
  it.each([
    [
      'only parents of agents that are gone',
      ['userprobe-agent-101', 'userprobe-agent-202', 'userprobe-agent-303'],
      ['userprobe-agent-101', 'userprobe-agent-303'],
    ],
    ['never its own', ['userprobe-agent-777'], []],
    ['nothing else in the folder', ['userprobe-chromium-abc', 'userprobe-agent-', 'userprobe-agent-12x', 'userprobe-agent-0', 'other'], []],
  ])('%s', (_n, names, want) => {
    expect(staleProfileParents(names, { self: 777, isAlive: (pid) => pid === 202 })).toEqual(want);
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('Chromium profile folders', () => {
  it('live under one folder per agent process; a start removes those of agents killed with SIGKILL; close removes its own', async () => {
    const root = await mkdtemp(join(tmpdir(), 'up-profiles-'));
    try {
      // what an agent killed with SIGKILL leaves behind (its Chromium exits with it: pipe transport)
      const dead = join(root, `userprobe-agent-${await deadPid()}`);
      await mkdir(join(dead, 'chromium-x1', 'Default'), { recursive: true });
      await writeFile(join(dead, 'chromium-x1', 'Default', 'Preferences'), '{}');
      // a live agent's folder stays (this test process stands in for it)
      const live = join(root, `userprobe-agent-${process.ppid}`);
      await mkdir(live);
      const { log, lines } = captureLog();
      const p = new BrowserPool({ paths, log, profileRoot: root });
      await p.ensure('shell');
      const mine = `userprobe-agent-${process.pid}`;
      expect((await readdir(root)).sort()).toEqual([mine, `userprobe-agent-${process.ppid}`].sort());
      expect((await readdir(join(root, mine))).map((f) => f.replace(/-\w+$/, '-*'))).toEqual(['chromium-*']);
      expect(lines.find((l) => l['msg'] === 'removed Chromium profile folders of agents that are gone')).toMatchObject({ removed: [dead] });
      await p.close();
      expect(await readdir(root)).toEqual([`userprobe-agent-${process.ppid}`]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('BrowserPool on real Chromium', () => {
  let site: Server;
  let url: string;
  const pool = new BrowserPool({ paths, log: captureLog().log });

  beforeAll(async () => {
    // sets a cookie when the request carries none, and echoes the cookie header
    site = createServer((req, res) => {
      const cookie = req.headers.cookie ?? '';
      const headers: Record<string, string> = { 'content-type': 'text/html' };
      if (!cookie) headers['set-cookie'] = `sid=${Math.random().toString(36).slice(2)}; Path=/`;
      res.writeHead(200, headers).end(`<!doctype html><pre id="c">${cookie}</pre>`);
    });
    site.listen(0, '127.0.0.1');
    await once(site, 'listening');
    url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await pool.close();
    site.close();
  });

  it('one browser; every page of every session in its own context (no shared cookies); contexts closed afterwards', async () => {
    await pool.ensure('shell');
    const browser = pool.browser!;
    const before = browser.browserContexts().length;
    const seen: string[] = [];
    let inside = 0;
    const session = () =>
      pool.withSession('shell', async ({ visitor, agent }) => {
        inside = Math.max(inside, browser.browserContexts().length);
        await visitor.goto(url);
        await visitor.goto(url); // second load carries the cookie set by the first
        seen.push(await visitor.$eval('#c', (e) => e.textContent ?? ''));
        await agent.goto(url);
        seen.push(await agent.$eval('#c', (e) => e.textContent ?? '')); // agent context: no visitor cookie
        expect(visitor.browserContext()).not.toBe(agent.browserContext());
      });
    await Promise.all([session(), session()]);
    expect(pool.browser).toBe(browser);
    expect(pool.launches).toBe(1);
    const visitorCookies = seen.filter((c) => c.startsWith('sid='));
    expect(visitorCookies).toHaveLength(2);
    expect(new Set(visitorCookies).size).toBe(2); // each session had its own cookie jar
    expect(seen.filter((c) => c === '')).toHaveLength(2);
    expect(inside).toBeGreaterThanOrEqual(before + 2);
    expect(browser.browserContexts().length).toBe(before);
  });

  it('closes the contexts when the session throws', async () => {
    const browser = await pool.ensure('shell');
    const before = browser.browserContexts().length;
    await expect(
      pool.withSession('shell', async () => {
        throw new Error('scenario broke');
      }),
    ).rejects.toThrow('scenario broke');
    expect(browser.browserContexts().length).toBe(before);
  });

  it('relaunches after the browser crashed', async () => {
    const browser = await pool.ensure('shell');
    const gone = new Promise<void>((resolve) => browser.once('disconnected', () => resolve()));
    browser.process()!.kill('SIGKILL');
    await gone;
    const title = await pool.withSession('shell', async ({ visitor }) => {
      await visitor.goto('data:text/html,<title>back</title>');
      return visitor.title();
    });
    expect(title).toBe('back');
    expect(pool.launches).toBe(2);
    expect(pool.browser).not.toBe(browser);
  });

  it('a missing binary is a clear BROWSER_UNAVAILABLE naming the setting and the apt package', async () => {
    const missing = new BrowserPool({ paths: { chromiumPath: '/nonexistent/chromium', shellPath: '/nonexistent/shell' }, log: captureLog().log });
    const e = await missing.ensure('shell').then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ProbeError);
    expect((e as ProbeError).code).toBe(ERROR_CODES.BROWSER_UNAVAILABLE);
    expect((e as ProbeError).message).toBe(
      'cannot start the Chromium headless shell at /nonexistent/shell: no such file; install it with `apt-get install -y chromium chromium-headless-shell` or set CHROMIUM_SHELL_PATH (or --shell-path) to the binary',
    );
    await expect(missing.ensure('chromium')).rejects.toThrow(/CHROMIUM_PATH \(or --browser-path\)/);
  });
});
