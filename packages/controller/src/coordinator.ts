import type { Logger } from 'pino';
import {
  AssignmentSchema, ASSIGN_ACK_TIMEOUT_MS, START_LEAD_MS, SESSION_TIMEOUT_MS, STEP_TIMEOUT_MS, PlanError, describeError,
  type Assignment, type BrowserKind, type InputMode, type ScenarioName, type SessionProgress, type TargetProfile, type RunFinished, type ThinkTime,
} from '@userprobe/shared';
import type { AgentHandle, AgentPool } from './agent-pool.js';
import type { AgentInfo, RunInfo, RunStatus, Sink } from './sink.js';
import { planRun, type AgentShare } from './planner.js';
import { assignSessions } from './ramp.js';
import type { Progress } from './progress.js';
import { formatDuration } from './duration.js';
import { RunError, agentsMissing, runAborted, runTimeout } from './run-errors.js';
import { summarizeRun, allSessionsOk, type RunSummary } from './summary.js';
import type { SampleLine, SessionLine } from './results-files.js';
import type { EvidenceBudget, EvidenceUsage } from './evidence-store.js';

/**
 * One run, start to end: wait for the expected agents, plan, assign (with an
 * agreed start time), follow progress, wait for every agent's `run:finished`
 * and for all its batches up to `lastSeq` to be durable, then summarize.
 * Talks to agents only through an AgentPool, so tests can drive it in memory.
 */
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
  readonly messages: number;
  readonly har: 'off' | 'failures' | 'all';
  readonly adaptiveStart: boolean;
  readonly stepTimeoutMs: number | null;
  readonly sessionTimeoutMs: number | null;
  readonly callDurationMs?: number;
  readonly mirrorSamples?: number;
  readonly thinkTime?: ThinkTime;
  readonly input?: InputMode;
  /** A custom scenario module's path on the agents (`scenario` is its capacity class). */
  readonly scenarioModule?: string | null;
  /** Secret-free operator parameters for run.json. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** The step and session timeouts agents get: the operator's flags, else the profile's, else the defaults. */
export function effectiveTimeouts(p: Pick<RunParams, 'stepTimeoutMs' | 'sessionTimeoutMs'>, profile: TargetProfile): { stepTimeoutMs: number; sessionTimeoutMs: number } {
  const t = profile.timeouts;
  return { stepTimeoutMs: p.stepTimeoutMs ?? t.step ?? STEP_TIMEOUT_MS, sessionTimeoutMs: p.sessionTimeoutMs ?? t.session ?? SESSION_TIMEOUT_MS };
}

export interface RunResultsStore {
  read(runId: string): Promise<{ samples: readonly SampleLine[]; sessions: readonly SessionLine[] }>;
  writeSummary(runId: string, summary: RunSummary): Promise<string>;
}

export interface CoordinatorDeps {
  readonly pool: AgentPool;
  readonly sinks: readonly Sink[];
  readonly results: RunResultsStore;
  readonly progress: Progress;
  readonly log: Logger;
  readonly now?: () => number;
  /** How often the agent wait prints a line. */
  readonly waitNoticeEveryMs?: number;
  /** The run's evidence (for the summary); without it the summary has no evidence line. */
  readonly evidence?: { usage(runId: string): Promise<EvidenceUsage & { readonly budget: EvidenceBudget }> };
}

export type RunOutcome =
  | { readonly kind: 'completed'; readonly status: RunStatus; readonly exitCode: 0 | 1 | 3; readonly summary: RunSummary; readonly summaryPath: string; readonly error: RunError | null }
  | { readonly kind: 'not-run'; readonly exitCode: 2 | 3; readonly error: RunError | PlanError };

/** Exit codes, documented in `controller --help`. */
export const EXIT = { OK: 0, SESSIONS_FAILED: 1, BAD_INPUT: 2, RUN_FAILED: 3 } as const;

export const WAIT_NOTICE_EVERY_MS = 5_000;

interface Tracked {
  readonly handle: AgentHandle;
  readonly share: number;
  finished: RunFinished | null;
  readonly seqs: Set<number>;
  connected: boolean;
  missingTimer: NodeJS.Timeout | null;
}

