import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoTarget, type DemoTarget } from '../index.js';

/*
 * Cobrowse in real Chromium (headless shell): the visitor loads the script on
 * request, the agent starts a session from the chat, the mirror renders the
 * visitor's page and follows its changes; a click in the mirror highlights the
 * element on the visitor's page and the agent can scroll it.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/lib/chromium/chromium-headless-shell';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage', '--site-per-process'];
const WAIT = { timeout: 15_000 };

let target: DemoTarget;
let browser: Browser;
let userDataDir: string;

beforeAll(async () => {
  target = await startDemoTarget();
  userDataDir = await mkdtemp(join(tmpdir(), 'demo-cobrowse-'));
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: 'shell', pipe: true, args: FLAGS, userDataDir });
});
afterAll(async () => {
  await browser?.close();
  await rm(userDataDir, { recursive: true, force: true });
  await target?.close();
});

const mirrorHas = (agent: Page, fn: string): Promise<unknown> =>
  agent.waitForFunction(`(() => { const d = document.querySelector('#cobrowse-mirror').contentDocument; return ${fn}; })()`, WAIT);

describe('cobrowse in the browser', () => {
  it('mirrors the visitor page live; the agent highlights and scrolls it', async () => {
    const visitor = await (await browser.createBrowserContext()).newPage();
    const agent = await (await browser.createBrowserContext()).newPage();
    await visitor.goto(`${target.siteUrl}/`);
    const frame = await (await visitor.waitForSelector('iframe#up-widget-frame'))!.contentFrame();
    await frame.locator('#up-launcher[data-ready="true"]').setTimeout(WAIT.timeout).wait();
    await frame.locator('#up-launcher').click();
    await frame.locator('#up-name').fill('cobrowse-visitor');
    await frame.locator('#up-start').click();
    await frame.locator('#up-input').wait();
    await visitor.locator('#cobrowse-load').click();

    await agent.goto(`${target.appUrl}/console/`);
    await agent.locator('#login-user').fill('agent');
    await agent.locator('#login-pass').fill('demo');
    await agent.locator('#login-submit').click();
    await agent.locator('.chat-item').click();
    await agent.waitForSelector('#cobrowse-start:not([disabled])', WAIT);
    await agent.click('#cobrowse-start');

    await visitor.waitForSelector('#cobrowse-indicator', { ...WAIT, visible: true });
    await mirrorHas(agent, `d.querySelector('html[data-up-mirror="ready"] #site-promo')`);
    // Scripts and the indicator stay out of the mirror; the widget frame is an empty box.
    expect(
      await agent.evaluate(() => {
        const d = (document.querySelector('#cobrowse-mirror') as HTMLIFrameElement).contentDocument!;
        return {
          scripts: d.querySelectorAll('script').length,
          indicator: d.querySelector('#cobrowse-indicator') !== null,
          frameSrc: d.querySelector('iframe')?.getAttribute('src') ?? null,
        };
      }),
    ).toEqual({ scripts: 0, indicator: false, frameSrc: null });

    await visitor.evaluate(() => {
      document.querySelector('#site-promo')!.textContent = 'live change 42';
      document.body.style.height = '4000px';
    });
    await mirrorHas(agent, `d.querySelector('#site-promo').textContent === 'live change 42'`);

    await agent.evaluate(() =>
      (document.querySelector('#cobrowse-mirror') as HTMLIFrameElement).contentDocument!.querySelector<HTMLElement>('#site-promo')!.click(),
    );
    await visitor.waitForSelector('#site-promo[data-up-highlight]', WAIT);

    await agent.evaluate(() => (window as unknown as { UpCobrowseAgent: { scroll(x: number, y: number): void } }).UpCobrowseAgent.scroll(0, 700));
    await visitor.waitForFunction(() => window.scrollY === 700, WAIT);

    await visitor.click('#cobrowse-end');
    await agent.waitForSelector('#cobrowse-state[data-state="ended"]', WAIT);
  }, 60_000);
});
