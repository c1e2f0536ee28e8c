import { setTimeout as sleep } from 'node:timers/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import {
  ERROR_CODES,
  OkReplySchema,
  ProbeError,
  Redactor,
  StepError,
  describeError,
  RESUME_WAIT_MS,
  type AgentRunState,
  type AssignReply,
  type Assignment,
  type Capacity,
  type EvidenceFile,
  type PlannedSession,
  type ResumeReply,
  type RunAbort,
  type RunResume,
  type ScenarioName,
  type SessionProgress,
  type SessionStatus,
  type StartGateHold,
} from '@userprobe/shared';
import { whenConnected, type AgentSocket } from '../delivery/agent-socket.js';
import { checkAssignment } from './assignment-check.js';
import { RunBatcher } from '../delivery/batcher.js';
import type { ConsoleSharing, SessionPages } from '../host/browser-pool.js';
import { soleSeat, turnsAfterSettled } from '../host/shared-console.js';
import { toControllerTime, toLocalTime, type ClockEstimate } from '../delivery/clock-sync.js';
import { RUN_FINISHED_ACK_TIMEOUT_MS, SEND_RETRY_MAX_MS, SEND_RETRY_MIN_MS } from '../config/limits.js';
import { SessionRecorder } from './recorder.js';
import type { Scenario, ScenarioContext } from './scenario-api.js';
import type { Spool } from '../delivery/spool.js';
import { SessionEvidence } from '../evidence/session-evidence.js';
import { runSecrets } from '../evidence/session-secrets.js';
import type { EvidenceOutcome } from '../evidence/evidence-sender.js';
import type { EvidenceKey } from '../evidence/evidence-spool.js';
import { StartGate } from './start-rate-gate.js';
import { resolveScenario, scenarioSettings } from './scenario-loader.js';
import { createScenarioProbe } from '../scenarios/scenario-probe.js';
import { readCredential, type AgentPolicy } from '../trust/agent-policy.js';
import { NavigationGuard } from '../trust/navigation-guard.js';

/** How long a session's record waits for the controller to acknowledge its evidence (then lists the paths it expects). */
export const EVIDENCE_RECORD_WAIT_MS = 5_000;
/** Where a session's evidence lives, relative to the run's results folder on the controller. */
export const evidencePath = (sessionId: string, name: string): string => `evidence/${sessionId}/${name}`;

/** Ships a session's evidence files to the controller (spooled until acknowledged). */
export interface EvidenceDelivery {
  deliver(key: EvidenceKey, files: readonly EvidenceFile[], waitMs: number): Promise<EvidenceOutcome>;
}

/** What the runner needs from the browser pool. */
export interface SessionHost {
  withSession<T>(kind: Assignment['browser'], fn: (pages: SessionPages) => Promise<T>, sharing?: ConsoleSharing): Promise<T>;
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
  /** The agent's environment, for credentials named by the profile (only the variables `policy.secretEnv` lists are read). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** What this agent's operator allows: hosts, scenario module folders, credential variables. */
  readonly policy: AgentPolicy;
  /** Values redacted from every session's evidence whatever the profile names (the agent's controller token). */
  readonly secrets?: readonly string[];
  /** Was the machine's CPU full and crowded while [from, to] (epoch ms) was measured? Flags samples (CpuMonitor.crowdedDuring). */
  readonly saturated?: (from: number, to: number) => boolean;
  /** The machine's recent CPU busy share (0..1): paces session starts when the run's `adaptiveStart` is on. */
  readonly cpu?: () => number;
  /** The share of the machine this agent's own processes use (0..1), when known: a machine saturated by others holds no start. */
  readonly ownCpu?: () => number | undefined;
  /** Evidence of failed sessions (and, with `har: all`, of every session) goes here; none is captured without it. */
  readonly evidence?: EvidenceDelivery;
  readonly evidenceWaitMs?: number;
  readonly batch?: { readonly maxSamples?: number; readonly maxAgeMs?: number };
  readonly runFinishedAckTimeoutMs?: number;
  /** After a reconnect, how long a run waits for the controller's run:resume (default RESUME_WAIT_MS). */
  readonly resumeWaitMs?: number;
}

