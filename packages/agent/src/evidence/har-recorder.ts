import type { Page } from 'puppeteer-core';
import { CdpTargetTree, type CdpEventName } from '../collectors/cdp-tree.js';
import { buildPageHar, type Har, type RecordedEvent } from './har-build.js';

/**
 * Records what a HAR of one page needs: the Network events of the page and of
 * every child target (the cross-origin widget frame included — its requests
 * and websockets never reach the page's own session), plus the page's Page
 * events (navigation starts, frame tree, DOMContentLoaded, load) for pages and
 * pageTimings. It is its own auto-attaching CDP session tree, separate from the
 * scenario's collectors and from Puppeteer's. Attach before navigating.
 */
export const HAR_EVENTS = [
  'Network.requestWillBeSent', 'Network.responseReceived', 'Network.loadingFinished', 'Network.loadingFailed',
  'Network.requestServedFromCache', 'Network.webSocketCreated', 'Network.webSocketWillSendHandshakeRequest',
  'Network.webSocketHandshakeResponseReceived', 'Network.webSocketFrameSent', 'Network.webSocketFrameReceived',
  'Network.webSocketFrameError', 'Network.webSocketClosed',
  'Page.frameStartedLoading', 'Page.frameAttached', 'Page.domContentEventFired', 'Page.loadEventFired',
] as const satisfies readonly CdpEventName[];

/** Events kept per page at most (a runaway page cannot exhaust the agent's memory). */
export const HAR_MAX_EVENTS = 50_000;

export class HarRecorder {
  readonly #tree: CdpTargetTree;
  readonly #events: RecordedEvent[] = [];
  #dropped = 0;

  private constructor(tree: CdpTargetTree) {
    this.#tree = tree;
  }

  static async attach(page: Page): Promise<HarRecorder> {
    const tree = await CdpTargetTree.create(page);
    const rec = new HarRecorder(tree);
    try {
      for (const method of HAR_EVENTS) {
        tree.on(method, (params) => {
          if (rec.#events.length >= HAR_MAX_EVENTS) rec.#dropped += 1;
          else rec.#events.push({ method, params });
        });
      }
      // Page events only from page targets: a child frame's navigation is not a HAR page.
      tree.prepare(async (node) => {
        if (node.type === 'page') await node.session.send('Page.enable');
      });
      await tree.start();
      return rec;
    } catch (e) {
      await tree.close();
      throw e;
    }
  }

  get events(): number {
    return this.#events.length;
  }

  /** Events not kept because the page exceeded HAR_MAX_EVENTS. */
  get dropped(): number {
    return this.#dropped;
  }

  har(title?: string): Har {
    return buildPageHar(this.#events, title === undefined ? {} : { title });
  }

  close(): Promise<void> {
    return this.#tree.close();
  }
}
