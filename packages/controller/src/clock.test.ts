import { describe, it, expect } from 'vitest';
import { estimateOffset, toLocalTime } from './clock.js';

describe('estimateOffset', () => {
  it.each([
    { name: 'same clock, 10 ms rtt', samples: [{ t0: 1000, peerNow: 1005, t1: 1010 }], offset: 0, rtt: 10 },
    { name: 'peer 500 ms ahead', samples: [{ t0: 1000, peerNow: 1505, t1: 1010 }], offset: 500, rtt: 10 },
    { name: 'peer 250 ms behind', samples: [{ t0: 1000, peerNow: 752, t1: 1004 }], offset: -250, rtt: 4 },
    {
      name: 'picks the min-RTT sample',
      samples: [{ t0: 0, peerNow: 150, t1: 100 }, { t0: 200, peerNow: 303, t1: 206 }, { t0: 300, peerNow: 480, t1: 340 }],
      offset: 100, rtt: 6,
    },
    { name: 'first of equal RTTs', samples: [{ t0: 0, peerNow: 12, t1: 4 }, { t0: 10, peerNow: 40, t1: 14 }], offset: 10, rtt: 4 },
    { name: 'skips a sample whose clock went backwards', samples: [{ t0: 100, peerNow: 0, t1: 90 }, { t0: 0, peerNow: 7, t1: 10 }], offset: 2, rtt: 10 },
  ])('$name', ({ samples, offset, rtt }) => {
    const e = estimateOffset(samples);
    expect(e.offsetMs).toBe(offset);
    expect(e.rttMs).toBe(rtt);
    expect(e.uncertaintyMs).toBe(rtt / 2);
  });
  it('throws without usable samples', () => {
    expect(() => estimateOffset([])).toThrow(RangeError);
    expect(() => estimateOffset([{ t0: 5, peerNow: 0, t1: 4 }])).toThrow(/no usable clock samples/);
  });
  it('converts a peer time to local', () => {
    expect(toLocalTime(10_500, { offsetMs: 500 })).toBe(10_000);
  });
});
