import type { CDPSession, ConsoleMessage, HTTPRequest, HTTPResponse, Page, Protocol } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';
import type { HostPolicy, UrlPlace } from './host-policy.js';

/*
 * Watches a session's pages for navigations this agent does not allow (see
 * host-policy.ts) and reports the first one: a page sent (by a redirect, a
 * script, a link) to `file:`, `chrome:`, `javascript:`, a metadata address or
 * a host not allowed. It detects and does not intercept: request
 * interception would hold every request of the measured pages for a round
 * trip to this process, adding latency to the timings we measure. So the
 * document may start loading; the session then ends as failed (step
 * NAVIGATION_STEP) and the runner captures no evidence of it (no screenshot
 * of what the page was sent to).
 *
 * Sources, per page (what Chromium 156 reports, checked with the headless
 * shell): Page.frameRequestedNavigation on a CDP session of its own (script
 * and link navigations); Puppeteer's request / response / requestfailed events
 * for document requests of the page and its frames (out-of-process ones too):
 * each redirect hop, the address a document came from, and a redirect the
 * browser refused as unsafe (ERR_UNSAFE_REDIRECT: to file: and the like); and
 * the console error the browser logs when a page tries to open a `file:` or
 * `chrome:` URL, which it refuses before any navigation event. A `javascript:`
 * URL a page's own script navigates to leaves no trace outside the page; it
 * runs with the page's own origin and reaches nothing the page could not, so
 * it is not detected (a profile naming one is refused at assignment).
 */

/** The failed step a blocked navigation is recorded under. */
export const NAVIGATION_STEP = 'navigation-policy';

/** Chromium's error for a redirect to a URL it will not follow (file:, chrome:, …). */
const UNSAFE_REDIRECT = 'net::ERR_UNSAFE_REDIRECT';
/** The console error Chromium logs when a page tries to open a local URL (file:, chrome:) it may not. */
const LOCAL_RESOURCE_REFUSED = /^Not allowed to load local resource: (\S+)/;

export interface GuardedPages {
  readonly visitor: Page;
  readonly agent: Page;
}

export class NavigationGuard {
  readonly #policy: HostPolicy;
  readonly #onViolation: (e: StepError) => void;
  readonly #undo: Array<() => void | Promise<void>> = [];
  #violation: StepError | null = null;

  private constructor(policy: HostPolicy, onViolation: (e: StepError) => void) {
    this.#policy = policy;
    this.#onViolation = onViolation;
  }

  /** Watch both pages (before they navigate). `onViolation` is called once, with the first blocked navigation. */
  static async attach(pages: GuardedPages, policy: HostPolicy, onViolation: (e: StepError) => void): Promise<NavigationGuard> {
    const g = new NavigationGuard(policy, onViolation);
    try {
      await g.#watch('visitor', pages.visitor);
      await g.#watch('agent', pages.agent);
    } catch (e) {
      await g.detach();
      throw e;
    }
    return g;
  }

  /** The first blocked navigation, if any. */
  get violation(): StepError | null {
    return this.#violation;
  }

  async detach(): Promise<void> {
    for (const undo of this.#undo.splice(0)) {
      try {
        await undo();
      } catch {
        /* the page is closing */
      }
    }
  }

  /** `place` null: somewhere in the page (the browser's console does not say which frame). */
  #report(which: string, place: UrlPlace | null, reason: string): void {
    if (this.#violation !== null) return;
    const what =
      place === null
        ? `the ${which} page tried to open a URL this agent does not go to (the browser refused it)`
        : `${place === 'main-frame' ? `the ${which} page` : `a frame of the ${which} page`} was sent where this agent does not go`;
    this.#violation = new StepError(NAVIGATION_STEP, `${what}: ${reason}`, { code: ERROR_CODES.NOT_ALLOWED });
    this.#onViolation(this.#violation);
  }

  async #watch(which: 'visitor' | 'agent', page: Page): Promise<void> {
    const placeOf = (req: HTTPRequest): UrlPlace => {
      const frame = req.frame();
      return frame === null || frame === page.mainFrame() ? 'main-frame' : 'sub-frame';
    };
    const onRequest = (req: HTTPRequest): void => {
      if (!req.isNavigationRequest()) return;
      const place = placeOf(req);
      const problem = this.#policy.urlProblem(req.url(), place);
      if (problem !== null) this.#report(which, place, problem);
    };
    const onResponse = (res: HTTPResponse): void => {
      const req = res.request();
      if (!req.isNavigationRequest()) return;
      const place = placeOf(req);
      let host = '';
      try {
        host = new URL(res.url()).hostname;
      } catch {
        return;
      }
      const problem = this.#policy.addressProblem(host, res.remoteAddress().ip ?? '', place);
      if (problem !== null) this.#report(which, place, problem);
    };
    const onFailed = (req: HTTPRequest): void => {
      if (!req.isNavigationRequest() || req.failure()?.errorText !== UNSAFE_REDIRECT) return;
      this.#report(
        which,
        placeOf(req),
        `${req.url().replace(/[?#].*$/s, '')} redirected to a URL that is not http(s) (the browser refused it: ${UNSAFE_REDIRECT})`,
      );
    };
    const onConsole = (msg: ConsoleMessage): void => {
      if (msg.type() !== 'error') return;
      const m = LOCAL_RESOURCE_REFUSED.exec(msg.text());
      if (m === null) return;
      this.#report(which, null, this.#policy.urlProblem(m[1]!, 'sub-frame') ?? `${m[1]!.replace(/[?#].*$/s, '')} is a local resource`);
    };
    page.on('request', onRequest);
    page.on('response', onResponse);
    page.on('requestfailed', onFailed);
    page.on('console', onConsole);
    this.#undo.push(() => {
      page.off('request', onRequest);
      page.off('response', onResponse);
      page.off('requestfailed', onFailed);
      page.off('console', onConsole);
    });

    const cdp: CDPSession = await page.createCDPSession();
    this.#undo.push(() => cdp.detach());
    const mainId = (await cdp.send('Page.getFrameTree')).frameTree.frame.id;
    cdp.on('Page.frameRequestedNavigation', (e: Protocol.Page.FrameRequestedNavigationEvent) => {
      const place: UrlPlace = e.frameId === mainId ? 'main-frame' : 'sub-frame';
      const problem = this.#policy.urlProblem(e.url, place);
      if (problem !== null) this.#report(which, place, problem);
    });
    await cdp.send('Page.enable');
  }
}
