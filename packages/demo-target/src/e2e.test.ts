import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import puppeteer, { type Browser, type Frame, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoTarget, type DemoTarget } from './index.js';

/** Real Chromium (the headless shell) against the demo target, visitor and agent in separate contexts. */
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

describe('demo target in Chromium', () => {
  it('visitor chats with an agent through the cross-origin widget; realtime delay shows in the DOM', async () => {
    const p = target.profile;
    const visitorCtx = await browser.createBrowserContext();
    const agentCtx = await browser.createBrowserContext();
    try {
      // Visitor: site page, widget iframe from the other origin, usable.
      const visitor = await visitorCtx.newPage();
      await visitor.goto(p.visitor.url, { waitUntil: 'load' });
      const frameHandle = await visitor.waitForSelector(p.visitor.widget.frame ?? 'iframe');
      const frame = await frameHandle?.contentFrame();
      if (!frame) throw new Error('widget iframe has no frame');
      expect(frame.url()).toBe(`${target.appUrl}/widget/frame.html`);
      // Cross-origin: the frame cannot reach its parent's DOM.
      expect(await frame.evaluate(() => { try { return window.parent.document.title; } catch { return 'blocked'; } })).toBe('blocked');
      // Out-of-process: Chromium gave the widget its own target.
      const cdp = await browser.target().createCDPSession();
      const { targetInfos } = await cdp.send('Target.getTargets');
      await cdp.detach();
      expect(targetInfos.find((t) => t.url === `${target.appUrl}/widget/frame.html`)?.type).toBe('iframe');
      const usable = p.visitor.widget.usable;
      if (!('selector' in usable)) throw new Error(`the demo profile's widget.usable should be a selector, got ${JSON.stringify(usable)}`);
      await frame.waitForSelector(usable.selector);
      await frame.click(p.visitor.widget.open);
      await frame.type(p.visitor.widget.prechatName!, 'Dana');
      await frame.click(p.visitor.widget.prechatSubmit!);
      await frame.waitForSelector(p.visitor.widget.messageInput);

      // Agent: console log-in, ready.
      const agent = await agentCtx.newPage();
      const login = p.agent.login!;
      await agent.goto(p.agent.url, { waitUntil: 'load' });
      await agent.type(login.usernameInput, login.username.default!);
      await agent.type(login.passwordInput, login.password.default!);
      await agent.click(login.submit);
      await agent.waitForSelector(p.agent.ready);

      const sendFromVisitor = async (text: string): Promise<number> => {
        await frame.type(p.visitor.widget.messageInput, text);
        const t0 = performance.now();
        await frame.click(p.visitor.widget.sendButton);
        await waitForText(agent, p.agent.chatItem, text); // no click: the list preview updates live
        return performance.now() - t0;
      };

      // Baseline, then with the realtime delay.
      const baseline = await sendFromVisitor('first message');
      target.knobs.set({ latency: { realtime: D } });
      const delayed = await sendFromVisitor('second message, delayed');
      // The delay shows in the DOM (its accuracy is server.test.ts's dose-response experiment, not this walk-through's).
      expect(delayed).toBeGreaterThanOrEqual(D);
      expect(delayed).toBeGreaterThan(baseline);

      // Agent opens the chat, reads, replies; the reply appears in the widget after D.
      const item = await agent.waitForSelector(`${p.agent.chatItem}::-p-text(second message, delayed)`);
      await item!.click();
      await waitForText(agent, `${p.agent.messageList}`, 'first message');
      await waitForText(agent, `${p.agent.messageList}`, 'second message, delayed');
      await agent.type(p.agent.messageInput, 'Hello Dana, how can I help?');
      const t1 = performance.now();
      await agent.click(p.agent.sendButton);
      await waitForText(frame, `${p.visitor.widget.messageList} *`, 'Hello Dana, how can I help?');
      const reply = performance.now() - t1;
      expect(reply).toBeGreaterThanOrEqual(D);

      expect(target.stats()).toMatchObject({ chats: 1, messages: 3 });
    } finally {
      await visitorCtx.close();
      await agentCtx.close();
    }
  });
});