export interface RunResult {
  readonly runId: string;
  readonly lastSeq: number;
  readonly ok: number;
  readonly failed: number;
  readonly aborted: number;
  /** Agreed start → the last session started (ms): the time to reach full concurrency on this agent. */
  readonly rampMs: number;
  readonly peakConcurrent: number;
  /** What the adaptive start gate held back (null: the gate was off for this run). */
  readonly startGate: StartGateHold | null;
}

interface ActiveRun {
  /** The first part: scenario, browser, profile and options of the whole run. */
  readonly a: Assignment;
  readonly scenario: Scenario;
  /** The profile's `scenario:` section as the scenario's settings schema parsed it (undefined without one). */
  readonly settings: unknown;
  /** What every session of the run redacts by value (session-secrets.ts: runSecrets), worked out once. */
  readonly secrets: readonly string[];
  readonly offsetMs: number;
  readonly abort: AbortController;
  readonly batcher: RunBatcher;
  readonly log: Logger;
  /** Session ids per accepted part. */
  readonly parts: Map<number, Set<string>>;
  /** Start timers of sessions not yet started: firing early (on abort) records them as aborted. */
  readonly pendingStarts: Map<string, { timer: NodeJS.Timeout; fire: () => void; drop: () => void }>;
  /** Planned sessions taken back by the controller (run:revoke): not started, no record. */
  readonly revoked: Set<string>;
  /** Planned sessions that started at least once. */
  readonly started: Set<string>;
  /** Session ids running now. */
  readonly running: Set<string>;
  /** Planned sessions scheduled and not yet over (pending or running). */
  outstanding: number;
  /** Resolves the wait for `outstanding` to reach 0. */
  idle: (() => void) | null;
  /** Bumped by every accepted part: a run:finished covers the parts accepted when it was made. */
  generation: number;
  /** Every session is over; run:finished is being sent (a new part reopens the run). */
  closing: boolean;
  /**
   * Set while the controller is out of reach and until it says `run:resume`
   * after the reconnect (or RESUME_WAIT_MS): no session of the run starts.
   */
  hold: { readonly released: Promise<void>; release(): void; timer: NodeJS.Timeout | null } | null;
  /** Sessions ended, by status (run:finished carries them). */
  readonly counts: Record<SessionStatus, number>;
  readonly ramp: { lastStartAt: number | null; running: number; peak: number };
  readonly gateHold: StartGateHold;
  /** The controller said the run's evidence budget is used up: capture no more. */
  evidenceExhausted: boolean;
  done: Promise<RunResult>;
}

/** Count one start's wait at the gate: a wait of 1 ms or more is a start held back. */
export function noteGateHold(h: StartGateHold, waitedMs: number): void {
  if (waitedMs < 1) return;
  h.held += 1;
  h.totalMs += waitedMs;
  h.maxMs = Math.max(h.maxMs, waitedMs);
}

function abortedError(reason: string): ProbeError {
  return new ProbeError(ERROR_CODES.SESSION_ABORTED, `session aborted: ${reason}`);
}

