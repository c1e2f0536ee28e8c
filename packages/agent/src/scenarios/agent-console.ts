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
  // localStorage entries go in as the console's first document starts, before its scripts, on its origin only; never again.
  let storage: { identifier: string } | null = null;
  if (plan.storage.length > 0) {
    recorder.doing(`set the localStorage entries of agent.login.storage (${plan.storage.map((e) => e.key).join(', ')})`);
    const entries = plan.storage.map((e) => [e.key, ctx.credential(e.value)] as const);
    storage = await agent.evaluateOnNewDocument(
      (origin: string, items: ReadonlyArray<readonly [string, string]>) => {
        if (location.origin !== origin) return;
        for (const [k, v] of items) localStorage.setItem(k, v);
      },
      new URL(profile.agent.url).origin,
      entries,
    );
  }
  recorder.doing('load agent.url, up to its load event');
  try {
    await navigate(agent, profile.agent.url, step, w.timeoutMs);
  } finally {
    if (storage) await agent.removeScriptToEvaluateOnNewDocument(storage.identifier).catch(() => undefined);
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
