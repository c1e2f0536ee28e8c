import type { Logger } from 'pino';
import type { RoundReport, RoundStatus, ScenarioName } from '@userprobe/shared';
import { describeError } from '@userprobe/shared';
import type { AgentHandle, AgentPool } from '../hub/agent-pool.js';
import type { RunOutcome } from '../run/coordinator.js';
import { agentInLocation, locationsOf, type CheckConfig } from './monitor-config.js';
import { pickAgents, type AgentPick } from './rotation.js';
import { decideSlot, gridOf, missedSlots, nextSlot, slotAfter, type Grid } from './schedule.js';

/*
 * The scheduler of `controller serve --config`: each check's rounds on its
 * grid (schedule.ts), each round one run per location over the agents the
 * rotation picks (rotation.ts) from the standing fleet. A location without an
 * agent is a gap record, a slot that comes while the check's previous round
 * runs is skipped (counted), a slot whose time passed is missed (never
 * replayed). Every decision is a RoundReport handed to `recordRound`.
 */

export interface RoundStart {
  readonly check: CheckConfig;
  readonly location: string;
  readonly runId: string;
  readonly slotAt: number;
  readonly picks: readonly AgentPick[];
  readonly sessions: number;
}

export interface RoundHandle {
  abort(reason: string): void;
  readonly outcome: Promise<RunOutcome>;
}

export interface MonitorDeps {
  readonly pool: AgentPool;
  readonly log: Logger;
  readonly now?: () => number;
  /** Start one location's run of a round (the daemon builds it: target, sinks, coordinator over a view of the picked agents). */
  readonly runRound: (r: RoundStart) => Promise<RoundHandle>;
  /** Make a round's report durable (results folder, MySQL). */
  readonly recordRound: (r: RoundReport) => Promise<void>;
  /** The target's name for reports (profile name), known once the target is resolved. */
  readonly targetName: (check: CheckConfig) => string;
}

export interface CheckStatus {
  readonly name: string;
  readonly scenario: ScenarioName;
  readonly intervalMs: number;
  readonly locations: readonly string[];
  readonly nextSlotAt: number | null;
  readonly running: readonly string[];
  readonly last: readonly RoundReport[];
  readonly counts: Readonly<Record<RoundStatus, number>>;
}

interface InFlight {
  readonly runId: string;
  readonly check: string;
  readonly location: string;
  readonly slotAt: number;
  readonly startedAt: number;
  readonly handle: RoundHandle | null;
  readonly picks: readonly AgentPick[];
  readonly scenario: ScenarioName;
}

interface CheckState {
  check: CheckConfig;
  grid: Grid;
  timer: NodeJS.Timeout | null;
  nextSlotAt: number | null;
  /** Per location: the agent id the last round began with. */
  readonly cursors: Map<string, string>;
  /** Per location: the last report. */
  readonly last: Map<string, RoundReport>;
  readonly counts: Record<RoundStatus, number>;
  removed: boolean;
}

const zeroCounts = (): Record<RoundStatus, number> => ({ ok: 0, failed: 0, gap: 0, skipped: 0, missed: 0, 'not-run': 0 });

