import type { Logger } from 'pino';
import {
  ASSIGN_ACK_TIMEOUT_MS,
  RESUME_ACK_TIMEOUT_MS,
  describeError,
  type Assignment,
  type PlannedSession,
  type RunFinished,
  type ScenarioName,
  type SessionProgress,
} from '@userprobe/shared';
import type { AgentHandle, AgentPool } from '../hub/agent-pool.js';
import type { IngestedEvent } from '../hub/ingest.js';
import type { Progress } from './progress.js';
import { parseSessionId } from './session-ids.js';
import { step, type Command, type EndReason, type MachineEvent, type MachineState, type TimerKey } from './run-machine.js';

export interface RunDriverDeps {
  readonly pool: AgentPool;
  readonly progress: Progress;
  readonly log: Logger;
  readonly now: () => number;
  readonly scenario: ScenarioName;
  /** The full assignment of a part (profile, options…) for the machine's sessions. */
  readonly assignment: (part: { agentId: string; part: number; sessions: readonly PlannedSession[]; startAt: number; durationMs: number | null }) => Assignment;
  /** Write the run's state (run-state.json and the hub's registry); failures are logged, the run goes on. */
  readonly persist: (state: MachineState) => Promise<void>;
  /** Extending the bound also moves the deadline the state file records. */
  readonly onDeadline?: (deadlineAt: number) => void;
}

/**
 * Carries out what the run machine decides and feeds it what happens: the
 * agent pool's events in, assignments, revocations, aborts and timers out.
 * Events are handled one at a time, in order (a decision's consequences that
 * arrive later — an assignment's reply — come back as events).
 */
export class RunDriver {
  readonly #d: RunDriverDeps;
  readonly #timers = new Map<TimerKey, { timer: NodeJS.Timeout; at: number }>();
  readonly #queue: MachineEvent[] = [];
  readonly #unsubscribe: Array<() => void> = [];
  #state: MachineState;
  #busy = false;
  #persisting: Promise<void> = Promise.resolve();
  /** A state write is queued and has not begun: a later persist command is covered by it. */
  #persistQueued = false;
  #resolve: (r: EndReason) => void = () => undefined;
  readonly ended: Promise<EndReason>;

