import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import puppeteer, { type Browser, type Frame, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CREDENTIALS, startDemoTarget, type DemoTarget } from './index.js';

/* Real Chromium (the headless shell) against the demo target, visitor and agent in separate contexts. */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/lib/chromium/chromium-headless-shell';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // The headless shell does not isolate sites by default (full Chromium does):
  // without this the cross-site widget runs in-process and no 'iframe' target exists.
  '--site-per-process',
];
/** Realtime delay injected for the second round trip. */
const D = 400;

let target: DemoTarget;
let browser: Browser;
let userDataDir: string;

beforeAll(async () => {
  target = await startDemoTarget();
  userDataDir = await mkdtemp(join(tmpdir(), 'demo-target-e2e-'));
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: 'shell', pipe: true, args: FLAGS, userDataDir });
});
afterAll(async () => {
  await browser?.close();
  await rm(userDataDir, { recursive: true, force: true });
  await target?.close();
});

/** Wait until some element matching `selector` in `where` has text containing `text`. */
async function waitForText(where: Page | Frame, selector: string, text: string): Promise<void> {
  await where.waitForFunction(
    (sel: string, t: string) => Array.from(document.querySelectorAll(sel)).some((e) => (e.textContent ?? '').includes(t)),
    { timeout: 15_000 },
    selector,
    text,
  );
}

/** The demo's own DOM (README: "The widget", "The console"); a client's target profile names the same selectors. */
const WIDGET = {
  frame: 'iframe#up-widget-frame',
  ready: '#up-launcher[data-ready="true"]',
  open: '#up-launcher',
  name: '#up-name',
  start: '#up-start',
  input: '#up-input',
  send: '#up-send',
  messages: '#up-messages',
};
const CONSOLE = {
  user: '#login-user',
  pass: '#login-pass',
  submit: '#login-submit',
  ready: '#console-ready',
  chatItem: '.chat-item',
  messages: '#chat-messages',
  input: '#chat-input',
  send: '#chat-send',
};

describe('demo target in Chromium', () => {
  it('visitor chats with an agent through the cross-origin widget; realtime delay shows in the DOM', async () => {
    const visitorCtx = await browser.createBrowserContext();
    const agentCtx = await browser.createBrowserContext();
    try {
      // Visitor: site page, widget iframe from the other origin, usable.
      const visitor = await visitorCtx.newPage();
      await visitor.goto(`${target.siteUrl}/`, { waitUntil: 'load' });
      const frameHandle = await visitor.waitForSelector(WIDGET.frame);
      const frame = await frameHandle?.contentFrame();
      if (!frame) throw new Error('widget iframe has no frame');
      expect(frame.url()).toBe(`${target.appUrl}/widget/frame.html`);
      // Cross-origin: the frame cannot reach its parent's DOM.
      expect(
        await frame.evaluate(() => {
          try {
            return window.parent.document.title;
          } catch {
            return 'blocked';
          }
        }),
      ).toBe('blocked');
      // Out-of-process: Chromium gave the widget its own target.
      const cdp = await browser.target().createCDPSession();
      const { targetInfos } = await cdp.send('Target.getTargets');
      await cdp.detach();
      expect(targetInfos.find((t) => t.url === `${target.appUrl}/widget/frame.html`)?.type).toBe('iframe');
      await frame.waitForSelector(WIDGET.ready);
      await frame.click(WIDGET.open);
      await frame.type(WIDGET.name, 'Dana');
      await frame.click(WIDGET.start);
      await frame.waitForSelector(WIDGET.input);

      // Agent: console log-in, ready.
      const agent = await agentCtx.newPage();
      await agent.goto(`${target.appUrl}/console/`, { waitUntil: 'load' });
      await agent.type(CONSOLE.user, DEFAULT_CREDENTIALS.username);
      await agent.type(CONSOLE.pass, DEFAULT_CREDENTIALS.password);
      await agent.click(CONSOLE.submit);
      await agent.waitForSelector(CONSOLE.ready);

      const sendFromVisitor = async (text: string): Promise<number> => {
        await frame.type(WIDGET.input, text);
        const t0 = performance.now();
        await frame.click(WIDGET.send);
        await waitForText(agent, CONSOLE.chatItem, text); // no click: the list preview updates live
        return performance.now() - t0;
      };

      // A first message (it creates the chat), then one with the realtime delay.
      await sendFromVisitor('first message');
      target.knobs.set({ latency: { realtime: D } });
      const delayed = await sendFromVisitor('second message, delayed');
      // The delay shows in the DOM (its accuracy is server.test.ts's dose-response experiment, not this walk-through's).
      // Not compared with the first message's time: a stall of the machine while that one went could make it the longer.
      expect(delayed).toBeGreaterThanOrEqual(D);

      // Agent opens the chat, reads, replies; the reply appears in the widget after D.
      const item = await agent.waitForSelector(`${CONSOLE.chatItem}::-p-text(second message, delayed)`);
      await item!.click();
      await waitForText(agent, CONSOLE.messages, 'first message');
      await waitForText(agent, CONSOLE.messages, 'second message, delayed');
      await agent.type(CONSOLE.input, 'Hello Dana, how can I help?');
      const t1 = performance.now();
      await agent.click(CONSOLE.send);
      await waitForText(frame, `${WIDGET.messages} *`, 'Hello Dana, how can I help?');
      const reply = performance.now() - t1;
      expect(reply).toBeGreaterThanOrEqual(D);

      expect(target.stats()).toMatchObject({ chats: 1, messages: 3 });
    } finally {
      await visitorCtx.close();
      await agentCtx.close();
    }
  });
});
