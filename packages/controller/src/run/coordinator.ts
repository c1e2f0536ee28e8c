import type { Logger } from 'pino';
import {
  AGENT_LOSS_GRACE_MS,
  AssignmentSchema,
  START_LEAD_MS,
  startLeadMs,
  PlanError,
  formatDuration,
  resolveScenarioOptions,
  skippedMetrics,
  type Assignment,
  type BrowserKind,
  type PlannedSession,
  type ScenarioName,
  type ScenarioOptionChoices,
  type ScenarioOptions,
  type SkippedMetric,
  type TargetProfile,
  type Threshold,
} from '@userprobe/shared';
import type { AgentHandle, AgentPool } from '../hub/agent-pool.js';
import type { AgentInfo, RunInfo, Sink } from '../results/sink.js';
import { planRun, type AgentShare } from './planner.js';
import { assignSessions } from './ramp.js';
import type { Progress } from './progress.js';
import { agentsMissing, runAborted, type RunError } from './run-errors.js';
import type { EvidenceBudget, EvidenceUsage } from '../results/evidence-store.js';
import { startRun, type MachineState, type OnAgentLoss } from './run-machine.js';
import { RunDriver } from './run-driver.js';
import { closeRun, type RunOutcome, type RunResultsStore } from './run-closer.js';
import { toStateFile, type RunMeta } from './run-state-file.js';
import type { RunRegistry } from './run-registry.js';
import { RESULT_FILES } from '../results/run-folder.js';
import type { IngestedEvent } from '../hub/ingest.js';
import { LiveRun, abortingThreshold, liveView } from './live-run.js';
import { thresholdObservation, type ThresholdResult } from './thresholds.js';

export type { RunOutcome, RunResultsStore } from './run-closer.js';

/** What one run is: the operator's choices, made once at the edge. */
export interface RunParams {
  readonly runId: string;
  readonly scenario: ScenarioName;
  readonly browser: BrowserKind;
  readonly total: number;
  readonly rampUpMs: number;
  readonly durationMs: number | null;
  readonly expectAgents: number;
  readonly agentWaitMs: number;
  readonly drainTimeoutMs: number;
  readonly profile: TargetProfile;
  readonly targetName: string;
  /** The scenario options the operator chose; every assignment carries them, resolved against the profile. */
  readonly options: ScenarioOptionChoices;
  /** A custom scenario module's path on the agents (`scenario` is its capacity class). */
  readonly scenarioModule?: string | null;
  /** What a lost agent means for the run: its unstarted sessions go elsewhere (default), or the run fails. */
  readonly onAgentLoss?: OnAgentLoss;
  /** How long an agent may be away mid-run before it is lost (default AGENT_LOSS_GRACE_MS). */
  readonly lossGraceMs?: number;
  /** Secret-free operator parameters for run.json. */
  readonly params: Readonly<Record<string, unknown>>;
  /** The monitor check this run is a round of; absent for a load test. */
  readonly checkName?: string | null;
  /** Pass/fail limits judged when the run closes (the profile's, then --threshold's); see run/thresholds.ts. */
  readonly thresholds?: readonly Threshold[];
}

export interface CoordinatorDeps {
  readonly pool: AgentPool;
  readonly sinks: readonly Sink[];
  readonly results: RunResultsStore & { writeRunJson(runId: string, file: string, value: unknown): Promise<unknown> };
  readonly progress: Progress;
  readonly log: Logger;
  readonly now?: () => number;
  /** How often the agent wait prints a line. */
  readonly waitNoticeEveryMs?: number;
  /** The run's evidence (for the summary); without it the summary has no evidence line. */
  readonly evidence?: { usage(runId: string): Promise<EvidenceUsage & { readonly budget: EvidenceBudget }> };
  /** The hub's view of the runs (which agent may send what): kept up to date with the run's state. */
  readonly registry?: RunRegistry;
}

/** Exit codes, documented in `controller --help`. */
export { EXIT } from './exit-codes.js';

export const WAIT_NOTICE_EVERY_MS = 5_000;
/** How often abort-on-fail thresholds are judged while a run goes. */
export const THRESHOLD_WATCH_EVERY_MS = 1_000;

/** What differs between two parts of a run's assignments, checked for every part. */
const ASSIGNMENT_OWN = AssignmentSchema.pick({ part: true, sessions: true, startAt: true, durationMs: true });

