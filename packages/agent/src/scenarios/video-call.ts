import { setTimeout as sleep } from 'node:timers/promises';
import type { Frame, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError, type MetricName } from '@userprobe/shared';
import { attachPageCollectors, type PageCollectors } from '../collectors/page-collectors.js';
import type { WaitOptions } from '../collectors/deadline.js';
import type { Recorder, Scenario, ScenarioContext } from '../runner/scenario-api.js';
import { loadVisitorPage, missingProfileKeys, openAgentChat, startVisitorChat, waitForEnabled } from './chat-session.js';
import { armAutoClick, armFirstFrame, type InstantWatch } from './media-probes.js';
import { action, stampedClick } from './page-probes.js';
import { closeAll, describeStates, installRtcRegistry, rtcStates, rtcStats, waitConnected, type RtcStateLog } from './rtc-registry.js';
import { statsDetail, statsSchedule, summarizeStats, type RtcSample } from './rtc-stats.js';

/*
 * video-call: the visitor starts a chat; the agent opens it and starts a video
 * call; the visitor accepts; both run the call for `options.callDurationMs`.
 * Needs the profile's visitor.video, agent.video and network.sockets.webrtc, and
 * Chromium with fake media devices (see the browser pool's flags).
 *
 * Before navigation, both pages get a new-document script that wraps
 * `RTCPeerConnection` (rtc-registry.ts): it works on any tenant, stamps state
 * changes page-side, and gives getStats() access without knowing the page's code.
 *
 * Metrics (every instant is `performance.timeOrigin + now` in its page; the
 * pages share the machine clock):
 * - page_load: visitor navigation start → loadEventEnd.
 * - webrtc_ws_connect: the visitor's signaling socket (`sockets.webrtc`), first
 *   request sent → namespace connect received (CDP; detail = starting transport).
 * - call_setup: agent's `startCall` clicked (stamped in the same page task as the
 *   click) → the visitor's RTCPeerConnection connectionState 'connected'.
 *   The visitor's `acceptCall` is clicked page-side the moment it is visible and
 *   enabled (a visitor who accepts at once), so no Node round trip is inside it.
 * - first_frame_visitor / first_frame_agent: start clicked → first
 *   requestVideoFrameCallback on the remote video element of that side.
 * - rtc_rtt, rtc_jitter, rtc_packets_lost, rtc_fps, rtc_frames_dropped (extra):
 *   getStats() of each side's connection at statsSchedule(callDurationMs) after
 *   the call connected (1 s apart); detail `<side> <local>/<remote>` candidate
 *   types of the selected pair (host / srflx / prflx / relay: TURN shows as relay).
 *   A value a report lacks at that moment (e.g. no RTT yet) is not recorded.
 *
 * A call that never connects fails step call_setup with both sides'
 * iceConnectionState and connectionState in the error.
 *
 * Where the selectors live: visitor.video.* inside the widget frame
 * (visitor.widget.frame) when there is one, else in the visitor page;
 * agent.video.* in the agent page.
 */

const RTC_METRICS: ReadonlyArray<readonly [MetricName, keyof RtcSample]> = [
  ['rtc_rtt', 'rttMs'],
  ['rtc_jitter', 'jitterMs'],
  ['rtc_packets_lost', 'packetsLost'],
  ['rtc_fps', 'fps'],
  ['rtc_frames_dropped', 'framesDropped'],
];

/** Record one getStats() sample of one side; returns the metrics it lacked. */
export function recordRtcSample(recorder: Recorder, side: 'visitor' | 'agent', s: RtcSample): MetricName[] {
  const detail = statsDetail(side, s);
  const lacking: MetricName[] = [];
  for (const [metric, key] of RTC_METRICS) {
    const v = s[key];
    if (typeof v === 'number') recorder.value(metric, v, { detail });
    else lacking.push(metric);
  }
  return lacking;
}

/** The call_setup failure: both sides' last ICE and connection states. */
export function callSetupError(why: string, visitor: readonly RtcStateLog[], agent: readonly RtcStateLog[], timeout: boolean): StepError {
  return new StepError('call_setup', `the call did not connect: ${why}; visitor ${describeStates(visitor)}; agent ${describeStates(agent)}`, {
    code: timeout ? ERROR_CODES.STEP_TIMEOUT : ERROR_CODES.STEP_FAILED,
    detail: {
      visitor: visitor.at(-1) ? { ice: visitor.at(-1)!.iceConnectionState, connection: visitor.at(-1)!.connectionState } : null,
      agent: agent.at(-1) ? { ice: agent.at(-1)!.iceConnectionState, connection: agent.at(-1)!.connectionState } : null,
    },
  });
}