export class RunCoordinator {
  private abortReason: string | null = null;
  /** Each agent's run:finished (ramp time and peak concurrency go into the summary). */
  private readonly finishedBy = new Map<string, RunFinished>();
  private onAbort: (() => void) | null = null;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly p: RunParams, private readonly d: CoordinatorDeps) {
    this.log = d.log.child({ component: 'coordinator', runId: p.runId });
    this.now = d.now ?? Date.now;
  }

  /** Stop the run: agents get `run:abort`; what is durable is summarized. Idempotent. */
  abort(reason: string): void {
    if (this.abortReason !== null) return;
    this.abortReason = reason;
    this.onAbort?.();
  }

  async run(): Promise<RunOutcome> {
    let agents: readonly AgentHandle[];
    try {
      agents = await this.waitForAgents();
    } catch (e) {
      return { kind: 'not-run', exitCode: 3, error: e as RunError };
    }
    let shares: AgentShare[];
    try {
      shares = planRun({ total: this.p.total, scenario: this.p.scenario, agents: agents.map((a) => ({ agentId: a.info.agentId, name: a.info.name, capacity: a.info.capacity })) });
    } catch (e) {
      if (e instanceof PlanError) return { kind: 'not-run', exitCode: 2, error: e };
      throw e;
    }
    const byId = new Map(agents.map((a) => [a.info.agentId, a]));
    const active = shares.filter((s) => s.sessions > 0);
    this.d.progress.note(`plan: ${this.p.total} ${this.p.scenario} session(s) over ${active.length} agent(s): ` +
      shares.map((s) => `${s.name} ${s.sessions}/${s.capacity}`).join(', ') + `; ramp-up ${formatDuration(this.p.rampUpMs)}`);
    this.d.progress.plan(active.map((s) => ({ name: s.name, sessions: s.sessions })));

    const startedAt = this.now();
    const runInfo: RunInfo = {
      runId: this.p.runId, scenario: this.p.scenario, browser: this.p.browser, total: this.p.total,
      targetName: this.p.targetName, startedAt, params: this.p.params,
    };
    const infos: AgentInfo[] = active.map((s) => byId.get(s.agentId)!.info);
    this.finishedBy.clear();
    for (const sink of this.d.sinks) await sink.runStarted(runInfo, infos);

    const sessionsByAgent = assignSessions(active, this.p.rampUpMs);
    const startAt = this.now() + START_LEAD_MS;
    const tracked = new Map<string, Tracked>(active.map((s) => [s.agentId, {
      handle: byId.get(s.agentId)!, share: s.sessions, finished: null, seqs: new Set<number>(), connected: true, missingTimer: null,
    }]));

    let error: RunError | null = null;
    try {
      await this.follow(tracked, sessionsByAgent, startAt, active);
    } catch (e) {
      if (!(e instanceof RunError)) throw e;
      error = e;
      if (this.abortReason === null) this.log.error({ err: describeError(e) }, 'run did not complete');
      else this.log.warn({ reason: this.abortReason }, 'run aborted');
    }
    return this.finish(error, infos);
  }

  private assignment(agentId: string, sessions: Assignment['sessions'], startAt: number): Assignment {
    return AssignmentSchema.parse({
      runId: this.p.runId,
      scenario: this.p.scenario,
      browser: this.p.browser,
      profile: this.p.profile,
      sessions,
      startAt,
      durationMs: this.p.durationMs,
      ...(this.p.scenarioModule ? { scenarioModule: this.p.scenarioModule } : {}),
      options: {
        messages: this.p.messages,
        ...(this.p.callDurationMs === undefined ? {} : { callDurationMs: this.p.callDurationMs }),
        ...(this.p.mirrorSamples === undefined ? {} : { mirrorSamples: this.p.mirrorSamples }),
        ...(this.p.thinkTime === undefined ? {} : { thinkTime: this.p.thinkTime }),
        ...(this.p.input === undefined ? {} : { input: this.p.input }),
        har: this.p.har,
        adaptiveStart: this.p.adaptiveStart,
        ...effectiveTimeouts(this.p, this.p.profile),
      },
    });
  }

  /** Resolves with the connected agents once `expectAgents` are there. */
  private waitForAgents(): Promise<readonly AgentHandle[]> {
    const { pool, progress } = this.d;
    const want = this.p.expectAgents;
    const names = () => pool.agents().map((a) => a.info.name).join(', ') || 'none';
    if (pool.agents().length >= want) return Promise.resolve(pool.agents());
    const deadline = this.now() + this.p.agentWaitMs;
    progress.note(`waiting for ${want} agent(s) (up to ${formatDuration(this.p.agentWaitMs)})…`);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timeout); clearInterval(notice);
        pool.off('agent:connected', onConnect); this.onAbort = null;
      };
      const onConnect = (a: AgentHandle) => {
        progress.note(`agent ${a.info.name} connected (${pool.agents().length}/${want})`);
        if (pool.agents().length >= want) { cleanup(); resolve(pool.agents()); }
      };
      const timeout = setTimeout(() => {
        cleanup();
        reject(agentsMissing(`only ${pool.agents().length} of ${want} expected agent(s) connected within ${formatDuration(this.p.agentWaitMs)} (connected: ${names()}); ` +
          'check the agents\' logs (wrong --controller URL or --token?) or increase --agent-wait'));
      }, this.p.agentWaitMs);
      const notice = setInterval(() => {
        progress.note(`waiting for agents: ${pool.agents().length}/${want} connected (${names()}), ${formatDuration(Math.max(0, Math.round((deadline - this.now()) / 1000) * 1000))} left`);
      }, this.d.waitNoticeEveryMs ?? WAIT_NOTICE_EVERY_MS);
      this.onAbort = () => { cleanup(); reject(runAborted(`aborted while waiting for agents: ${this.abortReason ?? ''}`)); };
      pool.on('agent:connected', onConnect);
      if (this.abortReason !== null) this.onAbort();
    });
  }

  /** Assign, then wait until every agent finished and its batches are durable. Throws RunError. */
  private follow(tracked: Map<string, Tracked>, sessionsByAgent: Map<string, Assignment['sessions']>, startAt: number, shares: readonly AgentShare[]): Promise<void> {
    const { pool, progress } = this.d;
    const runId = this.p.runId;
    const drain = this.p.drainTimeoutMs;
    const nameOf = (id: string) => tracked.get(id)?.handle.info.name ?? id;
    const missingSeqs = (t: Tracked) => {
      const out: number[] = [];
      for (let s = 1; s <= (t.finished?.lastSeq ?? 0); s++) if (!t.seqs.has(s)) out.push(s);
      return out;
    };

    return new Promise<void>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      let settled = false;
      let drainTimer: NodeJS.Timeout | null = null;
      const settle = (err: RunError | null) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        if (drainTimer) clearTimeout(drainTimer);
        for (const t of tracked.values()) if (t.missingTimer) clearTimeout(t.missingTimer);
        pool.off('batch', onBatch); pool.off('finished', onFinished); pool.off('progress', onProgress);
        pool.off('agent:disconnected', onGone); pool.off('agent:connected', onBack);
        this.onAbort = null;
        if (err) reject(err); else resolve();
      };
      const check = () => {
        const all = [...tracked.values()];
        if (all.every((t) => t.finished !== null && missingSeqs(t).length === 0)) {
          settle(this.abortReason === null ? null : runAborted(`run aborted: ${this.abortReason}`));
          return;
        }
        if (!drainTimer && all.every((t) => t.finished !== null)) {
          drainTimer = setTimeout(() => {
            const lost = all.filter((t) => missingSeqs(t).length).map((t) => `${t.handle.info.name} batches ${missingSeqs(t).join(', ')} of ${t.finished!.lastSeq}`);
            settle(runTimeout(`every agent finished but not all batches arrived within ${formatDuration(drain)} (--drain-timeout): ${lost.join('; ')}; they stay in the agents' spools and are stored when delivered`));
          }, drain);
        }
      };
      const onBatch = (e: { runId: string; agentId: string; seq: number }) => {
        if (e.runId !== runId) return;
        const t = tracked.get(e.agentId);
        if (!t) return;
        t.seqs.add(e.seq);
        check();
      };
      const onFinished = (agentId: string, f: RunFinished) => {
        if (f.runId !== runId) return;
        const t = tracked.get(agentId);
        if (!t) return;
        t.finished = f;
        this.finishedBy.set(agentId, f);
        progress.note(`agent ${nameOf(agentId)} finished: ${f.ok} ok, ${f.failed} failed${f.aborted ? `, ${f.aborted} aborted` : ''}, ${f.lastSeq} batch(es)`);
        check();
      };
      const onProgress = (agentId: string, pr: Pick<SessionProgress, 'runId' | 'phase'>) => {
        if (pr.runId === runId && tracked.has(agentId)) progress.session(nameOf(agentId), pr.phase);
      };
      const onGone = (g: { agentId: string; name: string; reason: string }) => {
        const t = tracked.get(g.agentId);
        if (!t || t.finished) return;
        t.connected = false;
        progress.note(`agent ${g.name} disconnected mid-run (${g.reason}); waiting up to ${formatDuration(drain)} (--drain-timeout) for it to come back`);
        t.missingTimer = setTimeout(() => {
          settle(agentsMissing(`agent ${g.name} disconnected mid-run (${g.reason}) and did not come back within ${formatDuration(drain)} (--drain-timeout); ` +
            `its ${t.share} session(s) are not complete — rerun, or raise --drain-timeout (reassigning a lost agent's sessions is not implemented yet)`));
        }, drain);
      };
      const onBack = (a: AgentHandle) => {
        const t = tracked.get(a.info.agentId);
        if (!t || t.connected) return;
        t.connected = true;
        if (t.missingTimer) { clearTimeout(t.missingTimer); t.missingTimer = null; }
        progress.note(`agent ${a.info.name} is back`);
      };
      pool.on('batch', onBatch); pool.on('finished', onFinished); pool.on('progress', onProgress);
      pool.on('agent:disconnected', onGone); pool.on('agent:connected', onBack);

      // Overall bound: lead + ramp + duration + each agent's waves of session timeouts + drain.
      const a0 = this.assignment('x', [{ sessionId: 'x', startOffsetMs: 0 }], startAt);
      const waves = Math.max(...shares.map((s) => Math.ceil(s.sessions / Math.max(1, s.capacity))));
      const bound = START_LEAD_MS + this.p.rampUpMs + (this.p.durationMs ?? 0) + a0.options.sessionTimeoutMs * (waves + 1) + drain;
      timers.push(setTimeout(() => {
        const waiting = [...tracked.values()].filter((t) => !t.finished).map((t) => t.handle.info.name);
        settle(runTimeout(`run did not finish within ${formatDuration(bound)} (agents still running: ${waiting.join(', ') || 'none'}); ` +
          'the bound is start lead + ramp-up + duration + session timeouts + drain; raise --session-timeout or --drain-timeout'));
      }, bound));

      const abortAll = () => {
        progress.note(`aborting run ${runId}: ${this.abortReason ?? ''}; waiting up to ${formatDuration(drain)} for agents to flush`);
        for (const t of tracked.values()) t.handle.abort({ runId, reason: this.abortReason ?? 'aborted by the operator' });
        timers.push(setTimeout(() => settle(runAborted(`run aborted: ${this.abortReason ?? ''} (agents did not all finish within ${formatDuration(drain)})`)), drain));
        check();
      };
      this.onAbort = abortAll;

      // Assign to every agent; a refusal or a silent agent fails the run.
      void Promise.allSettled([...tracked].map(async ([agentId, t]) => {
        const a = this.assignment(agentId, sessionsByAgent.get(agentId)!, startAt);
        const reply = await t.handle.assign(a, ASSIGN_ACK_TIMEOUT_MS);
        if (!reply.accepted) throw runAborted(`agent ${t.handle.info.name} refused its assignment: ${reply.reason} (${reply.code})`);
      })).then((results) => {
        const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        if (failed.length === 0) {
          progress.note(`assigned; sessions start at ${new Date(startAt).toISOString()}`);
          if (this.abortReason !== null) abortAll();
          return;
        }
        const msg = failed.map((e) => describeError(e).message).join('; ');
        for (const t of tracked.values()) t.handle.abort({ runId, reason: `run could not start: ${msg}`.slice(0, 500) });
        settle(runTimeout(`run could not start: ${msg}`));
      });
    });
  }

  private async finish(error: RunError | null, agents: readonly AgentInfo[]): Promise<RunOutcome> {
    this.d.progress.flush();
    const { samples, sessions } = await this.d.results.read(this.p.runId);
    let evidence: Parameters<typeof summarizeRun>[0]['evidence'];
    if (this.d.evidence) {
      try {
        const u = await this.d.evidence.usage(this.p.runId);
        evidence = { har: this.p.har, budget: u.budget, sessions: u.sessions, bytes: u.bytes, skippedFiles: u.skippedFiles, skippedBytes: u.skippedBytes };
      } catch (e) {
        this.log.warn({ err: describeError(e) }, 'evidence usage unavailable for the summary');
      }
    }
    const summary = summarizeRun({
      runId: this.p.runId,
      scenario: this.p.scenario,
      browser: this.p.browser,
      evidence,
      ramp: [...this.finishedBy].map(([agentId, f]) => ({ agentId, rampMs: f.rampMs, peakConcurrent: f.peakConcurrent })),
      expectedSessions: this.p.durationMs === null ? this.p.total : null,
      agents: agents.map((a) => ({ agentId: a.agentId, name: a.name, location: a.location })),
      samples: samples.map((s) => ({ agentId: s.agentId, sessionId: s.sessionId, metric: s.metric, value: s.value, detail: s.detail, saturated: s.saturated })),
      sessions: sessions.map((s) => ({ agentId: s.agentId, sessionId: s.sessionId, status: s.status, failedStep: s.failedStep })),
    });
    const aborted = this.abortReason !== null;
    const status: RunStatus = aborted ? 'aborted' : error === null && allSessionsOk(summary) ? 'passed' : 'failed';
    const endedAt = this.now();
    for (const sink of this.d.sinks) {
      try { await sink.runEnded(this.p.runId, status, endedAt); } catch (e) {
        this.log.error({ sink: sink.name, err: describeError(e) }, 'sink could not record the end of the run');
      }
    }
    const summaryPath = await this.d.results.writeSummary(this.p.runId, summary);
    const exitCode = aborted || error !== null ? 3 : status === 'passed' ? 0 : 1;
    return { kind: 'completed', status, exitCode, summary, summaryPath, error: error ?? (aborted ? runAborted(`run aborted: ${this.abortReason ?? ''}`) : null) };
  }
}