/**
 * One run, start to end: wait for the expected agents, plan, then follow the
 * run with its state machine (run/run-machine.ts) through a driver that talks
 * to agents only through an AgentPool (tests drive it in memory): assignments
 * with an agreed start, progress, batches, lost agents and their sessions
 * reassigned, the end; then close it with a summary (run/run-closer.ts). The
 * run's state is written to its results folder at every change, so a
 * restarted controller can re-adopt it and `controller reconcile` judge it.
 */
export class RunCoordinator {
  #abortReason: string | null = null;
  #driver: RunDriver | null = null;
  #onAbort: (() => void) | null = null;
  /** The abort-on-fail threshold that stopped the run, once one did. */
  #stoppedBy: ThresholdResult | null = null;
  /** The first assignment made, checked whole: what every later part shares with it. */
  #common: Assignment | null = null;
  readonly #log: Logger;
  readonly #now: () => number;
  /** What every assignment of the run carries: the operator's choices, else the profile's, else the defaults. */
  readonly #options: ScenarioOptions;
  /** Core metrics the profile gives no step for: the live view and the summary leave them out. */
  readonly #skipped: readonly SkippedMetric[];
  readonly #p: RunParams;
  readonly #d: CoordinatorDeps;

  constructor(p: RunParams, d: CoordinatorDeps) {
    this.#p = p;
    this.#d = d;
    this.#log = d.log.child({ component: 'coordinator', runId: p.runId });
    this.#now = d.now ?? Date.now;
    this.#options = resolveScenarioOptions(p.options, p.profile);
    this.#skipped = skippedMetrics(p.scenario, p.profile);
  }

