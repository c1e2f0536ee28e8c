import type { ScenarioName } from './scenarios.js';

/**
 * The metric catalog: every metric a scenario can record, its unit, and the
 * exact start and end events that define it. Names are stable: they are the
 * `metric` column in MySQL and the series names in Grafana.
 */
export type MetricUnit = 'ms' | 'count' | 'ratio' | 'fps' | 'bytes';

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
}

const chat = ['chat-load'] as const;
const video = ['video-call'] as const;
const cob = ['cobrowse'] as const;

export const METRICS = {
  page_load: {
    name: 'page_load', unit: 'ms', scenarios: ['chat-load', 'video-call', 'cobrowse'], kind: 'core',
    description: 'Visitor page load',
    definition: 'Navigation start → loadEventEnd of the visitor page (PerformanceNavigationTiming, browser monotonic clock).',
  },
  widget_load: {
    name: 'widget_load', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'Chat widget load, until usable',
    definition: 'Navigation start of the visitor page → the profile\'s "widget usable" condition first holds (selector visible inside the widget frame).',
  },
  api_init: {
    name: 'api_init', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'Widget API `init` request',
    definition: 'CDP Network.requestWillBeSent → Network.loadingFinished of the first request matching the profile\'s `init` pattern (in any frame, including the cross-origin widget).',
  },
  api_create: {
    name: 'api_create', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'Create-chat API request',
    definition: 'CDP requestWillBeSent → loadingFinished of the request matching the profile\'s `create` pattern.',
  },
  api_add_message: {
    name: 'api_add_message', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'Add-message API request (visitor\'s first message)',
    definition: 'CDP requestWillBeSent → loadingFinished of the first request matching the profile\'s `addMessage` pattern.',
  },
  crm_ws_connect: {
    name: 'crm_ws_connect', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'CRM realtime connect, as the client experiences it',
    definition: 'First request of the CRM socket (Socket.IO handshake, long-polling or websocket, matched by the profile\'s `crm` pattern) sent → the namespace-connect reply (`40…`, when socket.io\'s `connect` event fires) received, on whichever transport carries it. The sample\'s detail names the transport the client started with (polling | websocket).',
  },
  msg_visitor_to_agent: {
    name: 'msg_visitor_to_agent', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'Message delivery, visitor → agent console',
    definition: 'Visitor presses send (timeOrigin+now in the visitor page) → the message text is in the agent console DOM (timeOrigin+now in the agent page, same machine clock).',
  },
  msg_agent_to_visitor: {
    name: 'msg_agent_to_visitor', unit: 'ms', scenarios: chat, kind: 'core',
    description: 'Message delivery, agent console → visitor',
    definition: 'Agent presses send → the reply text is in the widget DOM (same clock as above).',
  },
  crm_ws_frame_rtt: {
    name: 'crm_ws_frame_rtt', unit: 'ms', scenarios: chat, kind: 'extra',
    description: 'CRM websocket frame round trip',
    definition: 'CDP webSocketFrameSent of a frame → webSocketFrameReceived of its matching reply (Socket.IO ack id or echoed id).',
  },
  webrtc_ws_connect: {
    name: 'webrtc_ws_connect', unit: 'ms', scenarios: video, kind: 'core',
    description: 'WebRTC signaling socket connect',
    definition: 'First request of the signaling socket sent → open packet received.',
  },
  call_setup: {
    name: 'call_setup', unit: 'ms', scenarios: video, kind: 'core',
    description: 'Call setup',
    definition: 'Agent presses "start call" → RTCPeerConnection connectionState `connected` on the visitor side.',
  },
  first_frame_visitor: {
    name: 'first_frame_visitor', unit: 'ms', scenarios: video, kind: 'core',
    description: 'First decoded remote video frame, visitor side',
    definition: 'Start call → first requestVideoFrameCallback on the visitor\'s remote video element.',
  },
  first_frame_agent: {
    name: 'first_frame_agent', unit: 'ms', scenarios: video, kind: 'core',
    description: 'First decoded remote video frame, agent side',
    definition: 'Start call → first requestVideoFrameCallback on the agent\'s remote video element.',
  },
  rtc_rtt: { name: 'rtc_rtt', unit: 'ms', scenarios: video, kind: 'extra', description: 'Media round-trip time', definition: 'getStats() candidate-pair currentRoundTripTime × 1000, sampled during the call.' },
  rtc_jitter: { name: 'rtc_jitter', unit: 'ms', scenarios: video, kind: 'extra', description: 'Inbound video jitter', definition: 'getStats() inbound-rtp (video) jitter × 1000.' },
  rtc_packets_lost: { name: 'rtc_packets_lost', unit: 'count', scenarios: video, kind: 'extra', description: 'Inbound packets lost', definition: 'getStats() inbound-rtp packetsLost at the sample time.' },
  rtc_fps: { name: 'rtc_fps', unit: 'fps', scenarios: video, kind: 'extra', description: 'Decoded frames per second', definition: 'getStats() inbound-rtp (video) framesPerSecond.' },
  rtc_frames_dropped: { name: 'rtc_frames_dropped', unit: 'count', scenarios: video, kind: 'extra', description: 'Frames dropped', definition: 'getStats() inbound-rtp (video) framesDropped.' },
  cobrowse_script_load: {
    name: 'cobrowse_script_load', unit: 'ms', scenarios: cob, kind: 'core',
    description: 'Cobrowse script load', definition: 'CDP requestWillBeSent → loadingFinished of the request matching the profile\'s `cobrowseScript` pattern.',
  },
  cobrowse_session_established: {
    name: 'cobrowse_session_established', unit: 'ms', scenarios: cob, kind: 'core',
    description: 'Cobrowse session established', definition: 'Agent presses "start cobrowse" → the visitor side confirms the session (its indicator is shown).',
  },
  cobrowse_first_snapshot: {
    name: 'cobrowse_first_snapshot', unit: 'ms', scenarios: cob, kind: 'core',
    description: 'First snapshot in the agent\'s view', definition: 'Agent presses "start cobrowse" → the visitor page\'s DOM snapshot is rendered in the agent\'s mirror.',
  },
  cobrowse_mirror_lag: {
    name: 'cobrowse_mirror_lag', unit: 'ms', scenarios: cob, kind: 'core',
    description: 'Mirror lag', definition: 'A change made on the visitor page → the same change visible in the agent\'s mirror (sampled several times per session).',
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

export function isMetricName(s: string): s is MetricName {
  return Object.hasOwn(METRICS, s);
}

/** The core metrics a successful session of `scenario` records exactly once each. */
export function coreMetrics(scenario: ScenarioName): MetricName[] {
  return METRIC_NAMES.filter((n) => {
    const d: MetricDef = METRICS[n];
    return d.kind === 'core' && d.scenarios.includes(scenario);
  });
}
