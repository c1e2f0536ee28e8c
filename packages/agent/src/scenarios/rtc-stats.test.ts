import { describe, expect, it } from 'vitest';
import { selectedPair, statsDetail, statsSchedule, summarizeStats, type StatsReport } from './rtc-stats.js';

const r = (id: string, type: string, fields: Record<string, unknown> = {}): StatsReport => ({ id, type, ...fields });

const CALL: StatsReport[] = [
  r('T1', 'transport', { selectedCandidatePairId: 'CP2' }),
  r('CP1', 'candidate-pair', { localCandidateId: 'L1', remoteCandidateId: 'R1', nominated: true, state: 'succeeded', currentRoundTripTime: 0.9 }),
  r('CP2', 'candidate-pair', { localCandidateId: 'L2', remoteCandidateId: 'R2', nominated: true, state: 'succeeded', currentRoundTripTime: 0.012 }),
  r('L1', 'local-candidate', { candidateType: 'host' }),
  r('R1', 'remote-candidate', { candidateType: 'host' }),
  r('L2', 'local-candidate', { candidateType: 'relay' }),
  r('R2', 'remote-candidate', { candidateType: 'srflx' }),
  r('IA', 'inbound-rtp', { kind: 'audio', jitter: 0.5, packetsLost: 99 }),
  r('IV', 'inbound-rtp', { kind: 'video', jitter: 0.004, packetsLost: 3, framesPerSecond: 30, framesDropped: 2 }),
];

describe('summarizeStats', () => {
  it("reads the transport's selected pair, its candidate types and the inbound video", () => {
    expect(summarizeStats(CALL)).toEqual({ rttMs: 12, jitterMs: 4, packetsLost: 3, fps: 30, framesDropped: 2, localType: 'relay', remoteType: 'srflx' });
  });
  it('falls back to a nominated succeeded pair when no transport names one', () => {
    expect(selectedPair(CALL.filter((x) => x.type !== 'transport'))?.id).toBe('CP1');
  });
  it('leaves out what the reports lack (no RTT yet, no frames yet, no video)', () => {
    expect(summarizeStats([r('CP', 'candidate-pair', { nominated: true, state: 'succeeded' })])).toEqual({
      rttMs: undefined,
      jitterMs: undefined,
      packetsLost: undefined,
      fps: undefined,
      framesDropped: undefined,
      localType: undefined,
      remoteType: undefined,
    });
    expect(summarizeStats([])).toMatchObject({ rttMs: undefined, localType: undefined });
  });
  it('accepts mediaType (older reports) for the video stream and ignores non-numbers', () => {
    expect(summarizeStats([r('V', 'inbound-rtp', { mediaType: 'video', jitter: '1', packetsLost: 0, framesPerSecond: Number.NaN })])).toMatchObject({
      jitterMs: undefined,
      packetsLost: 0,
      fps: undefined,
    });
  });
});

describe('statsSchedule', () => {
  it.each([
    [0, [0]],
    [400, [400]],
    [1_000, [1_000]],
    [5_000, [1_000, 2_000, 3_000, 4_000, 5_000]],
    [2_500, [833, 1_667, 2_500]],
    [1_600, [800, 1_600]],
  ])('%i ms → %j', (duration, want) => {
    expect(statsSchedule(duration)).toEqual(want);
  });
});

describe('statsDetail', () => {
  it("names the side and the pair's candidate types (TURN is visible as relay)", () => {
    expect(statsDetail('visitor', { localType: 'host', remoteType: 'host' })).toBe('visitor host/host');
    expect(statsDetail('agent', { localType: 'relay', remoteType: undefined })).toBe('agent relay/unknown');
  });
});
