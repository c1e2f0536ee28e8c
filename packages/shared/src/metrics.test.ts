import { describe, expect, it } from 'vitest';
import { coreMetrics, expectedSamples } from './metrics.js';

describe('expectedSamples', () => {
  const opts = { messages: 3, mirrorSamples: 5 };
  it.each([
    [
      'chat-load',
      { page_load: 1, widget_load: 1, api_init: 1, api_create: 1, api_add_message: 3, crm_ws_connect: 1, msg_visitor_to_agent: 3, msg_agent_to_visitor: 3 },
    ],
    ['video-call', { page_load: 1, webrtc_ws_connect: 1, call_setup: 1, first_frame_visitor: 1, first_frame_agent: 1 }],
    ['cobrowse', { page_load: 1, cobrowse_script_load: 1, cobrowse_session_established: 1, cobrowse_first_snapshot: 1, cobrowse_mirror_lag: 5 }],
  ] as const)('%s', (scenario, want) => {
    expect(expectedSamples(scenario, opts)).toEqual(want);
    expect(Object.keys(expectedSamples(scenario, opts)).sort()).toEqual([...coreMetrics(scenario)].sort());
  });
  it('defaults (1 message, 3 mirror samples) give one of everything but the mirror lag', () => {
    expect(expectedSamples('cobrowse', { messages: 1, mirrorSamples: 3 }).cobrowse_mirror_lag).toBe(3);
    expect(Object.values(expectedSamples('chat-load', { messages: 1, mirrorSamples: 3 })).every((n) => n === 1)).toBe(true);
  });
});
