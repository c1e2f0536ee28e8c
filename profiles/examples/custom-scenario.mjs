// A custom userprobe scenario (docs/scenario-api.md). Plain JavaScript, no
// imports: everything it needs arrives in `ctx`.
//
// What a session does: the visitor opens the site, waits until the chat widget
// shows its "usable" selector, opens the chat and waits for the pre-chat form
// (or the message box when there is no form). It records the visitor page's
// load and navigation breakdown; the other steps are timed as steps, so a
// failure is recorded with the step's name.
//
// Loaded by file path (packages/agent/src/runner/scenario-loader.ts: resolveScenario);
// see docs/scenario-api.md for how a run names it.

/** @typedef {import('../../packages/agent/src/scenario-api.js').ScenarioContext} ScenarioContext */

/** @type {import('../../packages/agent/src/scenario-api.js').Scenario} */
export const scenario = {
  name: 'widget-open',

  /** @param {ScenarioContext} ctx */
  async run(ctx) {
    const { pages, profile, recorder, signal, options } = ctx;
    const page = pages.visitor;
    const widget = profile.visitor.widget;
    const timeout = options.stepTimeoutMs;

    await recorder.measure('page_load', async () => {
      await page.goto(profile.visitor.url, { waitUntil: 'load', timeout });
      // Every timing from the browser's own clock: the navigation entry, ms from navigation start.
      const nav = await page.evaluate(() => {
        const n = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]);
        return { load: n.loadEventEnd - n.startTime, ttfb: n.responseStart - n.startTime, dcl: n.domContentLoadedEventEnd - n.startTime };
      });
      recorder.value('page_load', nav.load);
      recorder.value('nav_ttfb_visitor', nav.ttfb);
      recorder.value('nav_dcl_visitor', nav.dcl);
    });

    const frame = await recorder.measure('widget_frame', async () => {
      if (!widget.frame) return page.mainFrame();
      const el = await page.waitForSelector(widget.frame, { timeout, signal });
      const f = await el?.contentFrame();
      if (!f) throw new Error(`${widget.frame} is not an iframe`);
      return f;
    });

    await recorder.measure('widget_usable', async () => {
      if (!('selector' in widget.usable)) throw new Error('this example only knows visitor.widget.usable.selector');
      await frame.waitForSelector(widget.usable.selector, { visible: true, timeout, signal });
    });

    await recorder.measure('open_chat', async () => {
      // A chat already open (in the page, or opened by its URL) has no launcher to click.
      if (widget.open) await frame.locator(widget.open).setTimeout(timeout).click({ signal });
      await frame.waitForSelector(widget.prechatName ?? widget.messageInput, { visible: true, timeout, signal });
      recorder.note('chat opened', { session: ctx.session.sessionId });
    });
  },
};
