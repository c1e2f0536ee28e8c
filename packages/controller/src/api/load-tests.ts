import type { Logger } from 'pino';
import { ConfigError, configKeyFlag, describeError, isProbeError, resolveScenarioOptions, scenarioSectionProblem } from '@userprobe/shared';
import { resolveRunConfig, thinkTimeProblem, type RunConfig, type ServeConfig } from '../config/config.js';
import { resolveTarget } from '../config/target.js';
import type { ListeningHub } from '../hub/hub.js';
import type { EvidenceStore } from '../results/evidence-store.js';
import type { Sinks } from '../results/sink-set.js';
import { RunCoordinator } from '../run/coordinator.js';
import { reportClosedRun } from '../results/report-file.js';
import { ProgressReporter } from '../run/progress.js';
import { runParamsOf } from '../run/run-params.js';
import type { RunRegistry } from '../run/run-registry.js';
import { report } from '../run/run-report.js';
import type { LoadTestPolicy } from '../monitor/monitor-config.js';
import type { Monitor } from '../monitor/monitor.js';
import { PoolView } from '../monitor/pool-view.js';
import { ApiError, type RunStream } from './operator-api.js';
import { runFolderStore } from '../results/run-results-store.js';

/*
 * Load tests submitted to the daemon (`controller run --controller URL …`):
 * the same flags, resolved by the same code as a standalone run, run on the
 * standing fleet, with the same progress lines, summary and exit code,
 * streamed back. What it does to the checks is the config's `loadTests`:
 * `keep` — checks go on, and the load test plans around the sessions checks
 * may need on each agent (Monitor.reserve); `pause` — no round starts until
 * it ends (rounds running finish).
 */

/** Flags that belong to the controller process, not to a run: refused in a submitted run. */
export const DAEMON_OWNED_FLAGS = [
  'host',
  'port',
  'token',
  'tlsCert',
  'tlsKey',
  'allowPlainHttp',
  'allowSharedToken',
  'revokedAgents',
  'out',
  'db',
  'localAgents',
  'capacity',
  'agentCli',
  'logLevel',
  'drainTimeout',
  'lossGrace',
  // A file on the daemon's disk at a path the submitter chose: refused (a JUnit report of a submitted run is not written there).
  'junit',
] as const;

export interface LoadTestDeps {
  readonly cfg: ServeConfig;
  readonly hub: ListeningHub;
  readonly sinks: Sinks;
  readonly registry: RunRegistry;
  readonly evidence: EvidenceStore;
  readonly log: Logger;
  /** The monitor and its policy, when the daemon runs checks. */
  readonly monitor: () => { readonly monitor: Monitor; readonly policy: LoadTestPolicy } | null;
  readonly note: (line: string) => void;
}

export class LoadTests {
  readonly #d: LoadTestDeps;
  readonly #running = new Map<string, { coordinator: RunCoordinator; startedAt: number; scenario: string; total: number }>();

  constructor(d: LoadTestDeps) {
    this.#d = d;
  }

