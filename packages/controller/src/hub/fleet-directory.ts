import type { Capacity } from '@userprobe/shared';
import type { AgentHandle, AgentPool } from './agent-pool.js';

/*
 * The standing fleet as the operator sees it (`controller status`): every
 * agent that connected since the controller started, with when it connected,
 * when it was last heard from and, once gone, why. Bounded: agents gone for
 * longer than `forgetAfterMs` are dropped.
 */

export interface FleetEntry {
  readonly agentId: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly location: string;
  readonly capacity: Capacity;
  readonly connected: boolean;
  readonly connectedAt: number;
  readonly lastSeenAt: number;
  readonly disconnectReason: string | null;
}

export const FLEET_FORGET_AFTER_MS = 24 * 3_600_000;

export class FleetDirectory {
  readonly #entries = new Map<string, FleetEntry>();
  readonly #now: () => number;
  readonly #detach: () => void;
  readonly #forgetAfterMs: number;

  constructor(pool: AgentPool, now: () => number = Date.now, forgetAfterMs = FLEET_FORGET_AFTER_MS) {
    this.#now = now;
    this.#forgetAfterMs = forgetAfterMs;
    const seen = (agentId: string) => {
      const e = this.#entries.get(agentId);
      if (e) this.#entries.set(agentId, { ...e, lastSeenAt: this.#now() });
    };
    const onConnected = (h: AgentHandle) => {
      const t = this.#now();
      this.#entries.set(h.info.agentId, {
        agentId: h.info.agentId,
        name: h.info.name,
        labels: h.info.labels,
        location: h.info.location,
        capacity: h.info.capacity,
        connected: true,
        connectedAt: t,
        lastSeenAt: t,
        disconnectReason: null,
      });
    };
    const onDisconnected = (g: { agentId: string; reason: string }) => {
      const e = this.#entries.get(g.agentId);
      if (e) this.#entries.set(g.agentId, { ...e, connected: false, lastSeenAt: this.#now(), disconnectReason: g.reason });
    };
    const onAny = (agentId: string) => seen(agentId);
    const onBatch = (e: { agentId: string }) => seen(e.agentId);
    pool.on('agent:connected', onConnected);
    pool.on('agent:disconnected', onDisconnected);
    pool.on('progress', onAny);
    pool.on('status', onAny);
    pool.on('finished', onAny);
    pool.on('batch', onBatch);
    for (const a of pool.agents()) onConnected(a);
    this.#detach = () => {
      pool.off('agent:connected', onConnected);
      pool.off('agent:disconnected', onDisconnected);
      pool.off('progress', onAny);
      pool.off('status', onAny);
      pool.off('finished', onAny);
      pool.off('batch', onBatch);
    };
  }

  list(): readonly FleetEntry[] {
    const now = this.#now();
    for (const [id, e] of this.#entries) if (!e.connected && now - e.lastSeenAt > this.#forgetAfterMs) this.#entries.delete(id);
    return [...this.#entries.values()].sort((a, b) => (a.location === b.location ? a.name.localeCompare(b.name) : a.location.localeCompare(b.location)));
  }

  close(): void {
    this.#detach();
  }
}
