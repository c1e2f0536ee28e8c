import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import {
  ConfigError, ERROR_CODES, OkReplySchema, ProbeError, StepError, describeError,
  type AssignReply, type Assignment, type Capacity, type PlannedSession, type RunAbort, type ScenarioName, type SessionProgress,
} from '@userprobe/shared';
import { whenConnected, type AgentSocket } from './agent-socket.js';
import { checkAssignment } from './assignment-check.js';
import { RunBatcher } from './batcher.js';
import type { SessionPages } from './browser-pool.js';
import { toControllerTime, toLocalTime, type ClockEstimate } from './clock-sync.js';
import { RUN_FINISHED_ACK_TIMEOUT_MS, SEND_RETRY_MAX_MS, SEND_RETRY_MIN_MS } from './limits.js';
import { SessionRecorder } from './recorder.js';
import type { Scenario, ScenarioContext } from './scenario-api.js';
import type { Spool } from './spool.js';

/** What the runner needs from the browser pool. */
export interface SessionHost {
  withSession<T>(kind: Assignment['browser'], fn: (pages: SessionPages) => Promise<T>): Promise<T>;
  ensure(kind: Assignment['browser']): Promise<unknown>;
}

export interface RunnerDeps {
  readonly agentId: string;
  readonly capacity: Capacity;
  readonly socket: AgentSocket;
  readonly spool: Spool;
  readonly pool: SessionHost;
  readonly scenarios: ReadonlyMap<string, Scenario>;
  readonly log: Logger;
  /** Estimate the controller clock offset (clock:sync round trips). */
  readonly syncClock: () => Promise<ClockEstimate | null>;
  /** The agent's environment, for credentials named by the profile. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly saturated?: () => boolean;
  readonly batch?: { readonly maxSamples?: number; readonly maxAgeMs?: number };
  readonly runFinishedAckTimeoutMs?: number;
}

export interface RunResult {
  readonly runId: string;
  readonly lastSeq: number;
  readonly ok: number;
  readonly failed: number;
  readonly aborted: number;
}

interface ActiveRun {
  readonly a: Assignment;
  readonly scenario: Scenario;
  readonly offsetMs: number;
  readonly abort: AbortController;
  readonly batcher: RunBatcher;
  readonly log: Logger;
  /** Start timers of sessions not yet started: firing early (on abort) records them as aborted. */
  readonly pendingStarts: Map<string, { timer: NodeJS.Timeout; fire: () => void }>;
  readonly counts: { ok: number; failed: number; aborted: number };
  done: Promise<RunResult>;
}

function abortedError(reason: string): ProbeError {
  return new ProbeError(ERROR_CODES.SESSION_ABORTED, `session aborted: ${reason}`);
}

/**
 * Runs assignments: waits for the agreed start (controller clock converted with
 * the estimated offset), starts each session at its offset with a timer,
 * bounds concurrency per scenario with p-limit at this agent's capacity, runs
 * each session in fresh browser contexts with a hard timeout, streams samples
 * and session records through the run's batcher, reports progress, and ends
 * with `run:finished` (re-sent until acknowledged). A failed session never
 * stops the run; `run:abort` aborts it (sessions are recorded as aborted).
 */
export class Runner {
  readonly #d: RunnerDeps;
  readonly #log: Logger;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #limits = new Map<ScenarioName, LimitFunction>();
  readonly #stop = new AbortController();
  #activeSessions = 0;

  constructor(d: RunnerDeps) {
    this.#d = d;
    this.#log = d.log.child({ component: 'runner' });
  }

  get activeSessions(): number {
    return this.#activeSessions;
  }

