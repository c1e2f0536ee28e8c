import type { PlannedSession } from '@userprobe/shared';
import type { AgentShare } from './planner.js';

/*
 * The ramp schedule: when each of the cluster's N sessions starts, and which
 * agent runs it. Pure.
 *
 * Session i (0-based) of N starts at floor(i × rampUp / N) ms after the agreed
 * start, so starts are evenly spread over [0, rampUp). Sessions are dealt to
 * agents interleaved: agent j's k-th session (of its share S_j) sits at the
 * ideal position (k + ½) × N / S_j; positions are sorted (ties → smaller
 * agentId), so every agent's sessions are spread over the whole ramp.
 */

export function startOffsets(n: number, rampUpMs: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`session count must be a whole number ≥ 0, got ${n}`);
  if (!(rampUpMs >= 0)) throw new RangeError(`ramp-up must be ≥ 0 ms, got ${rampUpMs}`);
  return Array.from({ length: n }, (_, i) => Math.floor((i * rampUpMs) / n));
}

/** `s0001`…: zero-padded to at least 4 digits, more when N needs it. */
export function sessionId(index: number, n: number): string {
  const width = Math.max(4, String(n).length);
  return `s${String(index + 1).padStart(width, '0')}`;
}

export function assignSessions(shares: readonly AgentShare[], rampUpMs: number): Map<string, PlannedSession[]> {
  const n = shares.reduce((s, a) => s + a.sessions, 0);
  const offsets = startOffsets(n, rampUpMs);
  const slots: { agentId: string; pos: number }[] = [];
  for (const a of shares) {
    for (let k = 0; k < a.sessions; k++) slots.push({ agentId: a.agentId, pos: ((k + 0.5) * n) / a.sessions });
  }
  slots.sort((x, y) => x.pos - y.pos || (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0));
  const out = new Map<string, PlannedSession[]>(shares.map((a) => [a.agentId, []]));
  slots.forEach((slot, i) => {
    out.get(slot.agentId)!.push({ sessionId: sessionId(i, n), startOffsetMs: offsets[i]! });
  });
  return out;
}
