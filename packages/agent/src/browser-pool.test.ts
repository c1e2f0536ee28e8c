import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ProbeError } from '@userprobe/shared';
import { BrowserPool, launchPlan } from './browser-pool.js';
import { DEFAULT_CHROMIUM_PATH, DEFAULT_SHELL_PATH } from './config.js';
import { captureLog } from '../test/log-capture.js';

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
    const session = () => pool.withSession('shell', async ({ visitor, agent }) => {
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
    await expect(pool.withSession('shell', async () => { throw new Error('scenario broke'); })).rejects.toThrow('scenario broke');
    expect(browser.browserContexts().length).toBe(before);
  });

  it('relaunches after the browser crashed', async () => {
    const browser = await pool.ensure('shell');
    const gone = once(browser, 'disconnected');
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
    const e = await missing.ensure('shell').then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(ProbeError);
    expect((e as ProbeError).code).toBe(ERROR_CODES.BROWSER_UNAVAILABLE);
    expect((e as ProbeError).message).toBe('cannot start the Chromium headless shell at /nonexistent/shell: no such file; install it with `apt-get install -y chromium chromium-headless-shell` or set CHROMIUM_SHELL_PATH (or --shell-path) to the binary');
    await expect(missing.ensure('chromium')).rejects.toThrow(/CHROMIUM_PATH \(or --browser-path\)/);
  });
});
