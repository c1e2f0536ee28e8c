import type { ScenarioName } from './scenarios.js';

/*
 * The metric catalog: every metric a scenario can record, its unit, and the
 * exact start and end events that define it. Names are stable: they are the
 * `metric` column in MySQL and the series names in Grafana.
 */

export const METRIC_UNITS = ['ms', 'count', 'ratio', 'fps', 'bytes'] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];

export interface MetricDef {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly scenarios: readonly ScenarioName[];
  readonly description: string;
  /** Start → end events, stated so a reader can check the number. */
  readonly definition: string;
  /**
   * `core` metrics are recorded once per successful session (the count the tests
   * assert as sessions × metrics); `extra` metrics may be recorded zero or more
   * times (diagnostics, per-message or periodic samples).
   */
  readonly kind: 'core' | 'extra';
  /**
   * The sample's detail names what was measured (a request pattern), so values
   * of different details are different quantities: summaries show one row per detail.
   */
  readonly byDetail?: true;
}

const chat = ['chat-load'] as const;
const video = ['video-call'] as const;
const cob = ['cobrowse'] as const;

export const METRICS = {
  page_load: {
    name: 'page_load',
    unit: 'ms',
    scenarios: ['chat-load', 'video-call', 'cobrowse'],
    kind: 'core',
    description: 'Visitor page load',
    definition: 'Navigation start → loadEventEnd of the visitor page (PerformanceNavigationTiming, browser monotonic clock).',
  },
  widget_load: {
    name: 'widget_load',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: 'Chat widget load, until usable',
    definition:
      "Navigation start of the visitor page → the profile's `visitor.widget.usable` condition first holds: `selector` first visible inside the widget frame (stamped in the frame), or the `mark` made in the widget frame (its startTime), or the first request of the named `request` pattern finished (CDP loadingFinished, against the page's CDP NavigationStart). The sample's detail names the mode (selector | mark | request).",
  },
  api_init: {
    name: 'api_init',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: 'Widget API `init` request',
    definition:
      "CDP Network.requestWillBeSent → Network.loadingFinished of the first request matching the profile's `init` pattern (in any frame, including the cross-origin widget).",
  },
  api_create: {
    name: 'api_create',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: 'Create-chat API request',
    definition: "CDP requestWillBeSent → loadingFinished of the request matching the profile's `create` pattern.",
  },
  api_add_message: {
    name: 'api_add_message',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: "Add-message API request (visitor's first message)",
    definition: "CDP requestWillBeSent → loadingFinished of the first request matching the profile's `addMessage` pattern.",
  },
  crm_ws_connect: {
    name: 'crm_ws_connect',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: 'CRM realtime connect, as the client experiences it',
    definition:
      "First request of the CRM socket (Socket.IO handshake, long-polling or websocket, matched by the profile's `crm` pattern) sent → the namespace-connect reply (`40…`, when socket.io's `connect` event fires) received, on whichever transport carries it. The sample's detail names the transport the client started with (polling | websocket).",
  },
  msg_visitor_to_agent: {
    name: 'msg_visitor_to_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: 'Message delivery, visitor → agent console',
    definition:
      "Visitor presses send (timeOrigin+now in the visitor page) → the message text is in the agent console DOM (timeOrigin+now in the agent page, same machine clock); with the profile's `delivery.toAgent: { frame: <socket> }`, → the first websocket text message containing it that the agent page receives on that socket (its `message` event, timeOrigin+now in the page, before the page's own listeners).",
  },
  msg_agent_to_visitor: {
    name: 'msg_agent_to_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'core',
    description: 'Message delivery, agent console → visitor',
    definition:
      "Agent presses send → the reply text is in the widget DOM (same clock as above); with the profile's `delivery.toVisitor: { frame: <socket> }`, → the first websocket text message containing it that the widget (or the visitor page) receives on that socket.",
  },
  crm_ws_frame_rtt: {
    name: 'crm_ws_frame_rtt',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'CRM websocket frame round trip',
    definition: 'CDP webSocketFrameSent of a frame → webSocketFrameReceived of its matching reply (Socket.IO ack id or echoed id).',
  },
  nav_dns_visitor: {
    name: 'nav_dns_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'DNS lookup, visitor page',
    definition:
      'PerformanceNavigationTiming of the visitor page (the site embedding the widget): domainLookupStart → domainLookupEnd. 0 when no lookup happened (an IP-literal URL, a cached or reused connection).',
  },
  nav_dns_agent: {
    name: 'nav_dns_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'DNS lookup, agent page',
    definition:
      'PerformanceNavigationTiming of the agent console page, as first loaded (before log-in): domainLookupStart → domainLookupEnd. 0 when no lookup happened (an IP-literal URL, a cached or reused connection).',
  },
  nav_tcp_visitor: {
    name: 'nav_tcp_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'TCP connect, visitor page',
    definition:
      'PerformanceNavigationTiming of the visitor page (the site embedding the widget): connectStart → secureConnectionStart (or connectEnd without TLS): the TCP handshake only. 0 on a reused connection.',
  },
  nav_tcp_agent: {
    name: 'nav_tcp_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'TCP connect, agent page',
    definition:
      'PerformanceNavigationTiming of the agent console page, as first loaded (before log-in): connectStart → secureConnectionStart (or connectEnd without TLS): the TCP handshake only. 0 on a reused connection.',
  },
  nav_tls_visitor: {
    name: 'nav_tls_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'TLS handshake, visitor page',
    definition:
      'PerformanceNavigationTiming of the visitor page (the site embedding the widget): secureConnectionStart → connectEnd. Recorded only when the navigation opened a new TLS connection (secureConnectionStart > 0); absent for http:// and reused connections.',
  },
  nav_tls_agent: {
    name: 'nav_tls_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'TLS handshake, agent page',
    definition:
      'PerformanceNavigationTiming of the agent console page, as first loaded (before log-in): secureConnectionStart → connectEnd. Recorded only when the navigation opened a new TLS connection (secureConnectionStart > 0); absent for http:// and reused connections.',
  },
  nav_ttfb_visitor: {
    name: 'nav_ttfb_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Time to first byte, visitor page',
    definition:
      "PerformanceNavigationTiming of the visitor page (the site embedding the widget): Navigation start (startTime 0) → responseStart: redirects, DNS, TCP, TLS, the request and the server's wait until the first byte of the document.",
  },
  nav_ttfb_agent: {
    name: 'nav_ttfb_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Time to first byte, agent page',
    definition:
      "PerformanceNavigationTiming of the agent console page, as first loaded (before log-in): Navigation start (startTime 0) → responseStart: redirects, DNS, TCP, TLS, the request and the server's wait until the first byte of the document.",
  },
  nav_dcl_visitor: {
    name: 'nav_dcl_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'DOM content loaded, visitor page',
    definition: 'PerformanceNavigationTiming of the visitor page (the site embedding the widget): Navigation start → domContentLoadedEventEnd.',
  },
  nav_dcl_agent: {
    name: 'nav_dcl_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'DOM content loaded, agent page',
    definition: 'PerformanceNavigationTiming of the agent console page, as first loaded (before log-in): Navigation start → domContentLoadedEventEnd.',
  },
  nav_load_visitor: {
    name: 'nav_load_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Load event end, visitor page',
    definition:
      'PerformanceNavigationTiming of the visitor page (the site embedding the widget): Navigation start → loadEventEnd (for the visitor page this equals page_load).',
  },
  nav_load_agent: {
    name: 'nav_load_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Load event end, agent page',
    definition:
      'PerformanceNavigationTiming of the agent console page, as first loaded (before log-in): Navigation start → loadEventEnd (for the visitor page this equals page_load).',
  },
  web_fcp_visitor: {
    name: 'web_fcp_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'First contentful paint, visitor page',
    definition:
      "Web vital of the visitor page (the site embedding the widget): Navigation start → the `first-contentful-paint` paint entry's startTime, top document.",
  },
  web_fcp_agent: {
    name: 'web_fcp_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'First contentful paint, agent page',
    definition:
      "Web vital of the agent console page, as first loaded (before log-in): Navigation start → the `first-contentful-paint` paint entry's startTime, top document.",
  },
  web_lcp_visitor: {
    name: 'web_lcp_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Largest contentful paint, visitor page',
    definition:
      'Web vital of the visitor page (the site embedding the widget): Navigation start → startTime of the last `largest-contentful-paint` entry of the top document, read at the end of the session (the browser stops reporting candidates at the first input).',
  },
  web_lcp_agent: {
    name: 'web_lcp_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Largest contentful paint, agent page',
    definition:
      'Web vital of the agent console page, as first loaded (before log-in): Navigation start → startTime of the last `largest-contentful-paint` entry of the top document, read at the end of the session (the browser stops reporting candidates at the first input).',
  },
  web_cls_visitor: {
    name: 'web_cls_visitor',
    unit: 'ratio',
    scenarios: chat,
    kind: 'extra',
    description: 'Cumulative layout shift (unitless score), visitor page',
    definition:
      'Web vital of the visitor page (the site embedding the widget): Largest session window of `layout-shift` entry values without recent input (windows end after a 1 s gap or 5 s), top document, read at the end of the session. A score, not a time.',
  },
  web_cls_agent: {
    name: 'web_cls_agent',
    unit: 'ratio',
    scenarios: chat,
    kind: 'extra',
    description: 'Cumulative layout shift (unitless score), agent page',
    definition:
      'Web vital of the agent console page, as first loaded (before log-in): Largest session window of `layout-shift` entry values without recent input (windows end after a 1 s gap or 5 s), top document, read at the end of the session. A score, not a time.',
  },
  web_inp_visitor: {
    name: 'web_inp_visitor',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Interaction to next paint (worst interaction), visitor page',
    definition:
      'Web vital of the visitor page (the site embedding the widget): The longest Event Timing interaction (entries with an interactionId, observed from before the first script with `durationThreshold: 16`, plus the `first-input` entry): input → next paint, rounded by the browser to 8 ms. Visitor: the top document and the widget frame (where the visitor clicks and types); agent: the console document. Recorded only when an interaction was observed; when only interactions faster than 16 ms happened, the value is the `first-input` duration (below 16 ms).',
  },
  web_inp_agent: {
    name: 'web_inp_agent',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    description: 'Interaction to next paint (worst interaction), agent page',
    definition:
      'Web vital of the agent console page, as first loaded (before log-in): The longest Event Timing interaction (entries with an interactionId, observed from before the first script with `durationThreshold: 16`, plus the `first-input` entry): input → next paint, rounded by the browser to 8 ms. Visitor: the top document and the widget frame (where the visitor clicks and types); agent: the console document. Recorded only when an interaction was observed; when only interactions faster than 16 ms happened, the value is the `first-input` duration (below 16 ms).',
  },
  api_request: {
    name: 'api_request',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    byDetail: true,
    description: 'A request of an extra pattern the profile names (detail = pattern name)',
    definition:
      "CDP requestWillBeSent → loadingFinished of every request matching a `network.requests` pattern other than init, create, addMessage and cobrowseScript, in any frame; one sample per request seen during the session, detail = the pattern's name.",
  },
  api_server_wait: {
    name: 'api_server_wait',
    unit: 'ms',
    scenarios: chat,
    kind: 'extra',
    byDetail: true,
    description: 'Server wait of a profile-named request (detail = pattern name)',
    definition:
      "CDP ResourceTiming sendEnd → receiveHeadersStart (receiveHeadersEnd when absent): request fully sent → first byte of the response headers, for the requests recorded as api_init, api_create, api_add_message and api_request; detail = the pattern's name.",
  },
  crm_ws_reconnects: {
    name: 'crm_ws_reconnects',
    unit: 'count',
    scenarios: chat,
    kind: 'extra',
    description: 'CRM socket reconnects in the session',
    definition:
      "Engine.IO connections of the visitor's CRM socket after its first one (each new handshake without a sid), counted at the end of the session; one sample per session.",
  },
  crm_ws_closes: {
    name: 'crm_ws_closes',
    unit: 'count',
    scenarios: chat,
    kind: 'extra',
    description: 'CRM socket closes in the session',
    definition:
      "Connections of the visitor's CRM socket that closed during the session (close packet received, websocket closed after the upgrade, or a poll failed), counted at the end of the session; one sample per session.",
  },
  webrtc_ws_connect: {
    name: 'webrtc_ws_connect',
    unit: 'ms',
    scenarios: video,
    kind: 'core',
    description: 'WebRTC signaling socket connect',
    definition:
      "First request of the signaling socket (the profile's `webrtc` pattern) sent → the namespace-connect reply (`40…`, when socket.io's `connect` event fires) received, on whichever transport carries it.",
  },
  call_setup: {
    name: 'call_setup',
    unit: 'ms',
    scenarios: video,
    kind: 'core',
    description: 'Call setup',
    definition: 'Agent presses "start call" → RTCPeerConnection connectionState `connected` on the visitor side.',
  },
  first_frame_visitor: {
    name: 'first_frame_visitor',
    unit: 'ms',
    scenarios: video,
    kind: 'core',
    description: 'First decoded remote video frame, visitor side',
    definition: "Start call → first requestVideoFrameCallback on the visitor's remote video element.",
  },
  first_frame_agent: {
    name: 'first_frame_agent',
    unit: 'ms',
    scenarios: video,
    kind: 'core',
    description: 'First decoded remote video frame, agent side',
    definition: "Start call → first requestVideoFrameCallback on the agent's remote video element.",
  },
  rtc_rtt: {
    name: 'rtc_rtt',
    unit: 'ms',
    scenarios: video,
    kind: 'extra',
    description: 'Media round-trip time',
    definition: 'getStats() candidate-pair currentRoundTripTime × 1000, sampled during the call.',
  },
  rtc_jitter: {
    name: 'rtc_jitter',
    unit: 'ms',
    scenarios: video,
    kind: 'extra',
    description: 'Inbound video jitter',
    definition: 'getStats() inbound-rtp (video) jitter × 1000.',
  },
  rtc_packets_lost: {
    name: 'rtc_packets_lost',
    unit: 'count',
    scenarios: video,
    kind: 'extra',
    description: 'Inbound packets lost',
    definition: 'getStats() inbound-rtp packetsLost at the sample time.',
  },
  rtc_fps: {
    name: 'rtc_fps',
    unit: 'fps',
    scenarios: video,
    kind: 'extra',
    description: 'Decoded frames per second',
    definition: 'getStats() inbound-rtp (video) framesPerSecond.',
  },
  rtc_frames_dropped: {
    name: 'rtc_frames_dropped',
    unit: 'count',
    scenarios: video,
    kind: 'extra',
    description: 'Frames dropped',
    definition: 'getStats() inbound-rtp (video) framesDropped.',
  },
  cobrowse_script_load: {
    name: 'cobrowse_script_load',
    unit: 'ms',
    scenarios: cob,
    kind: 'core',
    description: 'Cobrowse script load',
    definition: "CDP requestWillBeSent → loadingFinished of the request matching the profile's `cobrowseScript` pattern.",
  },
  cobrowse_session_established: {
    name: 'cobrowse_session_established',
    unit: 'ms',
    scenarios: cob,
    kind: 'core',
    description: 'Cobrowse session established',
    definition: 'Agent presses "start cobrowse" → the visitor side confirms the session (its indicator is shown).',
  },
  cobrowse_first_snapshot: {
    name: 'cobrowse_first_snapshot',
    unit: 'ms',
    scenarios: cob,
    kind: 'core',
    description: "First snapshot in the agent's view",
    definition: 'Agent presses "start cobrowse" → the visitor page\'s DOM snapshot is rendered in the agent\'s mirror.',
  },
  cobrowse_mirror_lag: {
    name: 'cobrowse_mirror_lag',
    unit: 'ms',
    scenarios: cob,
    kind: 'core',
    description: 'Mirror lag',
    definition: "A change made on the visitor page → the same change visible in the agent's mirror (sampled several times per session).",
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export function isMetricName(s: string): s is MetricName {
  return Object.hasOwn(METRICS, s);
}

/** Samples of this metric with different details measure different things (MetricDef.byDetail). */
export function splitsByDetail(metric: string): boolean {
  return isMetricName(metric) && (METRICS[metric] as MetricDef).byDetail === true;
}

/** The core metrics a successful session of `scenario` records exactly once each. */
export function coreMetrics(scenario: ScenarioName): MetricName[] {
  return METRIC_NAMES.filter((n) => {
    const d: MetricDef = METRICS[n];
    return d.kind === 'core' && d.scenarios.includes(scenario);
  });
}

/** Core metrics a chat-load session records once per message exchange (exchange n ≥ 2 with detail `msg-<n>`). */
const PER_EXCHANGE: readonly MetricName[] = ['api_add_message', 'msg_visitor_to_agent', 'msg_agent_to_visitor'];

/**
 * How many samples of each core metric one successful session of `scenario`
 * records under these options, for exact-count checks (sessions × this):
 * once each, except chat-load's per-exchange metrics (`options.messages` times)
 * and cobrowse's `cobrowse_mirror_lag` (`options.mirrorSamples` times, detail
 * `sample-<i>`). Extra metrics (rtc_*, crm_ws_frame_rtt) are not counted.
 */
export function expectedSamples(
  scenario: ScenarioName,
  options: { readonly messages: number; readonly mirrorSamples: number },
): Partial<Record<MetricName, number>> {
  const out: Partial<Record<MetricName, number>> = {};
  for (const m of coreMetrics(scenario)) {
    if (scenario === 'chat-load' && PER_EXCHANGE.includes(m)) out[m] = options.messages;
    else if (scenario === 'cobrowse' && m === 'cobrowse_mirror_lag') out[m] = options.mirrorSamples;
    else out[m] = 1;
  }
  return out;
}