  get activeRuns(): readonly string[] {
    return [...this.#runs.keys()];
  }

  /** The result of a run accepted earlier (for tests and the agent's shutdown). */
  result(runId: string): Promise<RunResult> | undefined {
    return this.#runs.get(runId)?.done;
  }

  #limit(s: ScenarioName): LimitFunction {
    let l = this.#limits.get(s);
    if (!l) {
      l = pLimit(Math.max(1, this.#d.capacity[s]));
      this.#limits.set(s, l);
    }
    return l;
  }

  /** Decide on an assignment; when accepted the run is scheduled before this resolves. */
  async assign(a: Assignment): Promise<AssignReply> {
    if (this.#stop.signal.aborted) return { accepted: false, code: ERROR_CODES.SESSION_ABORTED, reason: 'this agent is shutting down' };
    const existing = this.#runs.get(a.runId);
    const refusal = checkAssignment(a, {
      capacity: this.#d.capacity,
      knownScenarios: [...this.#d.scenarios.keys()],
      activeSessionIds: existing ? new Set(existing.a.sessions.map((s) => s.sessionId)) : null,
    });
    if (refusal) {
      if (!refusal.accepted) this.#log.warn({ runId: a.runId, code: refusal.code, reason: refusal.reason }, 'assignment refused');
      return refusal;
    }
    const scenario = this.#d.scenarios.get(a.scenario);
    if (!scenario) throw new ProbeError(ERROR_CODES.SCENARIO_UNKNOWN, `scenario ${a.scenario} is not available`);
    await this.#d.pool.ensure(a.browser); // a missing browser becomes a refusal with its reason
    const clock = await this.#d.syncClock();
    const log = this.#log.child({ runId: a.runId });
    if (clock === null) log.warn('clock sync with the controller failed; assuming the clocks agree');
    const offsetMs = clock?.offsetMs ?? 0;
    const run: ActiveRun = {
      a, scenario, offsetMs, log,
      abort: new AbortController(),
      batcher: new RunBatcher({
        runId: a.runId, agentId: this.#d.agentId, spool: this.#d.spool, log,
        maxSamples: this.#d.batch?.maxSamples, maxAgeMs: this.#d.batch?.maxAgeMs,
        now: () => toControllerTime(Date.now(), offsetMs),
      }),
      pendingStarts: new Map(),
      counts: { ok: 0, failed: 0, aborted: 0 },
      done: Promise.resolve({ runId: a.runId, lastSeq: 0, ok: 0, failed: 0, aborted: 0 }),
    };
    this.#runs.set(a.runId, run);
    const startIn = toLocalTime(a.startAt, offsetMs) - Date.now();
    log.info({ scenario: a.scenario, browser: a.browser, sessions: a.sessions.length, startInMs: Math.round(startIn), clockOffsetMs: clock?.offsetMs, clockRttMs: clock?.rttMs }, 'run accepted');
    if (startIn < 0) log.warn({ lateMs: Math.round(-startIn) }, 'the agreed start has passed; starting sessions now');
    run.done = this.#execute(run);
    run.done.catch(() => undefined);
    return { accepted: true };
  }

  async #execute(run: ActiveRun): Promise<RunResult> {
    const { a } = run;
    const localStart = toLocalTime(a.startAt, run.offsetMs);
    const limit = this.#limit(a.scenario);
    await Promise.all(a.sessions.map((s) => new Promise<void>((resolve) => {
      const fire = (): void => {
        const pending = run.pendingStarts.get(s.sessionId);
        if (!pending) return;
        clearTimeout(pending.timer);
        run.pendingStarts.delete(s.sessionId);
        limit(() => this.#session(run, s)).then(resolve, (e: unknown) => {
          run.log.error({ sessionId: s.sessionId, error: describeError(e) }, 'session bookkeeping failed');
          resolve();
        });
      };
      const timer = setTimeout(fire, Math.max(0, localStart + s.startOffsetMs - Date.now()));
      run.pendingStarts.set(s.sessionId, { timer, fire });
    })));
    const lastSeq = await run.batcher.close();
    const result: RunResult = { runId: a.runId, lastSeq, ...run.counts };
    run.log.info(result, 'run finished on this agent');
    await this.#sendFinished(run, result);
    this.#runs.delete(a.runId);
    return result;
  }

  async #session(run: ActiveRun, planned: PlannedSession): Promise<void> {
    const { a } = run;
    const sessionId = planned.sessionId;
    const ac = new AbortController();
    const onRunAbort = (): void => ac.abort(run.abort.signal.reason);
    if (run.abort.signal.aborted) onRunAbort();
    else run.abort.signal.addEventListener('abort', onRunAbort, { once: true });
    const timeoutMs = a.options.sessionTimeoutMs;
    const hardLimit = setTimeout(() => ac.abort(new ProbeError(ERROR_CODES.STEP_TIMEOUT,
      `session ${sessionId} exceeded its hard limit of ${timeoutMs} ms (session timeout; raise timeouts.session in the target profile or the run's sessionTimeoutMs)`)), timeoutMs);
    const recorder = new SessionRecorder({
      session: { runId: a.runId, sessionId, scenario: a.scenario },
      browser: a.browser,
      stepTimeoutMs: a.options.stepTimeoutMs,
      signal: ac.signal,
      emit: (s) => run.batcher.addSample(s),
      saturated: this.#d.saturated,
      toStoredTime: (ts) => toControllerTime(ts, run.offsetMs),
      log: run.log,
    });
    this.#activeSessions += 1;
    if (!ac.signal.aborted) this.#progress({ runId: a.runId, sessionId, phase: 'started' });
    try {
      if (ac.signal.aborted) throw ac.signal.reason;
      let entered = false;
      await this.#d.pool.withSession(a.browser, async (pages) => {
        entered = true;
        const ctx: ScenarioContext = {
          session: { runId: a.runId, sessionId, scenario: a.scenario },
          pages, profile: a.profile, options: a.options, recorder, signal: ac.signal,
          credential: (ref) => this.#credential(ref),
        };
        const work = run.scenario.run(ctx);
        work.catch(() => undefined);
        await Promise.race([work, rejectOnAbort(ac.signal)]);
      }).catch((e: unknown) => {
        if (entered || ac.signal.aborted) throw e;
        throw new StepError('session-setup', `cannot open the session's browser contexts: ${describeError(e).message}`, { cause: e, code: e instanceof ProbeError ? e.code : ERROR_CODES.BROWSER_UNAVAILABLE });
      });
    } catch (e) {
      recorder.fail(e);
    } finally {
      clearTimeout(hardLimit);
      run.abort.signal.removeEventListener('abort', onRunAbort);
      this.#activeSessions -= 1;
    }
    const record = recorder.finish();
    run.counts[record.status === 'ok' ? 'ok' : record.status === 'aborted' ? 'aborted' : 'failed'] += 1;
    await run.batcher.addSession(record);
    this.#progress(record.status === 'ok'
      ? { runId: a.runId, sessionId, phase: 'finished' }
      : { runId: a.runId, sessionId, phase: 'failed', failedStep: record.failedStep });
  }

  #credential(ref: { env: string; default?: string | undefined }): string {
    const v = this.#d.env[ref.env] ?? ref.default;
    if (v === undefined) throw new ConfigError(`the target profile needs environment variable ${ref.env}, which is not set on agent ${this.#d.agentId}`);
    return v;
  }

  #progress(p: SessionProgress): void {
    this.#d.socket.emit('session:progress', p);
  }

  async #sendFinished(run: ActiveRun, r: RunResult): Promise<void> {
    const msg = { runId: r.runId, lastSeq: r.lastSeq, ok: r.ok, failed: r.failed + r.aborted };
    const timeout = this.#d.runFinishedAckTimeoutMs ?? RUN_FINISHED_ACK_TIMEOUT_MS;
    const stop = this.#stop.signal;
    let delay = SEND_RETRY_MIN_MS;
    while (!stop.aborted) {
      await whenConnected(this.#d.socket, stop);
      if (stop.aborted) break;
      try {
        const reply: unknown = await this.#d.socket.timeout(timeout).emitWithAck('run:finished', msg);
        if (OkReplySchema.safeParse(reply).success) return;
        run.log.warn('malformed run:finished ack; sending it again');
      } catch (e) {
        run.log.warn({ error: describeError(e) }, 'run:finished not acknowledged; sending it again');
      }
      await sleep(delay, undefined, { signal: stop }).catch(() => undefined);
      delay = Math.min(delay * 2, SEND_RETRY_MAX_MS);
    }
  }

  /** `run:abort`: running sessions are aborted, sessions not yet started are recorded as aborted. */
  abort(msg: RunAbort): void {
    const run = this.#runs.get(msg.runId);
    if (!run) {
      this.#log.warn({ runId: msg.runId }, 'run:abort for a run that is not active here; ignored');
      return;
    }
    this.#abortRun(run, msg.reason);
  }

  #abortRun(run: ActiveRun, reason: string): void {
    if (run.abort.signal.aborted) return;
    run.log.warn({ reason }, 'aborting the run');
    run.abort.abort(abortedError(reason));
    for (const p of [...run.pendingStarts.values()]) p.fire();
  }

  /**
   * Abort every run and wait until their session records are spooled; keep
   * trying to deliver `run:finished` for up to `graceMs`, then give up on it
   * (the controller learns the rest from the spooled batches).
   */
  async shutdown(reason: string, graceMs: number): Promise<void> {
    const runs = [...this.#runs.values()];
    for (const run of runs) this.#abortRun(run, reason);
    const all = Promise.all(runs.map((r) => r.done.catch(() => undefined)));
    await Promise.race([all, sleep(graceMs, undefined, { ref: false })]);
    this.#stop.abort();
    await all;
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