  constructor(state: MachineState, d: RunDriverDeps) {
    this.#state = state;
    this.#d = d;
    this.ended = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get state(): MachineState {
    return this.#state;
  }

  /** Subscribe to the pool, carry out the machine's first commands, and arm the run's bound. */
  start(first: readonly Command[], boundMs: number): Promise<EndReason> {
    const runId = this.#state.config.runId;
    const { pool } = this.#d;
    const on = <E extends Parameters<AgentPool['on']>[0]>(event: E, fn: Parameters<AgentPool['on']>[1]): void => {
      pool.on(event, fn);
      this.#unsubscribe.push(() => pool.off(event, fn));
    };
    on('progress', ((agentId: string, p: SessionProgress) => {
      if (p.runId !== runId) return;
      const a = this.#state.agents.get(agentId);
      if (a) this.#d.progress.session(a.name, p.phase);
      this.dispatch({ kind: 'progress', agentId, sessionId: p.sessionId, phase: p.phase });
    }) as never);
    on('batch', ((e: IngestedEvent) => {
      if (e.runId === runId) this.dispatch({ kind: 'batch', agentId: e.agentId, seq: e.seq, records: e.records });
    }) as never);
    on('finished', ((agentId: string, f: RunFinished) => {
      if (f.runId === runId) this.dispatch({ kind: 'finished', agentId, finished: f });
    }) as never);
    on('agent:disconnected', ((g: { agentId: string; reason: string }) =>
      this.dispatch({ kind: 'disconnected', agentId: g.agentId, reason: g.reason })) as never);
    on('agent:connected', ((h: AgentHandle) =>
      this.dispatch({
        kind: 'connected',
        agent: { agentId: h.info.agentId, name: h.info.name, capacity: h.info.capacity[this.#d.scenario], instanceId: h.hello.instanceId },
        runs: h.hello.runs,
      })) as never);
    this.#setTimer('bound', boundMs);
    // An abort that came before the start leaves nothing to assign.
    this.#execute(this.#state.phase === 'running' ? first : first.filter((c) => c.kind !== 'assign'));
    return this.ended;
  }

  /** Feed an event (from the pool, a reply, a timer, the operator). */
  dispatch(e: MachineEvent): void {
    this.#queue.push(e);
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const r = step(this.#state, this.#queue.shift()!, this.#d.now());
        this.#state = r.state;
        this.#execute(r.commands);
      }
    } finally {
      this.#busy = false;
    }
  }

  abort(reason: string): void {
    this.dispatch({ kind: 'abort', reason });
  }

  #handle(agentId: string): AgentHandle | undefined {
    return this.#d.pool.agent(agentId);
  }

  #execute(commands: readonly Command[]): void {
    const runId = this.#state.config.runId;
    for (const c of commands) {
      switch (c.kind) {
        case 'assign': {
          if (c.part > 0) this.#reshare(c);
          // Sent once what came before it (the part's own state) is durable.
          void this.#persisting.then(() => this.#assign(c));
          break;
        }
        case 'resume': {
          const h = this.#handle(c.agentId);
          h?.resume({ runId, revoked: [...c.revoked], reason: c.reason.slice(0, 500) }, RESUME_ACK_TIMEOUT_MS).then(
            (reply) => this.dispatch({ kind: 'resumed', agentId: c.agentId, alreadyStarted: reply.alreadyStarted }),
            (e: unknown) =>
              this.#d.log.warn({ agentId: c.agentId, err: describeError(e) }, 'run:resume not answered; the agent resumes by itself after RESUME_WAIT_MS'),
          );
          break;
        }
        case 'abort':
          this.#handle(c.agentId)?.abort({ runId, reason: c.reason.slice(0, 500) });
          break;
        case 'timer':
          this.#setTimer(c.key, c.ms);
          break;
        case 'extend': {
          const at = this.#d.now() + c.ms;
          if ((this.#timers.get(c.key)?.at ?? 0) < at) {
            this.#setTimer(c.key, c.ms);
            if (c.key === 'bound') this.#d.onDeadline?.(at);
          }
          break;
        }
        case 'cancel': {
          const t = this.#timers.get(c.key);
          if (t) clearTimeout(t.timer);
          this.#timers.delete(c.key);
          break;
        }
        case 'note':
          this.#d.progress.note(c.text);
          break;
        case 'persist': {
          // One write waiting at most: it takes the state as it is when it runs (the machine updates it in place), so it covers
          // every change made before it, and what is sent after a persist still waits for a write that holds it. Without this,
          // 5,000 agents finishing meant 5,000 whole-state writes in a row.
          if (this.#persistQueued) break;
          this.#persistQueued = true;
          this.#persisting = this.#persisting
            .then(() => {
              this.#persistQueued = false;
              return this.#d.persist(this.#state);
            })
            .catch((e: unknown) => {
              this.#d.log.error(
                { err: describeError(e) },
                "cannot write the run's state (run-state.json): a controller restarted now could not re-adopt this run as it is; check the results folder's disk and permissions",
              );
            });
          break;
        }
        case 'end': {
          for (const t of this.#timers.values()) clearTimeout(t.timer);
          this.#timers.clear();
          for (const off of this.#unsubscribe.splice(0)) off();
          const reason = c.reason;
          void this.#persisting.then(() => this.#resolve(reason));
          break;
        }
        default: {
          const never: never = c;
          throw new Error(`unhandled command ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /** The live progress line follows a reassigned part: the shares it shows move with the sessions. */
  #reshare(c: Extract<Command, { kind: 'assign' }>): void {
    const name = (id: string): string => this.#state.agents.get(id)?.name ?? id;
    const from = new Map<string, number>();
    for (const ps of c.sessions) {
      const moved = this.#state.slots.get(parseSessionId(ps.sessionId).slot)?.movedFrom.at(-1);
      if (moved) from.set(moved.agentId, (from.get(moved.agentId) ?? 0) + 1);
    }
    for (const [agentId, n] of from) this.#d.progress.reshare(name(agentId), name(c.agentId), n);
  }

  #assign(c: Extract<Command, { kind: 'assign' }>): void {
    const refuse = (reason: string): void => this.dispatch({ kind: 'assigned', agentId: c.agentId, part: c.part, accepted: false, reason });
    const h = this.#handle(c.agentId);
    if (!h) {
      refuse('it is not connected');
      return;
    }
    let a: Assignment;
    try {
      a = this.#d.assignment(c);
    } catch (e) {
      refuse(describeError(e).message);
      return;
    }
    h.assign(a, ASSIGN_ACK_TIMEOUT_MS).then(
      (reply) =>
        this.dispatch(
          reply.accepted
            ? { kind: 'assigned', agentId: c.agentId, part: c.part, accepted: true }
            : { kind: 'assigned', agentId: c.agentId, part: c.part, accepted: false, reason: `${reply.reason} (${reply.code})` },
        ),
      (e: unknown) => refuse(describeError(e).message),
    );
  }

  #setTimer(key: TimerKey, ms: number): void {
    const old = this.#timers.get(key);
    if (old) clearTimeout(old.timer);
    // Node fires a timer longer than 2^31-1 ms at once: the longest run bound stays below it (shared/limits.ts).
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        this.dispatch({ kind: 'timer', key });
      },
      Math.min(ms, 2 ** 31 - 1),
    );
    this.#timers.set(key, { timer, at: this.#d.now() + ms });
  }
}
