#!/usr/bin/env node
// What does a chat session cost while it waits, and what does one message
// exchange cost? Opens N demo chat sessions (visitor page with the widget and
// a started chat + a logged-in agent console, each in its own context) in one
// browser, then measures the browser's CPU (/proc, whole process tree) while
// they sit idle (with both message inputs focused, then with focus released), and while each visitor types one 45-character message the way
// chat-load does (Puppeteer Locator.fill: key by key) versus setting the value
// at once. Usage: node bench/fidelity/idle-cost.mjs [--browser shell|chromium] [--sessions 20] [--idle-s 20]
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from '../../packages/agent/node_modules/puppeteer-core/lib/esm/puppeteer/puppeteer-core.js';
import { launchPlan } from '../../packages/agent/dist/host/browser-pool.js';
import { startDemoTarget } from '../../packages/demo-target/dist/index.js';
import { resolveProfile } from '../../packages/shared/dist/index.js';
/* global document -- the page.evaluate callbacks below run in Chromium */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
void ROOT;
const a = process.argv.slice(2);
const get = (k, d) => (a.includes(`--${k}`) ? a[a.indexOf(`--${k}`) + 1] : d);
const kind = get('browser', 'shell');
const N = Number(get('sessions', '20'));
const IDLE_S = Number(get('idle-s', '20'));

const TICKS = 100;
function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const r = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(r[1]), cpu: (Number(r[11]) + Number(r[12]) + Number(r[13]) + Number(r[14])) / TICKS };
  } catch {
    return null;
  }
}
function treeCpu(root) {
  const kids = new Map();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const st = stat(Number(n));
    if (!st) continue;
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(Number(n));
  }
  let cpu = stat(root)?.cpu ?? 0;
  const walk = (p) => {
    for (const k of kids.get(p) ?? []) {
      cpu += stat(k)?.cpu ?? 0;
      walk(k);
    }
  };
  walk(root);
  return cpu;
}

const demo = await startDemoTarget({});
const plan = launchPlan(kind, { chromiumPath: '/usr/lib/chromium/chromium', shellPath: '/usr/lib/chromium/chromium-headless-shell' });
const dir = await mkdtemp(join(tmpdir(), 'up-idle-'));
const browser = await puppeteer.launch({
  executablePath: plan.executablePath,
  headless: plan.headless,
  args: [...plan.args],
  pipe: true,
  userDataDir: dir,
  defaultViewport: { width: 1280, height: 800 },
});
const pid = browser.process().pid;
const { profile: p } = await resolveProfile('demo', demo.vars);
const sessions = [];
try {
  for (let i = 0; i < N; i++) {
    const vc = await browser.createBrowserContext();
    const ac = await browser.createBrowserContext();
    const visitor = await vc.newPage();
    const agent = await ac.newPage();
    await visitor.goto(p.visitor.url, { waitUntil: 'load' });
    const el = await visitor.waitForSelector(p.visitor.widget.frame);
    const frame = await el.contentFrame();
    await frame.waitForSelector(p.visitor.widget.usable.selector, { visible: true });
    await frame.locator(p.visitor.widget.open).click();
    await frame.locator(p.visitor.widget.prechatName).fill(`s${i}`);
    await frame.locator(p.visitor.widget.prechatSubmit).click();
    await frame.waitForSelector(p.visitor.widget.messageInput, { visible: true });
    await agent.goto(p.agent.url, { waitUntil: 'load' });
    await agent.locator(p.agent.login.usernameInput).fill('agent');
    await agent.locator(p.agent.login.passwordInput).fill('demo');
    await agent.locator(p.agent.login.submit).click();
    await agent.waitForSelector(p.agent.ready, { visible: true });
    sessions.push({ frame, agent });
  }
  // waiting with the visitor's and the agent's message inputs focused, as after a message was
  // typed (the carets blink), then with focus released, as chat-load does before a think pause
  const focus = async (on) => {
    for (const s of sessions) {
      await s.frame.$eval(p.visitor.widget.messageInput, (e, f) => (f ? e.focus() : e.blur()), on);
      await s.agent.evaluate(
        (f, sel) => {
          const e = f ? document.querySelector(sel) : document.activeElement;
          if (e && e !== document.body) f ? e.focus() : e.blur();
        },
        on,
        p.agent.messageInput,
      );
    }
  };
  await focus(true);
  const f0 = treeCpu(pid);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const f1 = treeCpu(pid);
  await focus(false);
  const c0 = treeCpu(pid);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const c1 = treeCpu(pid);
  const text = 'probe s-0001 1 0123456789abcdef 0123456789abcdef'.slice(0, 45);
  const t0 = treeCpu(pid);
  for (const s of sessions) await s.frame.locator(p.visitor.widget.messageInput).fill(text);
  const t1 = treeCpu(pid);
  for (const s of sessions)
    await s.frame.$eval(p.visitor.widget.messageInput, (e) => {
      e.value = '';
    });
  const v0 = treeCpu(pid);
  for (const s of sessions)
    await s.frame.$eval(
      p.visitor.widget.messageInput,
      (e, t) => {
        e.value = t;
        e.dispatchEvent(new Event('input', { bubbles: true }));
      },
      text,
    );
  const v1 = treeCpu(pid);
  const out = {
    browser: kind,
    sessions: N,
    idleSeconds: IDLE_S,
    idleCpuPerSessionSecond: (c1 - c0) / N / IDLE_S,
    idleFocusedCpuPerSessionSecond: (f1 - f0) / N / IDLE_S,
    typeCpuPerMessage: (t1 - t0) / N,
    setValueCpuPerMessage: (v1 - v0) / N,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
  await demo.close();
}
