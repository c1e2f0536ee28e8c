import { describe, expect, it } from 'vitest';
import { filterSdp, keepCandidate } from './candidates.js';

const HOST = 'candidate:634354162 1 udp 2113937151 198.18.0.1 34083 typ host generation 0 ufrag YwTW network-cost 999';

describe('ICE candidate filter (ice knob)', () => {
  it.each([
    ['all', HOST, true],
    ['drop', HOST, false],
    ['all', '', true],
    ['drop', '', true], // end of candidates always passes
  ] as const)('%s keeps %j: %s', (mode, line, want) => {
    expect(keepCandidate(mode, line)).toBe(want);
  });

  const sdp = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', `a=${HOST}`, 'a=end-of-candidates', 'a=mid:0', ''].join('\r\n');
  it('drop removes the candidate lines from SDP and nothing else', () => {
    expect(filterSdp('drop', sdp)).toBe(
      ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 'm=video 9 UDP/TLS/RTP/SAVPF 96', 'a=end-of-candidates', 'a=mid:0', ''].join('\r\n'),
    );
  });
  it('all leaves SDP untouched, with either line ending', () => {
    expect(filterSdp('all', sdp)).toBe(sdp);
    expect(filterSdp('drop', sdp.replaceAll('\r\n', '\n'))).not.toContain('a=candidate:');
  });
});
