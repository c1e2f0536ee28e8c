import { randomBytes } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import { StepError } from '@userprobe/shared';
import type { WaitOptions } from '../collectors/deadline.js';
import { firstVisibleAt, firstVisibleScript } from '../collectors/first-visible.js';
import { attachPageCollectors, type PageCollectors } from '../collectors/page-collectors.js';
import type { Scenario, ScenarioContext } from '../runner/scenario-api.js';
import { loadVisitorPage, missingProfileKeys, openAgentChat, startVisitorChat, waitForEnabled } from './chat-session.js';
import type { InstantWatch } from './media-probes.js';
import { armMirrorWatch } from './mirror-watch.js';
import { action, stampedClick } from './page-probes.js';

/*
 * cobrowse: the visitor starts a chat and loads the cobrowse script (clicking
 * `visitor.cobrowse.load` when the profile has it); the agent opens the chat
 * and starts a cobrowse session; the visitor page confirms and streams its DOM
 * to the agent's mirror. Needs visitor.cobrowse, agent.cobrowse and
 * network.requests.cobrowseScript (network.sockets.cobrowse is optional).
 *
 * Metrics (instants are `performance.timeOrigin + now` in their page; the pages
 * share the machine clock):
 * - page_load: visitor navigation start → loadEventEnd.
 * - cobrowse_script_load: CDP requestWillBeSent → loadingFinished of the first
 *   request matching `cobrowseScript` (network collector).
 * - cobrowse_session_established: agent's `start` clicked (stamped in the same
 *   page task) → `visitor.cobrowse.indicator` first visible on the visitor page.
 * - cobrowse_first_snapshot: start clicked → `agent.cobrowse.snapshotReady`
 *   exists inside `agent.cobrowse.mirror`.
 * - cobrowse_mirror_lag, `options.mirrorSamples` times (detail `sample-<i>`):
 *   the visitor page sets the text of `visitor.cobrowse.mutable` to a unique
 *   value (stamped in the same task) → that text is in the agent's mirror.
 * So a successful session records page_load, cobrowse_script_load,
 * cobrowse_session_established, cobrowse_first_snapshot once each and
 * cobrowse_mirror_lag mirrorSamples times (see expectedSamples in shared).
 */

/** Sample detail of mirror-lag sample i (1-based). */
export function mirrorSampleDetail(i: number): string {
  return `sample-${i}`;
}

/** A text no other session or sample contains. */
export function mirrorProbeText(sessionId: string, i: number): string {
  return `mirror ${sessionId} ${i} ${randomBytes(4).toString('hex')}`;
}

/** Set the text of `selector` on the visitor page and return the instant, taken in the same task. */
async function stampedTextChange(page: Page, selector: string, text: string, step: string): Promise<number> {
  const at = await page.evaluate(
    (sel: string, t: string) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const now = performance.timeOrigin + performance.now();
      el.textContent = t;
      return now;
    },
    selector,
    text,
  );
  if (at === null)
    throw new StepError(step, `nothing to change: '${selector}' (visitor.cobrowse.mutable) is not in the visitor page`, { detail: { selector } });
  return at;
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { profile, recorder, signal, options, session } = ctx;
  const { visitor, agent } = ctx.pages;
  const w: WaitOptions = { signal, timeoutMs: options.stepTimeoutMs };
  const vCob = profile.visitor.cobrowse;
  const aCob = profile.agent.cobrowse;
  const scriptPattern = profile.network.requests.cobrowseScript;
  if (!vCob || !aCob || !scriptPattern) {
    const missing = [!vCob && 'visitor.cobrowse', !aCob && 'agent.cobrowse', !scriptPattern && 'network.requests.cobrowseScript'].filter(
      (m): m is string => !!m,
    );
    await recorder.measure('profile', () => Promise.reject(missingProfileKeys('profile', 'cobrowse', missing)));
    return;
  }
  const socketPattern = profile.network.sockets.cobrowse;

  const collectors: PageCollectors = await recorder.measure('attach_collectors', () =>
    attachPageCollectors(visitor, {
      requests: profile.network.requests,
      sockets: socketPattern ? { cobrowse: socketPattern } : {},
    }),
  );
  const watches: InstantWatch[] = [];
  try {
    await loadVisitorPage(ctx, w);
    const { text } = await startVisitorChat(ctx, collectors.network, w);

    if (vCob.load !== undefined) {
      const load = vCob.load;
      await recorder.measure('cobrowse_load', () => {
        recorder.doing(action('click', 'visitor.cobrowse.load', load));
        return visitor.locator(load).setTimeout(options.stepTimeoutMs).click({ signal });
      });
    }
    await recorder.measure('cobrowse_script_load', async () => {
      recorder.value('cobrowse_script_load', (await collectors.network.waitForRequest('cobrowseScript', { ...w, step: 'cobrowse_script_load' })).durationMs);
    });
    const socket = collectors.sockets.get('cobrowse');
    if (socket) {
      await recorder.measure('cobrowse_socket', async () => {
        const c = await socket.waitForConnect({ ...w, step: 'cobrowse_socket' });
        recorder.note('cobrowse socket connected', { ms: Math.round(c.durationMs), transport: c.transport });
      });
    }

    await openAgentChat(ctx, text, w);
    await recorder.measure('cobrowse_start_enabled', () => {
      recorder.doing(action('wait until enabled:', 'agent.cobrowse.start', aCob.start));
      return waitForEnabled(agent, aCob.start, 'cobrowse_start_enabled', w);
    });

    const started = await recorder.measure('cobrowse_start', async () => {
      await visitor.evaluate(firstVisibleScript([vCob.indicator], 'all-frames'));
      watches.push(await armMirrorWatch(agent, aCob.mirror, { selector: aCob.snapshotReady }, options.stepTimeoutMs));
      recorder.doing(action('click', 'agent.cobrowse.start', aCob.start));
      return stampedClick(agent, aCob.start, 'cobrowse_start');
    });
    const snapshot = watches[0]!;

    await recorder.measure('cobrowse_session_established', async () => {
      recorder.doing(action('wait for', 'visitor.cobrowse.indicator', vCob.indicator));
      const at = await firstVisibleAt(visitor.mainFrame(), vCob.indicator, 'cobrowse_session_established', w);
      recorder.value('cobrowse_session_established', at - started);
    });
    await recorder.measure('cobrowse_first_snapshot', async () => {
      recorder.value('cobrowse_first_snapshot', (await snapshot.instant('cobrowse_first_snapshot')) - started);
    });

    for (let i = 1; i <= options.mirrorSamples; i++) {
      const probe = mirrorProbeText(session.sessionId, i);
      await recorder.measure('cobrowse_mirror_lag', async () => {
        const watch = await armMirrorWatch(agent, aCob.mirror, { text: probe }, options.stepTimeoutMs);
        try {
          const changedAt = await stampedTextChange(visitor, vCob.mutable, probe, 'cobrowse_mirror_lag');
          recorder.value('cobrowse_mirror_lag', (await watch.instant('cobrowse_mirror_lag')) - changedAt, { detail: mirrorSampleDetail(i) });
        } finally {
          await watch.dispose();
        }
      });
    }
  } finally {
    for (const wt of watches) await wt.dispose();
    await collectors.close();
  }
}

export const cobrowse: Scenario = { name: 'cobrowse', run };
