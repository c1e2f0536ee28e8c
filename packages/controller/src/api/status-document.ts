import type { FleetDirectory } from '../hub/fleet-directory.js';
import type { Daemon } from '../monitor/daemon.js';
import type { LoadTests } from './load-tests.js';

/**
 * `GET /api/v1/status` — what `controller status` prints: the agents (name,
 * labels, capacity, sessions held by rounds, connected, last seen), the checks
 * (next slot, last round per location, counts by status) and the runs in
 * progress (rounds and load tests). Times are UTC ISO strings.
 */
export interface StatusDocument {
  readonly controller: { readonly startedAt: string; readonly config: string | null; readonly loadTests: 'keep' | 'pause' | null };
  readonly agents: readonly {
    readonly agentId: string;
    readonly name: string;
    readonly location: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly capacity: Readonly<Record<string, number>>;
    readonly busy: Readonly<Record<string, number>>;
    readonly connected: boolean;
    readonly connectedAt: string;
    readonly lastSeenAt: string;
    readonly disconnectReason: string | null;
  }[];
  readonly checks: readonly {
    readonly name: string;
    readonly scenario: string;
    readonly intervalMs: number;
    readonly locations: readonly string[];
    readonly nextRoundAt: string | null;
    readonly running: readonly string[];
    readonly lastRounds: readonly {
      readonly location: string;
      readonly slotAt: string;
      readonly status: string;
      readonly runId: string | null;
      readonly reason: string | null;
      readonly sessions: { readonly planned: number; readonly ok: number; readonly failed: number };
    }[];
    readonly counts: Readonly<Record<string, number>>;
  }[];
  readonly runs: readonly { readonly runId: string; readonly kind: 'round' | 'load-test'; readonly startedAt: string; readonly detail: string }[];
  /** Alerts not ok (pending, firing, just resolved), firing first. */
  readonly alerts: readonly {
    readonly check: string;
    readonly location: string;
    readonly kind: string;
    readonly metric: string | null;
    readonly state: string;
    readonly severity: string | null;
    readonly since: string;
    readonly detail: string | null;
  }[];
}

const iso = (t: number) => new Date(t).toISOString();

export function statusDocument(p: {
  startedAt: number;
  configFile: string | null;
  daemon: Daemon | null;
  fleet: FleetDirectory | null;
  loadTests: LoadTests | null;
}): StatusDocument {
  const monitor = p.daemon?.monitor ?? null;
  return {
    controller: { startedAt: iso(p.startedAt), config: p.configFile, loadTests: p.daemon?.config.loadTests ?? null },
    agents: (p.fleet?.list() ?? []).map((a) => ({
      agentId: a.agentId,
      name: a.name,
      location: a.location,
      labels: a.labels,
      capacity: a.capacity,
      busy: Object.fromEntries(Object.keys(a.capacity).map((s) => [s, monitor?.held(a.agentId, s as keyof typeof a.capacity) ?? 0])),
      connected: a.connected,
      connectedAt: iso(a.connectedAt),
      lastSeenAt: iso(a.lastSeenAt),
      disconnectReason: a.disconnectReason,
    })),
    checks: (monitor?.status() ?? []).map((c) => ({
      name: c.name,
      scenario: c.scenario,
      intervalMs: c.intervalMs,
      locations: c.locations,
      nextRoundAt: c.nextSlotAt === null ? null : iso(c.nextSlotAt),
      running: c.running,
      lastRounds: c.last.map((r) => ({
        location: r.location,
        slotAt: iso(r.slotAt),
        status: r.status,
        runId: r.runId,
        reason: r.reason,
        sessions: r.sessions,
      })),
      counts: c.counts,
    })),
    alerts: (p.daemon?.alerts.states() ?? [])
      .filter((a) => a.state !== 'ok')
      .sort((a, b) => Number(b.state === 'firing') - Number(a.state === 'firing') || a.since - b.since)
      .map((a) => ({
        check: a.check,
        location: a.location,
        kind: a.kind,
        metric: a.metric,
        state: a.state,
        severity: a.severity,
        since: iso(a.since),
        detail: a.detail,
      })),
    runs: [
      ...(monitor?.running() ?? []).map((r) => ({
        runId: r.runId,
        kind: 'round' as const,
        startedAt: iso(r.startedAt),
        detail: `${r.check} in ${r.location} on ${r.agents.join(', ')}`,
      })),
      ...(p.loadTests?.running() ?? []).map((r) => ({
        runId: r.runId,
        kind: 'load-test' as const,
        startedAt: iso(r.startedAt),
        detail: `${r.total} ${r.scenario} session(s)`,
      })),
    ],
  };
}
