// A custom userprobe scenario (docs/scenario-api.md). Plain JavaScript, no
// imports: everything it needs arrives in `ctx` (the zod it builds its settings
// schema with is passed to `settings`).
//
// What a session does: the visitor opens the site, the widget's first API call
// and its CRM socket are timed by pattern, then the visitor waits until the chat
// widget shows its "usable" selector and (unless the profile's `scenario:`
// section says `openChat: false`) opens the chat. It records:
// - catalog metrics: page_load, nav_ttfb_visitor, nav_dcl_visitor (the visitor
//   page's navigation entry, from the browser's clock);
// - its own metrics, declared below: widget_first_call (ms, once per session)
//   and crm_connect_attempts (count).
//
// Loaded by file path from a folder the agent's operator allows (--scenario-dir);
// `controller run --scenario-module ./profiles/examples/custom-scenario.mjs`.

/** @typedef {{ openChat: boolean; firstRequest: string }} Settings */
/** @typedef {import('../../packages/agent/src/runner/scenario-api.js').ScenarioContext<Settings>} ScenarioContext */

/** @type {import('../../packages/agent/src/runner/scenario-api.js').Scenario<Settings>} */
export const scenario = {
  name: 'widget-open',

  // Metrics of its own: they flow like catalog ones (samples.jsonl, the summary, MySQL, Grafana's "Custom metrics").
  metrics: [
    {
      name: 'widget_first_call',
      unit: 'ms',
      kind: 'core',
      description: "The widget's first API call (scenario.firstRequest names the profile pattern): CDP requestWillBeSent → loadingFinished",
    },
    { name: 'crm_connect_attempts', unit: 'count', kind: 'extra', description: 'Connections the CRM socket took to connect (1: the first try)' },
  ],

  // The profile's `scenario:` section, checked when an agent accepts the run (every problem named at once).
  settings: (z) =>
    z.strictObject({
      /** Open the chat once the widget is usable. */
      openChat: z.boolean().default(true),
      /** Which of the profile's network.requests patterns is the widget's first API call. */
      firstRequest: z.string().min(1).default('init'),
    }),

  /** @param {ScenarioContext} ctx */
  async run(ctx) {
    const { pages, profile, recorder, signal, options, probe, settings } = ctx;
    const page = pages.visitor;
    const widget = profile.visitor.widget;
    const timeout = options.stepTimeoutMs;

    const firstCall = profile.network.requests[settings.firstRequest];
    if (!firstCall) {
      const known = Object.keys(profile.network.requests).join(', ');
      throw new Error(`scenario.firstRequest: '${settings.firstRequest}' names no pattern under network.requests; the patterns are: ${known}`);
    }
    const crm = profile.network.sockets?.crm;
    // Attached before the navigation, so the page's first requests are seen.
    const watch = await probe.watch(page, { requests: { first: firstCall }, sockets: crm ? { crm } : {} });

    await recorder.measure('page_load', async () => {
      const nav = await probe.open(page, profile.visitor.url);
      recorder.value('page_load', nav.load);
      recorder.value('nav_ttfb_visitor', nav.ttfb);
      recorder.value('nav_dcl_visitor', nav.dcl);
    });

    await recorder.measure('widget_first_call', async () => {
      const call = await watch.request('first');
      recorder.value('widget_first_call', call.durationMs, { detail: settings.firstRequest });
    });

    if (crm) {
      await recorder.measure('crm_connect', async () => {
        const s = await watch.socket('crm');
        recorder.value('crm_connect_attempts', s.attempts);
      });
    }

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

    if (!settings.openChat) return;
    await recorder.measure('open_chat', async () => {
      // A chat already open (in the page, or opened by its URL) has no launcher to click.
      if (widget.open) await frame.locator(widget.open).setTimeout(timeout).click({ signal });
      await frame.waitForSelector(widget.prechatName ?? widget.messageInput, { visible: true, timeout, signal });
      recorder.note('chat opened', { session: ctx.session.sessionId });
    });
  },
};