  running(): readonly { runId: string; scenario: string; total: number; startedAt: number }[] {
    return [...this.#running].map(([runId, r]) => ({ runId, scenario: r.scenario, total: r.total, startedAt: r.startedAt }));
  }

  abort(runId: string, reason: string): boolean {
    const r = this.#running.get(runId);
    if (!r) return false;
    r.coordinator.abort(reason);
    return true;
  }

  abortAll(reason: string): void {
    for (const r of this.#running.values()) r.coordinator.abort(reason);
  }

  async submit(flags: Record<string, unknown>, stream: RunStream): Promise<void> {
    const { cfg: serve, hub, sinks, registry, evidence, log } = this.#d;
    const owned = Object.keys(flags).filter((k) => (DAEMON_OWNED_FLAGS as readonly string[]).includes(k));
    if (owned.length > 0) {
      throw new ApiError(
        400,
        'E_CONFIG_INVALID',
        `${owned.map(configKeyFlag).join(', ')} belong(s) to the controller, not to a run submitted to it; leave them out (its agents, results folder and database are the daemon's)`,
      );
    }
    let cfg: RunConfig;
    try {
      cfg = resolveRunConfig({ ...flags, host: '127.0.0.1', port: 0, token: serve.token, out: serve.outDir }, {});
    } catch (e) {
      if (e instanceof ConfigError) throw new ApiError(400, e.code, e.message);
      throw e;
    }
    if (this.#running.has(cfg.runId) || (await registry.get(cfg.runId)) !== null)
      throw new ApiError(409, 'E_CONFIG_INVALID', `run id ${cfg.runId} is in use on this controller; pick another --run-id`);
    const err = { write: (s: string) => stream.write({ t: 'err', s }), isTTY: false };
    const progress = new ProgressReporter(err);
    let target;
    try {
      target = await resolveTarget({ target: cfg.target, demoLatency: cfg.demoLatency, demoError: cfg.demoError, profileVars: cfg.profileVars, log });
    } catch (e) {
      if (isProbeError(e)) throw new ApiError(400, e.code, e.message);
      throw e;
    }
    const mon = this.#d.monitor();
    let view: PoolView | null = null;
    let paused = false;
    try {
      const problem =
        (cfg.scenario === 'chat-load' || cfg.scenarioModule !== null ? thinkTimeProblem(resolveScenarioOptions(cfg.options, target.profile)) : null) ??
        scenarioSectionProblem(target.profile, cfg.scenario, cfg.scenarioModule);
      if (problem !== null) throw new ApiError(400, 'E_CONFIG_INVALID', problem);
      progress.note(`target: ${target.description}`);
      if (mon?.policy === 'pause') {
        mon.monitor.pause();
        paused = true;
        progress.note('checks paused while this load test runs (loadTests: pause)');
      }
      view = new PoolView(hub.hub, {
        agentIds: null,
        ...(mon?.policy === 'keep' ? { capacity: (a) => capacityLeft(a.info.capacity, (s) => mon.monitor.reserve(a, s)) } : {}),
      });
      if (mon?.policy === 'keep') progress.note("checks keep running (loadTests: keep): agents' capacity for this run leaves room for them");
      evidence.setBudget(cfg.runId, { maxSessions: cfg.evidenceSessions, maxBytes: cfg.evidenceBytes });
      const coordinator = new RunCoordinator(
        { ...runParamsOf(cfg, target), drainTimeoutMs: serve.drainTimeoutMs, lossGraceMs: serve.lossGraceMs },
        {
          pool: view,
          sinks: sinks.all,
          progress,
          log,
          evidence,
          registry,
          results: runFolderStore(serve.outDir, sinks.results),
        },
      );
      this.#running.set(cfg.runId, { coordinator, startedAt: Date.now(), scenario: cfg.scenario, total: cfg.total });
      this.#d.note(`load test ${cfg.runId} submitted: ${cfg.total} ${cfg.scenario} session(s)`);
      const onGone = () => coordinator.abort('the submitting client went away (controller run interrupted)');
      stream.signal.addEventListener('abort', onGone);
      progress.note(`run ${cfg.runId}: ${cfg.total} ${cfg.scenario} session(s) on the controller's fleet (${view.agents().length} agent(s) connected)`);
      const outcome = await coordinator.run();
      stream.signal.removeEventListener('abort', onGone);
      if (outcome.kind === 'completed') await reportClosedRun(serve.outDir, cfg.runId, outcome, progress);
      const code = report(outcome, cfg, { stdout: { write: (s: string) => stream.write({ t: 'out', s }) } }, progress);
      this.#d.note(`load test ${cfg.runId} ended: exit code ${code}`);
      stream.write({ t: 'exit', code, runId: cfg.runId });
    } catch (e) {
      if (!(e instanceof ApiError)) log.error({ runId: cfg.runId, err: describeError(e) }, 'load test failed');
      throw e;
    } finally {
      this.#running.delete(cfg.runId);
      view?.close();
      if (paused) mon?.monitor.resume();
      await target.close().catch(() => undefined);
    }
  }
}

/** Capacity minus what checks may need, per scenario (never below zero). */
function capacityLeft<C extends Record<string, number>>(capacity: C, reserve: (scenario: keyof C & string) => number): C {
  const out = { ...capacity };
  for (const s of Object.keys(capacity) as (keyof C & string)[]) (out as Record<string, number>)[s] = Math.max(0, capacity[s]! - reserve(s));
  return out;
}