/** Pure: how the run's sessions share agent consoles — by run, options.chatsPerConsole at a time — or undefined (a console each) for a scenario that cannot share. */
export function consoleSharing(a: Pick<Assignment, 'runId' | 'options'>, scenario: Pick<Scenario, 'sharesConsole'>): ConsoleSharing | undefined {
  const size = a.options.chatsPerConsole;
  return scenario.sharesConsole === true && size > 1 ? { key: a.runId, size } : undefined;
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
  readonly #gate: StartGate | null;
  #activeSessions = 0;

  constructor(d: RunnerDeps) {
    this.#d = d;
    this.#log = d.log.child({ component: 'runner' });
    d.socket.on('disconnect', () => this.#holdAll());
    d.socket.on('connect', () => this.#awaitResume());
    this.#gate = d.cpu ? new StartGate({ cpu: d.cpu, ownCpu: d.ownCpu, log: this.#log }) : null;
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

  /**
   * Decide on an assignment; when accepted its sessions are scheduled before
   * this resolves. A new part of a run held here adds its sessions to the run
   * (reopening it if its sessions were all over).
   */
  async assign(a: Assignment): Promise<AssignReply> {
    if (this.#stop.signal.aborted) return { accepted: false, code: ERROR_CODES.SESSION_ABORTED, reason: 'this agent is shutting down' };
    const existing = this.#runs.get(a.runId);
    const refusal = checkAssignment(a, {
      capacity: this.#d.capacity,
      knownScenarios: [...this.#d.scenarios.keys()],
      active: existing ? { scenario: existing.a.scenario, browser: existing.a.browser, parts: existing.parts } : null,
      hosts: this.#d.policy.hosts,
      scenarioDirs: this.#d.policy.scenarioDirs,
    });
    if (refusal) {
      if (!refusal.accepted) this.#log.warn({ runId: a.runId, part: a.part, code: refusal.code, reason: refusal.reason }, 'assignment refused');
      return refusal;
    }
    if (existing) {
      if (existing.abort.signal.aborted) return { accepted: false, code: ERROR_CODES.SESSION_ABORTED, reason: `run ${a.runId} was aborted on this agent` };
      existing.parts.set(a.part, new Set(a.sessions.map((s) => s.sessionId)));
      existing.generation += 1;
      existing.closing = false;
      existing.log.info({ part: a.part, sessions: a.sessions.length }, 'run part accepted');
      this.#schedule(existing, a);
      return { accepted: true };
    }
    let scenario: Scenario | undefined;
    if (a.scenarioModule !== undefined) {
      try {
        scenario = await resolveScenario(a.scenarioModule, this.#d.policy.scenarioDirs);
      } catch (e) {
        const d = describeError(e);
        this.#log.warn({ runId: a.runId, module: a.scenarioModule, reason: d.message }, 'assignment refused: custom scenario');
        const code = d.code === ERROR_CODES.NOT_ALLOWED ? ERROR_CODES.NOT_ALLOWED : ERROR_CODES.SCENARIO_UNKNOWN;
        return { accepted: false, code, reason: `cannot load the custom scenario on agent ${this.#d.agentId}: ${d.message}` };
      }
    } else {
      scenario = this.#d.scenarios.get(a.scenario);
    }
    if (!scenario) throw new ProbeError(ERROR_CODES.SCENARIO_UNKNOWN, `scenario ${a.scenario} is not available`);
    const settings = scenarioSettings(scenario, a.profile.scenario);
    if (!settings.ok) {
      this.#log.warn({ runId: a.runId, problems: settings.problems }, "assignment refused: the profile's scenario settings");
      return {
        accepted: false,
        code: ERROR_CODES.PROFILE_INVALID,
        reason: `the profile's scenario: section is not what ${scenario.name} accepts (${settings.problems.length} problem(s)): ${settings.problems.join('; ')}`,
      };
    }
    await this.#d.pool.ensure(a.browser); // a missing browser becomes a refusal with its reason
    const clock = await this.#d.syncClock();
    const log = this.#log.child({ runId: a.runId });
    if (clock === null) log.warn('clock sync with the controller failed; assuming the clocks agree');
    const offsetMs = clock?.offsetMs ?? 0;
    const run: ActiveRun = {
      a,
      scenario,
      settings: settings.value,
      secrets: runSecrets(a.profile, this.#d.env, this.#d.secrets ?? []),
      offsetMs,
      log,
      abort: new AbortController(),
      batcher: new RunBatcher({
        runId: a.runId,
        agentId: this.#d.agentId,
        spool: this.#d.spool,
        log,
        maxSamples: this.#d.batch?.maxSamples,
        maxAgeMs: this.#d.batch?.maxAgeMs,
        now: () => toControllerTime(Date.now(), offsetMs),
        metrics: scenario.metrics ?? [],
      }),
      parts: new Map([[a.part, new Set(a.sessions.map((s) => s.sessionId))]]),
      pendingStarts: new Map(),
      revoked: new Set(),
      started: new Set(),
      running: new Set(),
      outstanding: 0,
      idle: null,
      generation: 0,
      closing: false,
      hold: null,
      counts: { ok: 0, failed: 0, aborted: 0 },
      ramp: { lastStartAt: null, running: 0, peak: 0 },
      gateHold: { held: 0, totalMs: 0, maxMs: 0 },
      evidenceExhausted: false,
      done: Promise.resolve({ runId: a.runId, lastSeq: 0, ok: 0, failed: 0, aborted: 0, rampMs: 0, peakConcurrent: 0, startGate: null }),
    };
    this.#runs.set(a.runId, run);
    const startIn = toLocalTime(a.startAt, offsetMs) - Date.now();
    log.info(
      {
        scenario: a.scenario,
        browser: a.browser,
        part: a.part,
        sessions: a.sessions.length,
        startInMs: Math.round(startIn),
        clockOffsetMs: clock?.offsetMs,
        clockRttMs: clock?.rttMs,
      },
      'run accepted',
    );
    if (startIn < 0) log.warn({ lateMs: Math.round(-startIn) }, 'the agreed start has passed; starting sessions now');
    this.#schedule(run, a);
    run.done = this.#execute(run);
    run.done.catch(() => undefined);
    return { accepted: true };
  }

  /**
   * What this agent holds of each run, for the hello of every (re)connect: the
   * runs it is running, then those it only has unacknowledged batches of
   * (finished here, or left by a process before a restart).
   */
  runStates(): AgentRunState[] {
    const active: AgentRunState[] = [...this.#runs.values()].map((r) => ({
      runId: r.a.runId,
      lastSeq: this.#d.spool.lastSeq(r.a.runId),
      running: [...r.running],
      pending: Math.max(0, r.outstanding - r.running.size),
      finished: r.closing,
    }));
    const spooled = this.#d.spool
      .pendingRuns()
      .filter((p) => !this.#runs.has(p.runId))
      .map((p) => ({ runId: p.runId, lastSeq: p.lastSeq, running: [], pending: 0, finished: true }));
    return [...active, ...spooled];
  }

  /** Start timers for a part's sessions (each at the part's agreed start plus its offset). */
  #schedule(run: ActiveRun, part: Assignment): void {
    const localStart = toLocalTime(part.startAt, run.offsetMs);
    const limit = this.#limit(run.a.scenario);
    for (const s of part.sessions) {
      run.outstanding += 1;
      const over = (): void => {
        run.outstanding -= 1;
        if (run.outstanding === 0) run.idle?.();
      };
      const fire = (): void => {
        const pending = run.pendingStarts.get(s.sessionId);
        if (!pending) return;
        clearTimeout(pending.timer);
        run.pendingStarts.delete(s.sessionId);
        this.#slot(run, s, localStart, part.durationMs, limit).then(over, (e: unknown) => {
          run.log.error({ sessionId: s.sessionId, err: describeError(e) }, 'session bookkeeping failed');
          over();
        });
      };
      const drop = (): void => {
        const pending = run.pendingStarts.get(s.sessionId);
        if (!pending) return;
        clearTimeout(pending.timer);
        run.pendingStarts.delete(s.sessionId);
        over();
      };
      const timer = setTimeout(fire, Math.max(0, localStart + s.startOffsetMs - Date.now()));
      run.pendingStarts.set(s.sessionId, { timer, fire, drop });
    }
  }

  /** Wait until every scheduled session is over, report, and do it again if a new part reopened the run meanwhile. */
  async #execute(run: ActiveRun): Promise<RunResult> {
    const { a } = run;
    const localStart = toLocalTime(a.startAt, run.offsetMs);
    let result: RunResult;
    for (;;) {
      if (run.outstanding > 0)
        await new Promise<void>((resolve) => {
          run.idle = resolve;
        });
      run.idle = null;
      run.closing = true;
      const generation = run.generation;
      const parts = [...run.parts.keys()].sort((x, y) => x - y);
      const lastSeq = await run.batcher.close();
      const rampMs = run.ramp.lastStartAt === null ? 0 : Math.max(0, Math.round(run.ramp.lastStartAt - localStart));
      const startGate =
        a.options.adaptiveStart && this.#gate ? { ...run.gateHold, totalMs: Math.round(run.gateHold.totalMs), maxMs: Math.round(run.gateHold.maxMs) } : null;
      result = { runId: a.runId, lastSeq, ...run.counts, rampMs, peakConcurrent: run.ramp.peak, startGate };
      run.log.info({ ...result, parts, adaptiveStart: a.options.adaptiveStart, startIntervalMs: this.#gate?.intervalMs }, 'run finished on this agent');
      await this.#sendFinished(run, result, parts);
      // A part accepted meanwhile (even one already over) needs a report that covers it.
      if (run.outstanding === 0 && run.generation === generation) break;
      run.log.info({ outstanding: run.outstanding }, 'a new part arrived while finishing; reporting again when it is over');
    }
    this.#runs.delete(a.runId);
    return result;
  }

  /**
   * One planned session slot: the session runs once, or — when the run has a
   * duration — again and again (ids `<sessionId>.r1`, `.r2`, …) until the
   * agreed start plus the duration has passed or the run is aborted.
   */
  async #slot(run: ActiveRun, planned: PlannedSession, localStart: number, durationMs: number | null, limit: LimitFunction): Promise<void> {
    const { a } = run;
    for (let round = 0; ; round++) {
      const session: PlannedSession = round === 0 ? planned : { ...planned, sessionId: repeatId(planned.sessionId, round) };
      const ran = await limit(async () => {
        // No new session starts while the controller is out of reach, nor after it is back until it says
        // run:resume: meanwhile it may have given this share to another agent.
        if (run.hold) {
          run.log.info({ sessionId: session.sessionId }, 'holding the session start until the controller resumes the run');
          await Promise.race([run.hold.released, new Promise<void>((resolve) => run.abort.signal.addEventListener('abort', () => resolve(), { once: true }))]);
        }
        // Adaptive start: the planned offset is the earliest start; the gate paces starts by the machine's CPU.
        if (a.options.adaptiveStart && this.#gate) {
          const t0 = performance.now();
          await this.#gate.admit(run.abort.signal).catch(() => undefined);
          noteGateHold(run.gateHold, performance.now() - t0);
        }
        if (run.revoked.has(planned.sessionId)) return false;
        // A repetition that waited (capacity, start gate) past the end of the duration does not start.
        if (round > 0 && !repeats(durationMs, localStart, Date.now())) return false;
        run.started.add(planned.sessionId);
        await this.#session(run, session);
        return true;
      });
      if (!ran || !repeats(durationMs, localStart, Date.now()) || run.abort.signal.aborted || this.#stop.signal.aborted || run.revoked.has(planned.sessionId))
        return;
    }
  }

  async #session(run: ActiveRun, planned: PlannedSession): Promise<void> {
    const { a } = run;
    const sessionId = planned.sessionId;
    const ac = new AbortController();
    const onRunAbort = (): void => ac.abort(run.abort.signal.reason);
    if (run.abort.signal.aborted) onRunAbort();
    else run.abort.signal.addEventListener('abort', onRunAbort, { once: true });
    const timeoutMs = a.options.sessionTimeoutMs;
    const hardLimit = setTimeout(
      () =>
        ac.abort(
          new ProbeError(
            ERROR_CODES.STEP_TIMEOUT,
            `session ${sessionId} exceeded its hard limit of ${timeoutMs} ms (session timeout; raise timeouts.session in the target profile or the run's sessionTimeoutMs)`,
          ),
        ),
      timeoutMs,
    );
    // The session's secrets by value: the agent token, the profile's credentials, and any other credential the scenario reads.
    // Kept out of its evidence and out of its failure message (which goes to the results and the log).
    const redactor = new Redactor(run.secrets);
    const recorder = new SessionRecorder({
      session: { runId: a.runId, sessionId, scenario: a.scenario },
      browser: a.browser,
      stepTimeoutMs: a.options.stepTimeoutMs,
      signal: ac.signal,
      emit: (s) => run.batcher.addSample(s),
      saturated: this.#d.saturated,
      toStoredTime: (ts) => toControllerTime(ts, run.offsetMs),
      redact: (t) => redactor.text(t),
      log: run.log,
      metrics: run.scenario.metrics ?? [],
    });
    const probe = createScenarioProbe({ stepTimeoutMs: a.options.stepTimeoutMs, signal: ac.signal, input: a.options.input });
    this.#activeSessions += 1;
    const ramp = run.ramp;
    const started = !ac.signal.aborted;
    if (started) {
      run.running.add(sessionId);
      ramp.lastStartAt = Date.now();
      ramp.running += 1;
      ramp.peak = Math.max(ramp.peak, ramp.running);
      this.#progress({ runId: a.runId, sessionId, phase: 'started' });
    }
    let evidence: EvidenceFile[] = [];
    try {
      if (ac.signal.aborted) throw ac.signal.reason;
      let entered = false;
      await this.#d.pool
        .withSession(
          a.browser,
          async (pages) => {
            entered = true;
            // A page sent where this agent does not go ends the session (detected, not intercepted: no added latency).
            const guard = await NavigationGuard.attach(pages, this.#d.policy.hosts, (violation) => {
              run.log.warn({ sessionId, reason: violation.message }, 'navigation not allowed: ending the session');
              ac.abort(violation);
            });
            const ev =
              this.#d.evidence && !run.evidenceExhausted
                ? await SessionEvidence.start(pages, {
                    har: a.options.har !== 'off',
                    log: run.log,
                    creator: 'userprobe-agent',
                    redactor,
                    sharedAgent: pages.console !== undefined,
                  })
                : null;
            let failed = false;
            try {
              const ctx: ScenarioContext = {
                session: { runId: a.runId, sessionId, scenario: a.scenario },
                pages: { visitor: pages.visitor, agent: pages.agent },
                console: pages.console ? turnsAfterSettled(pages.console, () => recorder.settled(a.options.stepTimeoutMs)) : soleSeat,
                profile: a.profile,
                options: a.options,
                recorder,
                signal: ac.signal,
                credential: (ref) => {
                  const value = this.#credential(ref);
                  if (this.#d.env[ref.env] !== undefined) redactor.add(value);
                  return value;
                },
                settings: run.settings,
                probe,
              };
              const work = run.scenario.run(ctx);
              work.catch(() => undefined);
              await Promise.race([work, rejectOnAbort(ac.signal)]);
            } catch (e) {
              failed = true;
              throw e;
            } finally {
              // While the pages are open: a failure (not a run abort) gets the full evidence; `har: all` keeps the HAR of the rest.
              // A blocked navigation gets none: no screenshot or HAR of where the page was sent.
              if (ev) {
                const failure = failed && !run.abort.signal.aborted;
                if (guard.violation === null && (failure || a.options.har === 'all'))
                  evidence = await ev
                    .collect(failure, recorder.failure ? { step: recorder.failure.step ?? 'session', message: recorder.failure.message } : undefined)
                    .catch((e: unknown) => {
                      run.log.warn({ sessionId, err: describeError(e) }, 'evidence could not be collected');
                      return [];
                    });
                await ev.stop();
              }
              try {
                await guard.detach();
              } finally {
                await probe.close();
              }
            }
          },
          consoleSharing(a, run.scenario),
        )
        .catch((e: unknown) => {
          if (entered || ac.signal.aborted) throw e;
          throw new StepError('session-setup', `cannot open the session's browser contexts: ${describeError(e).message}`, {
            cause: e,
            code: e instanceof ProbeError ? e.code : ERROR_CODES.BROWSER_UNAVAILABLE,
          });
        });
    } catch (e) {
      recorder.fail(e);
    } finally {
      clearTimeout(hardLimit);
      run.abort.signal.removeEventListener('abort', onRunAbort);
      this.#activeSessions -= 1;
      if (started) ramp.running -= 1;
      run.running.delete(sessionId);
    }
    const artifacts = evidence.length ? await this.#shipEvidence(run, sessionId, evidence) : [];
    const record = recorder.finish(artifacts);
    run.counts[record.status] += 1;
    await run.batcher.addSession(record);
    this.#progress(
      record.status === 'ok'
        ? { runId: a.runId, sessionId, phase: 'finished' }
        : { runId: a.runId, sessionId, phase: record.status, failedStep: record.failedStep },
    );
  }

  /** Spool and send the files; the record lists what the controller stored (or, if it has not answered yet, what it will store). */
  async #shipEvidence(run: ActiveRun, sessionId: string, files: readonly EvidenceFile[]): Promise<string[]> {
    const delivery = this.#d.evidence;
    if (!delivery) return [];
    try {
      const o = await delivery.deliver({ runId: run.a.runId, sessionId }, files, this.#d.evidenceWaitMs ?? EVIDENCE_RECORD_WAIT_MS);
      switch (o.kind) {
        case 'stored':
          if (o.exhausted && !run.evidenceExhausted) {
            run.evidenceExhausted = true;
            run.log.info("the run's evidence budget is used up; no more evidence is captured for it");
          }
          return [...o.stored];
        case 'refused':
          run.log.warn({ sessionId, reason: o.reason }, "the controller refused the session's evidence");
          return [];
        case 'pending':
          return files.map((f) => evidencePath(sessionId, f.name));
        default: {
          const never: never = o;
          throw new Error(`unhandled evidence outcome ${JSON.stringify(never)}`);
        }
      }
    } catch (e) {
      run.log.error({ sessionId, err: describeError(e) }, "cannot spool the session's evidence; it is lost");
      return [];
    }
  }

  /** A credential the profile names (readCredential: only a variable --secret-env lists). */
  #credential(ref: { env: string; default?: string | undefined }): string {
    return readCredential(this.#d.policy, this.#d.env, ref, this.#d.agentId);
  }

  #progress(p: SessionProgress): void {
    this.#d.socket.emit('session:progress', p);
  }

  async #sendFinished(run: ActiveRun, r: RunResult, parts: readonly number[]): Promise<void> {
    const msg = {
      runId: r.runId,
      lastSeq: r.lastSeq,
      ok: r.ok,
      failed: r.failed,
      aborted: r.aborted,
      rampMs: r.rampMs,
      peakConcurrent: r.peakConcurrent,
      ...(r.startGate ? { startGate: r.startGate } : {}),
      parts: [...parts],
    };
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
        run.log.warn({ err: describeError(e) }, 'run:finished not acknowledged; sending it again');
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

  /**
   * `run:resume` after a reconnect: the run goes on, minus the planned sessions
   * the controller gave to another agent meanwhile (this one was away too
   * long). Those not started are dropped without a record; those that started
   * run on (their rounds end with the current one).
   */
  resume(msg: RunResume): ResumeReply {
    const run = this.#runs.get(msg.runId);
    if (!run) return { revoked: [], alreadyStarted: [] };
    const revoked: string[] = [];
    const alreadyStarted: string[] = [];
    for (const id of msg.revoked) {
      const held = [...run.parts.values()].some((ids) => ids.has(id));
      if (!held) continue;
      run.revoked.add(id);
      if (run.started.has(id)) alreadyStarted.push(id);
      else revoked.push(id);
      run.pendingStarts.get(id)?.drop();
    }
    if (msg.revoked.length)
      run.log.warn({ revoked: revoked.length, alreadyStarted: alreadyStarted.length, reason: msg.reason }, 'sessions taken back by the controller');
    this.#release(run, 'the controller resumed the run');
    return { revoked, alreadyStarted };
  }

  /** The controller is out of reach: hold every run's session starts. */
  #holdAll(): void {
    for (const run of this.#runs.values()) {
      if (run.hold) {
        if (run.hold.timer) clearTimeout(run.hold.timer);
        run.hold.timer = null;
        continue;
      }
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      run.hold = { released, release, timer: null };
    }
  }

  /** Back in reach: each held run waits for its run:resume, at most RESUME_WAIT_MS. */
  #awaitResume(): void {
    for (const run of this.#runs.values()) {
      const hold = run.hold;
      if (!hold || hold.timer) continue;
      hold.timer = setTimeout(
        () => this.#release(run, `no run:resume within ${RESUME_WAIT_MS} ms of reconnecting (the controller does not follow this run any more?)`),
        this.#d.resumeWaitMs ?? RESUME_WAIT_MS,
      );
    }
  }

  #release(run: ActiveRun, why: string): void {
    const hold = run.hold;
    if (!hold) return;
    if (hold.timer) clearTimeout(hold.timer);
    run.hold = null;
    run.log.info({ why }, 'session starts released');
    hold.release();
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

/** Id of the `round`-th repetition of a planned session (`s0001.r1`, …). */
export function repeatId(sessionId: string, round: number): string {
  return `${sessionId}.r${round}`;
}

/** Pure: should a session slot start another round now? Only while the run's duration lasts. */
export function repeats(durationMs: number | null, localStart: number, now: number): boolean {
  return durationMs !== null && now < localStart + durationMs;
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
