/*
 * Pure reading of RTCPeerConnection.getStats() reports (as plain objects), and
 * the sampling schedule of a call. See video-call.ts for what is recorded.
 */

/** One stats report: `id`, `type` and the type's fields (W3C webrtc-stats). */
export type StatsReport = Readonly<Record<string, unknown>> & { readonly id: string; readonly type: string };

export interface RtcSample {
  /** Selected candidate pair currentRoundTripTime × 1000. */
  readonly rttMs: number | undefined;
  /** Inbound video jitter × 1000. */
  readonly jitterMs: number | undefined;
  readonly packetsLost: number | undefined;
  readonly fps: number | undefined;
  readonly framesDropped: number | undefined;
  /** Candidate types of the selected pair ('host' | 'srflx' | 'prflx' | 'relay'). */
  readonly localType: string | undefined;
  readonly remoteType: string | undefined;
}

function num(r: StatsReport | undefined, key: string): number | undefined {
  const v = r?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(r: StatsReport | undefined, key: string): string | undefined {
  const v = r?.[key];
  return typeof v === 'string' ? v : undefined;
}

/** The selected candidate pair: the transport's selectedCandidatePairId, else a nominated succeeded pair. */
export function selectedPair(reports: readonly StatsReport[]): StatsReport | undefined {
  const byId = new Map(reports.map((r) => [r.id, r]));
  for (const t of reports) {
    if (t.type !== 'transport') continue;
    const id = str(t, 'selectedCandidatePairId');
    const pair = id === undefined ? undefined : byId.get(id);
    if (pair) return pair;
  }
  return reports.find((r) => r.type === 'candidate-pair' && r['nominated'] === true && r['state'] === 'succeeded');
}

/** Summarise one getStats() result. Fields a report lacks (e.g. fps before the first frame) are undefined. */
export function summarizeStats(reports: readonly StatsReport[]): RtcSample {
  const byId = new Map(reports.map((r) => [r.id, r]));
  const pair = selectedPair(reports);
  const local = byId.get(str(pair, 'localCandidateId') ?? '');
  const remote = byId.get(str(pair, 'remoteCandidateId') ?? '');
  const video = reports.find((r) => r.type === 'inbound-rtp' && (r['kind'] === 'video' || r['mediaType'] === 'video'));
  const rtt = num(pair, 'currentRoundTripTime');
  const jitter = num(video, 'jitter');
  return {
    rttMs: rtt === undefined ? undefined : rtt * 1000,
    jitterMs: jitter === undefined ? undefined : jitter * 1000,
    packetsLost: num(video, 'packetsLost'),
    fps: num(video, 'framesPerSecond'),
    framesDropped: num(video, 'framesDropped'),
    localType: str(local, 'candidateType'),
    remoteType: str(remote, 'candidateType'),
  };
}

/** Interval between getStats() samples during a call. */
export const RTC_STATS_INTERVAL_MS = 1_000;

/**
 * When to sample, in ms after the call connected: n = max(1, round(duration / interval))
 * samples spread evenly, the last at the end of the call (at 0 for a zero-length call).
 */
export function statsSchedule(durationMs: number, intervalMs = RTC_STATS_INTERVAL_MS): number[] {
  const n = Math.max(1, Math.round(durationMs / intervalMs));
  return Array.from({ length: n }, (_, i) => Math.round(((i + 1) * durationMs) / n));
}

/** Sample `detail`: which side and the selected pair's candidate types, e.g. `visitor host/host` (TURN shows as relay). */
export function statsDetail(side: 'visitor' | 'agent', s: Pick<RtcSample, 'localType' | 'remoteType'>): string {
  return `${side} ${s.localType ?? 'unknown'}/${s.remoteType ?? 'unknown'}`;
}