async function run(ctx: ScenarioContext): Promise<void> {
  const { profile, recorder, signal, options } = ctx;
  const { visitor, agent } = ctx.pages;
  const w: WaitOptions = { signal, timeoutMs: options.stepTimeoutMs };
  const vVideo = profile.visitor.video;
  const aVideo = profile.agent.video;
  const webrtc = profile.network.sockets.webrtc;
  if (!vVideo || !aVideo || !webrtc) {
    const missing = [!vVideo && 'visitor.video', !aVideo && 'agent.video', !webrtc && 'network.sockets.webrtc'].filter((m): m is string => !!m);
    await recorder.measure('profile', () => Promise.reject(missingProfileKeys('profile', 'video-call', missing)));
    return;
  }

  const collectors: PageCollectors = await recorder.measure('attach_collectors', async () => {
    await installRtcRegistry(visitor);
    await installRtcRegistry(agent);
    return attachPageCollectors(visitor, { requests: profile.network.requests, sockets: { webrtc } });
  });
  let callFrame: Frame | Page = visitor;
  const watches: InstantWatch[] = [];
  try {
    await loadVisitorPage(ctx, w);
    const { frame, text } = await startVisitorChat(ctx, collectors.network, w);
    callFrame = profile.visitor.widget.frame === undefined ? visitor : frame;

    await recorder.measure('webrtc_ws_connect', async () => {
      const c = await collectors.sockets.get('webrtc')!.waitForConnect({ ...w, step: 'webrtc_ws_connect' });
      recorder.value('webrtc_ws_connect', c.durationMs, { detail: c.transport });
    });

    await openAgentChat(ctx, text, w);
    await recorder.measure('start_call_enabled', () => {
      recorder.doing(action('wait until enabled:', 'agent.video.startCall', aVideo.startCall));
      return waitForEnabled(agent, aVideo.startCall, 'start_call_enabled', w);
    });

    // Armed before the click: nothing that happens after it is missed.
    const started = await recorder.measure('start_call', async () => {
      watches.push(await armAutoClick(callFrame, vVideo.acceptCall, options.stepTimeoutMs));
      watches.push(await armFirstFrame(callFrame, vVideo.remoteVideo, options.stepTimeoutMs));
      watches.push(await armFirstFrame(agent, aVideo.remoteVideo, options.stepTimeoutMs));
      recorder.doing(action('click', 'agent.video.startCall', aVideo.startCall));
      return stampedClick(agent, aVideo.startCall, 'start_call');
    });
    const [accepted, visitorFrame, agentFrame] = watches as [InstantWatch, InstantWatch, InstantWatch];

    await recorder.measure('call_setup', async () => {
      let outcome;
      try {
        outcome = await waitConnected(callFrame, started, options.stepTimeoutMs, signal);
      } catch (e) {
        if (e instanceof Error && e.name === 'TimeoutError') {
          throw callSetupError(`not connected within ${options.stepTimeoutMs} ms`, await rtcStates(callFrame, started), await rtcStates(agent, started), true);
        }
        throw e;
      }
      if ('endedIn' in outcome) {
        throw callSetupError(`the visitor's connection went ${outcome.endedIn}`, await rtcStates(callFrame, started), await rtcStates(agent, started), false);
      }
      recorder.value('call_setup', outcome.connectedAt - started);
      recorder.note('call accepted', { acceptedAfterMs: Math.round((await accepted.instant('call_setup')) - started) });
    });
    await recorder.measure('first_frame_visitor', async () => {
      recorder.value('first_frame_visitor', (await visitorFrame.instant('first_frame_visitor')) - started);
    });
    await recorder.measure('first_frame_agent', async () => {
      recorder.value('first_frame_agent', (await agentFrame.instant('first_frame_agent')) - started);
    });

    await recorder.measure(
      'call_stats',
      async () => {
        const connectedAt = Date.now();
        const vIndex = (await rtcStates(callFrame, started)).at(-1)?.index;
        const aIndex = (await rtcStates(agent, started)).at(-1)?.index;
        const lacking = new Set<string>();
        for (const offset of statsSchedule(options.callDurationMs)) {
          const wait = connectedAt + offset - Date.now();
          if (wait > 0) await sleep(wait, undefined, { signal });
          const sides: Array<['visitor' | 'agent', Frame | Page, number | undefined]> = [
            ['visitor', callFrame, vIndex],
            ['agent', agent, aIndex],
          ];
          for (const [side, target, index] of sides) {
            if (index === undefined) continue;
            for (const m of recordRtcSample(recorder, side, summarizeStats(await rtcStats(target, index)))) lacking.add(`${side} ${m}`);
          }
        }
        if (lacking.size > 0) recorder.note('getStats() lacked some values at some samples', { lacking: [...lacking] });
      },
      { timeoutMs: options.callDurationMs + options.stepTimeoutMs },
    );
  } finally {
    for (const wt of watches) await wt.dispose();
    await closeAll(callFrame);
    await closeAll(agent);
    await collectors.close();
  }
}

export const videoCall: Scenario = { name: 'video-call', run };
