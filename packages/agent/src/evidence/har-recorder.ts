import type { CdpTargetTree, CdpEventName } from '../collectors/cdp-tree.js';
import { buildPageHar, type Har, type Redact, type RecordedEvent } from './har-build.js';

export const HAR_EVENTS = [
  'Network.requestWillBeSent',
  'Network.responseReceived',
  'Network.loadingFinished',
  'Network.loadingFailed',
  'Network.requestServedFromCache',
  'Network.webSocketCreated',
  'Network.webSocketWillSendHandshakeRequest',
  'Network.webSocketHandshakeResponseReceived',
  'Network.webSocketFrameSent',
  'Network.webSocketFrameReceived',
  'Network.webSocketFrameError',
  'Network.webSocketClosed',
  'Page.frameStartedLoading',
  'Page.frameAttached',
  'Page.domContentEventFired',
  'Page.loadEventFired',
] as const satisfies readonly CdpEventName[];

/** Events kept per page at most (a runaway page cannot exhaust the agent's memory). */
export const HAR_MAX_EVENTS = 50_000;

/**
 * Records what a HAR of one page needs: the Network events of the page and of
 * every child target (the cross-origin widget frame included — its requests
 * and websockets never reach the page's own session), plus the page's Page
 * events (navigation starts, frame tree, DOMContentLoaded, load) for pages and
 * pageTimings. It listens on an auto-attaching CDP session tree of its own
 * (separate from the scenario's collectors and from Puppeteer's), registered
 * before the tree starts, i.e. before the page navigates.
 */
export class HarRecorder {
  readonly #events: RecordedEvent[] = [];
  #dropped = 0;

  /** Register on `tree` (before `tree.start()`). */
  constructor(tree: CdpTargetTree) {
    for (const method of HAR_EVENTS) {
      tree.on(method, (params) => {
        if (this.#events.length >= HAR_MAX_EVENTS) this.#dropped += 1;
        else this.#events.push({ method, params });
      });
    }
    // Page events only from page targets: a child frame's navigation is not a HAR page.
    tree.prepare(async (node) => {
      if (node.type === 'page') await node.session.send('Page.enable');
    });
  }

  get events(): number {
    return this.#events.length;
  }

  /** Events not kept because the page exceeded HAR_MAX_EVENTS. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The page's HAR; websocket frames go through `redact` before they are cut to size. */
  har(title: string, redact: Redact): Har {
    return buildPageHar(this.#events, { title, redact });
  }
}
