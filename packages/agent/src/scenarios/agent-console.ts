import type { CDPSession } from 'puppeteer-core';
import { loginPlan } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';
import type { ScenarioContext } from '../runner/scenario-api.js';
import { action, navigate, stampedSend } from './page-probes.js';

/*
 * The agent console, opened as the profile's shape says: the login's cookies set in the
 * console's browser context first (and its localStorage entries as its first document starts),
 * then agent.url loaded, then the login form (any fields,
 * submitted by a button, a key or nothing), then agent.ready awaited. Each sub-action says
 * what it is doing (Recorder.doing), so a timeout names the field and selector it waited for.
 */

/**
 * Open the agent console and wait until it is ready. `loaded` runs right after agent.url's
 * load event, before the login (chat-load records the console's navigation timing there).
 * Runs inside the caller's step.
 */
export async function openAgentConsole(ctx: ScenarioContext, step: string, w: WaitOptions, loaded?: () => Promise<void>): Promise<void> {
  const { recorder, profile, signal } = ctx;
  const agent = ctx.pages.agent;
  const plan = loginPlan(profile.agent.login);
  if (plan.cookies.length > 0) {
    recorder.doing(`set the cookies of agent.login.cookies (${plan.cookies.map((c) => c.name).join(', ')})`);
    await agent.browserContext().setCookie(
      ...plan.cookies.map((c) => {
        const u = new URL(c.url ?? profile.agent.url);
        return { name: c.name, value: ctx.credential(c.value), domain: u.hostname, path: '/', secure: u.protocol === 'https:', httpOnly: true };
      }),
    );
  }
  // localStorage entries go in as the console's first document starts, before its scripts, on its origin only; never
  // again. The script (it holds the secret) is added on the top-level page's own CDP session only, so no other site's
  // frame (a cross-site iframe is a target of its own) ever receives it; it is removed once the console has loaded.
  let storage: { cdp: CDPSession; identifier: string } | null = null;
  if (plan.storage.length > 0) {
    recorder.doing(`set the localStorage entries of agent.login.storage (${plan.storage.map((e) => e.key).join(', ')})`);
    const entries = plan.storage.map((e) => [e.key, ctx.credential(e.value)] as const);
    const origin = new URL(profile.agent.url).origin;
    const cdp = await agent.createCDPSession();
    try {
      await cdp.send('Page.enable');
      const { identifier } = await cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: storageScript(origin, entries) });
      storage = { cdp, identifier };
    } catch (e) {
      await cdp.detach().catch(() => undefined);
      throw e;
    }
  }
  recorder.doing('load agent.url, up to its load event');
  try {
    await navigate(agent, profile.agent.url, step, w.timeoutMs);
  } finally {
    if (storage) {
      await storage.cdp.send('Page.removeScriptToEvaluateOnNewDocument', { identifier: storage.identifier }).catch(() => undefined);
      await storage.cdp.detach().catch(() => undefined);
    }
  }
  await loaded?.();
  for (const f of plan.fields) {
    recorder.doing(action('fill', f.field, f.input));
    await agent.locator(f.input).setTimeout(w.timeoutMs).fill(ctx.credential(f.value), { signal });
  }
  const submit = plan.submit;
  if (submit && 'button' in submit) {
    recorder.doing(action('click', submit.field, submit.button));
    await agent.locator(submit.button).setTimeout(w.timeoutMs).click({ signal });
  } else if (submit) {
    const last = plan.fields.at(-1)!;
    recorder.doing(action('press', submit.field, submit.key) + ` in ${last.field} '${last.input}'`);
    await stampedSend(agent, last.input, { key: submit.key }, step);
  }
  recorder.doing(action('wait for', 'agent.ready', profile.agent.ready));
  await agent.waitForSelector(profile.agent.ready, { visible: true, timeout: w.timeoutMs, signal });
}

/** The new-document script that sets `entries` in localStorage when the document is on `origin` (and nowhere else). */
export function storageScript(origin: string, entries: ReadonlyArray<readonly [string, string]>): string {
  const set = (o: string, items: ReadonlyArray<readonly [string, string]>): void => {
    if (location.origin !== o) return;
    for (const [k, v] of items) localStorage.setItem(k, v);
  };
  return `(${set.toString()})(${JSON.stringify(origin)}, ${JSON.stringify(entries)});`;
}
