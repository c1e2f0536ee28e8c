/**
 * Clock-offset estimation from round trips (NTP style). Pure.
 *
 * A sample is one `clock:sync` round trip: the asker's clock at send (t0) and
 * at reply (t1), and the peer's clock when it answered (peerNow). Assuming a
 * symmetric path, offset = peerNow − (t0 + t1) / 2, uncertain by ±rtt/2. The
 * sample with the smallest round trip is the least distorted by queueing.
 */
export interface ClockSample {
  readonly t0: number;
  readonly peerNow: number;
  readonly t1: number;
}

export interface ClockEstimate {
  /** Add to the local clock to get the peer's clock. */
  readonly offsetMs: number;
  readonly rttMs: number;
  /** Half the round trip: the error bound of the offset. */
  readonly uncertaintyMs: number;
}

export function estimateOffset(samples: readonly ClockSample[]): ClockEstimate {
  let best: ClockSample | undefined;
  for (const s of samples) {
    if (!(s.t1 >= s.t0)) continue; // a clock that went backwards: useless sample
    if (best === undefined || s.t1 - s.t0 < best.t1 - best.t0) best = s;
  }
  if (best === undefined) throw new RangeError('no usable clock samples (need at least one with t1 ≥ t0)');
  const rtt = best.t1 - best.t0;
  return { offsetMs: best.peerNow - (best.t0 + best.t1) / 2, rttMs: rtt, uncertaintyMs: rtt / 2 };
}

/** Convert a time on the peer's clock to the local clock. */
export function toLocalTime(peerTime: number, estimate: Pick<ClockEstimate, 'offsetMs'>): number {
  return peerTime - estimate.offsetMs;
}