  /** Stop the run: agents get `run:abort`; what is durable is summarized. Idempotent. */
  abort(reason: string): void {
    if (this.#abortReason !== null) return;
    this.#abortReason = reason;
    this.#onAbort?.();
    this.#driver?.abort(reason);
  }

  async run(): Promise<RunOutcome> {
    let agents: readonly AgentHandle[];
    try {
      agents = await this.#waitForAgents();
    } catch (e) {
      return { kind: 'not-run', exitCode: 3, error: e as RunError };
    }
    let shares: AgentShare[];
    try {
      shares = planRun({
        total: this.#p.total,
        scenario: this.#p.scenario,
        agents: agents.map((a) => ({ agentId: a.info.agentId, name: a.info.name, capacity: a.info.capacity })),
      });
    } catch (e) {
      if (e instanceof PlanError) return { kind: 'not-run', exitCode: 2, error: e };
      throw e;
    }
    const byId = new Map(agents.map((a) => [a.info.agentId, a]));
    const active = shares.filter((s) => s.sessions > 0);
    this.#d.progress.note(
      `plan: ${this.#p.total} ${this.#p.scenario} session(s) over ${active.length} agent(s): ` +
        shares.map((s) => `${s.name} ${s.sessions}/${s.capacity}`).join(', ') +
        `; ramp-up ${formatDuration(this.#p.rampUpMs)}`,
    );
    this.#d.progress.plan(
      active.map((s) => ({ name: s.name, sessions: s.sessions })),
      { repeating: this.#p.durationMs !== null },
    );

    const startedAt = this.#now();
    const runInfo: RunInfo = {
      runId: this.#p.runId,
      scenario: this.#p.scenario,
      browser: this.#p.browser,
      total: this.#p.total,
      targetName: this.#p.targetName,
      startedAt,
      params: this.#p.params,
      checkName: this.#p.checkName ?? null,
    };
    const infos = new Map<string, AgentInfo>(active.map((s) => [s.agentId, byId.get(s.agentId)!.info]));
    for (const sink of this.#d.sinks) await sink.runStarted(runInfo, [...infos.values()]);

    const sessionsByAgent = assignSessions(active, this.#p.rampUpMs);
    const leadMs = startLeadMs(active.length);
    const startAt = this.#now() + leadMs;
    const { sessionTimeoutMs } = this.#options;
    // Overall bound: lead + ramp + duration + each agent's waves of session timeouts + the loss grace + drain.
    const waves = Math.max(...active.map((s) => Math.ceil(s.sessions / Math.max(1, s.capacity))));
    const lossGraceMs = this.#p.lossGraceMs ?? AGENT_LOSS_GRACE_MS;
    const boundMs = leadMs + this.#p.rampUpMs + (this.#p.durationMs ?? 0) + sessionTimeoutMs * (waves + 1) + lossGraceMs + this.#p.drainTimeoutMs;
    const meta: RunMeta = {
      runId: this.#p.runId,
      scenario: this.#p.scenario,
      browser: this.#p.browser,
      targetName: this.#p.targetName,
      total: this.#p.total,
      startedAt,
      deadlineAt: startedAt + boundMs,
      thresholds: this.#p.thresholds ?? [],
    };
    const first = startRun(
      {
        runId: this.#p.runId,
        onAgentLoss: this.#p.onAgentLoss ?? 'reassign',
        lossGraceMs,
        drainMs: this.#p.drainTimeoutMs,
        startLeadMs: START_LEAD_MS,
        reassignSpacingMs: Math.round(this.#p.rampUpMs / Math.max(1, this.#p.total)),
        durationMs: this.#p.durationMs,
        sessionTimeoutMs,
      },
      agents.map((a) => ({ agentId: a.info.agentId, name: a.info.name, capacity: a.info.capacity[this.#p.scenario], instanceId: a.hello.instanceId })),
      active.map((s) => ({ agentId: s.agentId, sessions: sessionsByAgent.get(s.agentId)! })),
      startAt,
      this.#p.durationMs,
    );

    // The run's first assignment, kept so a controller that re-adopts the run can reassign its sessions.
    const firstPart = active[0] ? sessionsByAgent.get(active[0].agentId)! : [];
    if (firstPart.length > 0)
      await this.#d.results.writeRunJson(
        this.#p.runId,
        RESULT_FILES.assignment,
        this.#assignment({ part: 0, sessions: firstPart, startAt, durationMs: this.#p.durationMs }),
      );
    const driver = new RunDriver(first.state, {
      pool: this.#d.pool,
      progress: this.#d.progress,
      log: this.#log,
      now: this.#now,
      scenario: this.#p.scenario,
      assignment: (part) => this.#assignment(part),
      persist: (state) => this.#persist(meta, state),
      onDeadline: (at) => {
        meta.deadlineAt = Math.max(meta.deadlineAt, at);
      },
    });
    this.#driver = driver;
    // The plan is durable before any agent gets work: a controller that dies after this leaves a run it can be re-adopted from.
    await this.#persist(meta, first.state);
    if (this.#abortReason !== null) driver.abort(this.#abortReason);
    const assigned = first.commands.filter((c) => c.kind === 'assign').length;
    const unwatch = this.#watchLive([...infos.values()]);
    const end = await driver.start(first.commands, boundMs).finally(unwatch);
    if (end.kind !== 'start-failed' && assigned > 0 && this.#abortReason === null) this.#log.info('run followed to its end');
    this.#d.progress.flush();
    const state = driver.state;
    for (const [id, a] of state.agents)
      if (a.inRun && !infos.has(id))
        infos.set(id, { agentId: id, name: a.name, labels: {}, capacity: { 'chat-load': 0, 'video-call': 0, cobrowse: 0 }, location: this.#locationOf(id) });
    return closeRun(
      {
        runId: this.#p.runId,
        scenario: this.#p.scenario,
        browser: this.#p.browser,
        har: this.#options.har,
        expectedSessions: this.#p.durationMs === null ? this.#p.total : null,
        skipped: this.#skipped,
        agents: [...infos.values()].map((a) => ({ agentId: a.agentId, name: a.name, location: a.location })),
        finished: new Map([...state.agents].filter(([, a]) => a.finished !== null).map(([id, a]) => [id, a.finished!])),
        state,
        end,
        endedAt: this.#now(),
        thresholds: this.#p.thresholds ?? [],
        stoppedBy: this.#stoppedBy,
      },
      { sinks: this.#d.sinks, results: this.#d.results, log: this.#log, evidence: this.#d.evidence },
    );
  }

  /**
   * Follow the run's durable batches as they come (live-run.ts): the progress
   * block shows core metrics so far and each threshold's state from them, and
   * the abort-on-fail thresholds are judged every THRESHOLD_WATCH_EVERY_MS —
   * the first that fails stops the run (the summary says which, exit 99).
   * Returns the unsubscribe.
   */
  #watchLive(agents: readonly AgentInfo[]): () => void {
    const thresholds = this.#p.thresholds ?? [];
    const watched = thresholds.filter((t) => t.abortOnFail);
    const live = new LiveRun(this.#p.runId, {
      scenario: this.#p.scenario,
      skipped: this.#skipped,
      agents: agents.map((a) => ({ agentId: a.agentId, name: a.name, location: a.location })),
    });
    const onBatch = (e: IngestedEvent) => {
      live.add(e, this.#now());
      if (e.runId === this.#p.runId) this.#d.progress.refresh?.();
    };
    this.#d.pool.on('batch', onBatch);
    this.#d.progress.live?.(() => (live.firstSampleAt === null ? null : liveView(live.summary(), thresholds)));
    const timer =
      watched.length === 0
        ? null
        : setInterval(() => {
            if (this.#abortReason !== null || live.firstSampleAt === null) return;
            const failing = abortingThreshold(live.summary(), watched, this.#now() - live.firstSampleAt);
            if (failing === null) return;
            this.#stoppedBy = failing;
            const why = `threshold ${failing.threshold} failed while the run was going: ${thresholdObservation(failing)}; abort-on-fail stops the run`;
            this.#d.progress.note(why);
            this.abort(why);
          }, THRESHOLD_WATCH_EVERY_MS);
    timer?.unref();
    return () => {
      if (timer !== null) clearInterval(timer);
      this.#d.pool.off('batch', onBatch);
      this.#d.progress.live?.(() => null);
    };
  }

  #locationOf(agentId: string): string {
    return this.#d.pool.agent(agentId)?.info.location ?? '?';
  }

  async #persist(meta: RunMeta, state: MachineState): Promise<void> {
    const file = toStateFile(meta, state, state.phase === 'ended' ? this.#now() : null);
    this.#d.registry?.set(file);
    await this.#d.results.writeRunJson(this.#p.runId, RESULT_FILES.state, file);
  }

  /**
   * An agent's assignment. The part every agent gets alike (profile, options…) is checked against
   * the schema once per run, each part's own fields for every part: a run over 5,000 agents does not
   * validate the profile 5,000 times while its agents wait for their work.
   */
  #assignment(part: { part: number; sessions: readonly PlannedSession[]; startAt: number; durationMs: number | null }): Assignment {
    const own = { part: part.part, sessions: part.sessions, startAt: part.startAt, durationMs: part.durationMs };
    if (this.#common === null) {
      const first = AssignmentSchema.parse({
        runId: this.#p.runId,
        scenario: this.#p.scenario,
        browser: this.#p.browser,
        profile: this.#p.profile,
        ...(this.#p.scenarioModule ? { scenarioModule: this.#p.scenarioModule } : {}),
        options: this.#options,
        ...own,
      });
      this.#common = first;
      return first;
    }
    return { ...this.#common, ...ASSIGNMENT_OWN.parse(own) };
  }

  /** Resolves with the connected agents once `expectAgents` are there. */
  #waitForAgents(): Promise<readonly AgentHandle[]> {
    const { pool, progress } = this.#d;
    const want = this.#p.expectAgents;
    const names = () =>
      pool
        .agents()
        .map((a) => a.info.name)
        .join(', ') || 'none';
    if (pool.agents().length >= want) return Promise.resolve(pool.agents());
    const deadline = this.#now() + this.#p.agentWaitMs;
    progress.note(`waiting for ${want} agent(s) (up to ${formatDuration(this.#p.agentWaitMs)})…`);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timeout);
        clearInterval(notice);
        pool.off('agent:connected', onConnect);
        this.#onAbort = null;
      };
      const onConnect = (a: AgentHandle) => {
        progress.note(`agent ${a.info.name} connected (${pool.agents().length}/${want})`);
        if (pool.agents().length >= want) {
          cleanup();
          resolve(pool.agents());
        }
      };
      const timeout = setTimeout(() => {
        cleanup();
        reject(
          agentsMissing(
            `only ${pool.agents().length} of ${want} expected agent(s) connected within ${formatDuration(this.#p.agentWaitMs)} (connected: ${names()}); ` +
              "check the agents' logs (wrong --controller URL or --token?) or increase --agent-wait",
          ),
        );
      }, this.#p.agentWaitMs);
      const notice = setInterval(() => {
        progress.note(
          `waiting for agents: ${pool.agents().length}/${want} connected (${names()}), ${formatDuration(Math.max(0, Math.round((deadline - this.#now()) / 1000) * 1000))} left`,
        );
      }, this.#d.waitNoticeEveryMs ?? WAIT_NOTICE_EVERY_MS);
      this.#onAbort = () => {
        cleanup();
        reject(runAborted(`aborted while waiting for agents: ${this.#abortReason ?? ''}`));
      };
      pool.on('agent:connected', onConnect);
      if (this.#abortReason !== null) this.#onAbort();
    });
  }
}