export class Monitor {
  readonly #d: MonitorDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #checks = new Map<string, CheckState>();
  readonly #inFlight = new Map<string, InFlight>();
  /** Sessions each agent holds for running rounds, by scenario. */
  readonly #held = new Map<string, Map<ScenarioName, number>>();
  #paused = 0;
  #stopped = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(deps: MonitorDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'monitor' });
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Run these checks from now on: new ones are scheduled from their next slot,
   * removed ones stop scheduling (a round of theirs still running finishes),
   * changed ones keep their rotation and go on at the next slot of their new grid.
   */
  apply(checks: readonly CheckConfig[]): { added: string[]; removed: string[]; changed: string[] } {
    const out = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
    const wanted = new Map(checks.map((c) => [c.name, c]));
    for (const [name, st] of this.#checks) {
      if (wanted.has(name)) continue;
      this.#clear(st);
      st.removed = true;
      this.#checks.delete(name);
      out.removed.push(name);
    }
    for (const check of checks) {
      const st = this.#checks.get(check.name);
      if (st === undefined) {
        const fresh: CheckState = {
          check,
          grid: gridOf(check.name, check.intervalMs),
          timer: null,
          nextSlotAt: null,
          cursors: new Map(),
          last: new Map(),
          counts: zeroCounts(),
          removed: false,
        };
        this.#checks.set(check.name, fresh);
        out.added.push(check.name);
        if (!this.#stopped) this.#arm(fresh, nextSlot(fresh.grid, this.#now()));
        continue;
      }
      if (JSON.stringify(st.check) === JSON.stringify(check)) continue;
      this.#clear(st);
      st.check = check;
      st.grid = gridOf(check.name, check.intervalMs);
      out.changed.push(check.name);
      if (!this.#stopped) this.#arm(st, nextSlot(st.grid, this.#now()));
    }
    return out;
  }

  /** No new rounds until resume() (as many resumes as pauses); rounds running go on. Their slots are recorded as skipped. */
  pause(): void {
    this.#paused += 1;
  }

  resume(): void {
    this.#paused = Math.max(0, this.#paused - 1);
  }

  /** Sessions of `scenario` this agent holds for running rounds. */
  held(agentId: string, scenario: ScenarioName): number {
    return this.#held.get(agentId)?.get(scenario) ?? 0;
  }

  /** The sessions checks may need on an agent at any moment: per scenario, the sessions per location of the checks whose locations include it. */
  reserve(agent: AgentHandle, scenario: ScenarioName): number {
    let n = 0;
    for (const { check } of this.#checks.values()) {
      if (check.scenario !== scenario) continue;
      if (locationsOf(check).some((l) => agentInLocation(check, agent.info.labels, l))) n += check.sessionsPerLocation;
    }
    return Math.max(n, this.held(agent.info.agentId, scenario));
  }

  status(): readonly CheckStatus[] {
    return [...this.#checks.values()].map((st) => ({
      name: st.check.name,
      scenario: st.check.scenario,
      intervalMs: st.check.intervalMs,
      locations: locationsOf(st.check),
      nextSlotAt: st.nextSlotAt,
      running: [...this.#inFlight.values()].filter((f) => f.check === st.check.name).map((f) => f.runId),
      last: [...st.last.values()],
      counts: { ...st.counts },
    }));
  }

  /** Runs of rounds in progress. */
  running(): readonly { runId: string; check: string; location: string; slotAt: number; startedAt: number; agents: readonly string[] }[] {
    return [...this.#inFlight.values()].map((f) => ({
      runId: f.runId,
      check: f.check,
      location: f.location,
      slotAt: f.slotAt,
      startedAt: f.startedAt,
      agents: f.picks.map((p) => p.name),
    }));
  }

  /** Abort one round's run by id; false when no round of that id runs. */
  abortRun(runId: string, reason: string): boolean {
    const f = this.#inFlight.get(runId);
    if (!f?.handle) return false;
    f.handle.abort(reason);
    return true;
  }

  /**
   * Graceful stop: no new rounds; rounds running get `graceMs` to finish, then
   * are aborted; resolves when every round's report is recorded.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    for (const st of this.#checks.values()) this.#clear(st);
    const settle = () => Promise.allSettled([...this.#pending]);
    if (this.#inFlight.size > 0) {
      const timer = setTimeout(() => {
        for (const f of this.#inFlight.values()) f.handle?.abort('the controller is shutting down');
      }, graceMs);
      await settle();
      clearTimeout(timer);
    }
    await settle();
  }

  #clear(st: CheckState): void {
    if (st.timer) clearTimeout(st.timer);
    st.timer = null;
    st.nextSlotAt = null;
  }

  #arm(st: CheckState, slotAt: number): void {
    st.nextSlotAt = slotAt;
    st.timer = setTimeout(() => this.#fire(st, slotAt), Math.max(0, slotAt - this.#now()));
  }

  #fire(st: CheckState, slotAt: number): void {
    st.timer = null;
    if (st.removed || this.#stopped) return;
    const now = this.#now();
    // A timer may fire a millisecond early by the wall clock: a round never starts before its slot.
    if (now < slotAt) {
      st.timer = setTimeout(() => this.#fire(st, slotAt), slotAt - now);
      return;
    }
    // The next slot on the grid, whatever this one becomes: never a burst of catch-up rounds.
    const late = now - slotAt > 0 && missedSlots(st.grid, slotAt, now) > 0;
    this.#arm(st, late ? nextSlot(st.grid, now) : slotAfter(st.grid, slotAt));
    // Each location's run is its own: a location whose previous round still runs (an agent lost, its grace running) skips, the others start.
    for (const location of locationsOf(st.check)) {
      const previousRunning = [...this.#inFlight.values()].some((f) => f.check === st.check.name && f.location === location);
      const decision = decideSlot({ slotAt, now, intervalMs: st.grid.intervalMs, previousRunning, paused: this.#paused > 0 });
      if (decision.kind === 'missed') {
        const n = missedSlots(st.grid, slotAt, now);
        this.#log.warn(
          { check: st.check.name, location, slotAt, lateMs: now - slotAt, missed: n },
          'slot(s) missed: the controller could not start them on time; not replayed',
        );
        this.#report(
          st,
          this.#bare(st, location, slotAt, 'missed', `${n} slot(s) passed before they could start (controller stalled or restarted); not replayed`),
        );
      } else if (decision.kind === 'skip') {
        this.#report(
          st,
          this.#bare(
            st,
            location,
            slotAt,
            'skipped',
            decision.reason === 'paused' ? 'checks are paused while a load test runs' : `the previous round of this check in ${location} is still running`,
          ),
        );
      } else {
        this.#startLocation(st, location, slotAt);
      }
    }
  }

  #startLocation(st: CheckState, location: string, slotAt: number): void {
    const check = st.check;
    const agents = this.#d.pool
      .agents()
      .filter((a) => agentInLocation(check, a.info.labels, location))
      .map((a) => ({
        agentId: a.info.agentId,
        name: a.info.name,
        free: Math.max(0, a.info.capacity[check.scenario] - this.held(a.info.agentId, check.scenario)),
      }));
    const pick = pickAgents({ location, agents, sessions: check.sessionsPerLocation, cursor: st.cursors.get(location) ?? null });
    if (pick.kind === 'gap') {
      this.#report(st, this.#bare(st, location, slotAt, 'gap', pick.reason));
      return;
    }
    st.cursors.set(location, pick.cursor);
    const runId = roundRunId(check.name, location, slotAt);
    const startedAt = this.#now();
    for (const p of pick.agents) this.#hold(p.agentId, check.scenario, p.sessions);
    const flight: { -readonly [K in keyof InFlight]: InFlight[K] } = {
      runId,
      check: check.name,
      location,
      slotAt,
      startedAt,
      handle: null,
      picks: pick.agents,
      scenario: check.scenario,
    };
    this.#inFlight.set(runId, flight);
    this.#log.info({ check: check.name, location, runId, lateMs: startedAt - slotAt, agents: pick.agents.map((p) => p.name) }, 'round started');
    const done = (async (): Promise<void> => {
      let outcome: RunOutcome | null = null;
      let failure: unknown = null;
      try {
        const handle = await this.#d.runRound({ check, location, runId, slotAt, picks: pick.agents, sessions: pick.sessions });
        flight.handle = handle;
        if (this.#stopped) handle.abort('the controller is shutting down');
        outcome = await handle.outcome;
      } catch (e) {
        failure = e;
        this.#log.error({ check: check.name, location, runId, err: describeError(e) }, 'round could not run');
      } finally {
        this.#inFlight.delete(runId);
        for (const p of pick.agents) this.#hold(p.agentId, check.scenario, -p.sessions);
      }
      this.#report(
        st,
        reportOf({
          check,
          location,
          slotAt,
          startedAt,
          endedAt: this.#now(),
          runId,
          targetName: this.#d.targetName(check),
          picks: pick.agents,
          planned: pick.sessions,
          outcome,
          failure,
        }),
      );
    })();
    this.#track(done);
  }

  #hold(agentId: string, scenario: ScenarioName, n: number): void {
    const m = this.#held.get(agentId) ?? new Map<ScenarioName, number>();
    m.set(scenario, Math.max(0, (m.get(scenario) ?? 0) + n));
    this.#held.set(agentId, m);
  }

  #bare(st: CheckState, location: string, slotAt: number, status: RoundStatus, reason: string): RoundReport {
    return {
      check: st.check.name,
      location,
      slotAt,
      startedAt: null,
      endedAt: this.#now(),
      status,
      runId: null,
      scenario: st.check.scenario,
      targetName: this.#d.targetName(st.check),
      agents: [],
      sessions: { planned: 0, ok: 0, failed: 0 },
      reason,
      failedStep: null,
      exitCode: null,
    };
  }

  #report(st: CheckState, r: RoundReport): void {
    st.counts[r.status] += 1;
    st.last.set(r.location, r);
    const level = r.status === 'ok' || r.status === 'skipped' ? 'info' : 'warn';
    this.#log[level]({ check: r.check, location: r.location, status: r.status, runId: r.runId, reason: r.reason }, 'round recorded');
    this.#track(
      this.#d
        .recordRound(r)
        .catch((e: unknown) => this.#log.error({ check: r.check, location: r.location, err: describeError(e) }, 'round report could not be stored')),
    );
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}

/** `chat.ams3.20261129T194500Z`: check, location and slot, unique per round and location, within the 64 characters a run id may have. */
export function roundRunId(check: string, location: string, slotAt: number): string {
  const loc = location.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 13);
  const stamp = new Date(slotAt)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${check}.${loc}.${stamp}`;
}

/** Pure: a round's report from its run's outcome (or the error that kept it from running). */
export function reportOf(p: {
  check: CheckConfig;
  location: string;
  slotAt: number;
  startedAt: number;
  endedAt: number;
  runId: string;
  targetName: string;
  picks: readonly AgentPick[];
  planned: number;
  outcome: RunOutcome | null;
  failure: unknown;
}): RoundReport {
  const base = {
    check: p.check.name,
    location: p.location,
    slotAt: p.slotAt,
    startedAt: p.startedAt,
    endedAt: p.endedAt,
    runId: p.runId,
    scenario: p.check.scenario,
    targetName: p.targetName,
    agents: p.picks.map((a) => a.name),
  };
  if (p.outcome === null) {
    return {
      ...base,
      status: 'not-run',
      sessions: { planned: p.planned, ok: 0, failed: 0 },
      reason: errorMessage(p.failure),
      failedStep: null,
      exitCode: null,
    };
  }
  const o = p.outcome;
  if (o.kind === 'not-run') {
    return { ...base, status: 'not-run', sessions: { planned: p.planned, ok: 0, failed: 0 }, reason: o.error.message, failedStep: null, exitCode: o.exitCode };
  }
  const s = o.summary.sessions;
  const top = o.summary.failedSteps[0] ?? null;
  const failed = s.failed + s.aborted + s.lost + s.notRun + s.missing;
  const ok = o.exitCode === 0;
  const parts = [
    s.failed > 0 ? `${s.failed} failed${top ? ` (${top.count} at step ${top.step})` : ''}` : '',
    s.aborted > 0 ? `${s.aborted} aborted` : '',
    s.lost > 0 ? `${s.lost} lost with their agent` : '',
    s.notRun > 0 ? `${s.notRun} not run` : '',
    s.missing > 0 ? `${s.missing} without a record` : '',
  ].filter((x) => x !== '');
  const reason = ok
    ? null
    : [`${parts.length ? parts.join(', ') : 'not every session ended ok'} of ${p.planned} session(s)`, o.error?.message].filter(Boolean).join(': ');
  return { ...base, status: ok ? 'ok' : 'failed', sessions: { planned: p.planned, ok: s.ok, failed }, reason, failedStep: top, exitCode: o.exitCode };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
