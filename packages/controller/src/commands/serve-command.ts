import type { ServeConfig } from '../config/config.js';
import { Ingest } from '../hub/ingest.js';
import { FleetDirectory } from '../hub/fleet-directory.js';
import type { HttpHandler } from '../hub/hub.js';
import { openSinks } from '../results/sink-set.js';
import { listenOrExplain, type CommandIo } from './run-command.js';
import { EvidenceStore } from '../results/evidence-store.js';
import { deriveAgentToken } from '../trust/agent-token.js';
import { prepareOutDir } from '../config/out-dir.js';
import { ProgressReporter } from '../run/progress.js';
import { RunRegistry } from '../run/run-registry.js';
import { adoptRun, prepareAdoption, type AdoptedRun } from '../run/run-adopter.js';
import { describeError, type RoundReport } from '@userprobe/shared';
import { Daemon } from '../monitor/daemon.js';
import { operatorApi } from '../api/operator-api.js';
import { LoadTests } from '../api/load-tests.js';
import { statusDocument } from '../api/status-document.js';
import { createControllerMetrics } from '../api/prometheus.js';
import { SINK_MODES, mysqlSinkOf } from '../db/index.js';
import { startServeLocalAgents } from './serve-local-agents.js';
import type { LocalAgents } from './local-agents.js';
import { runFolderStore } from '../results/run-results-store.js';

/** How long the daemon waits for its local agents before the first round (rounds without them would be gaps). */
export const LOCAL_AGENTS_WAIT_MS = 60_000;

/**
 * `controller serve`: the hub and ingest — accepts agents and their spool
 * replays into the results folder (and the database sink) — and the runs a
 * previous controller left open in that folder (it crashed or was killed):
 * each is re-adopted, followed to its end (its agents come back by
 * themselves) and closed with a summary.
 *
 * With `--config monitor.yaml` it is the monitoring daemon as well
 * (monitor/daemon.ts): the checks on their schedules over the standing fleet,
 * reloaded on SIGHUP, retention on its schedule; with PROBE_OPERATOR_TOKEN
 * the operator API (api/operator-api.ts) on the hub's port: status, abort,
 * load tests submitted with `controller run --controller URL`.
 *
 * Ends on SIGINT/SIGTERM with exit 0: no new round, rounds running get a
 * bound to finish, then are aborted; submitted load tests are aborted (their
 * summaries written); every batch already acknowledged is stored. A run still
 * open then stays open for the next controller.
 */
export async function serveCommand(cfg: ServeConfig, io: CommandIo): Promise<number> {
  await prepareOutDir(cfg.outDir);
  const sinks = await openSinks({ outDir: cfg.outDir, dbUrl: cfg.dbUrl, log: io.log, dbSinkFactory: io.dbSinkFactory });
  const ingest = new Ingest(sinks.all, io.log);
  const registry = new RunRegistry(cfg.outDir, io.log);
  // Runs a previous controller left open: read now, followed from the moment the hub listens.
  const toAdopt = await prepareAdoption(cfg.outDir, io.log);
  for (const p of toAdopt) registry.set(p.file);
  const evidence = new EvidenceStore({
    outDir: cfg.outDir,
    log: io.log,
    secrets: [cfg.token],
    agentSecrets: (id) => [deriveAgentToken(cfg.token, id)],
    runs: registry,
  });
  const note = (s: string) => io.stderr.write(s + '\n');
  // Set once the hub listens; the API answers from them (503 until then is not possible: nothing listens before).
  const state: { daemon: Daemon | null; loadTests: LoadTests | null; fleet: FleetDirectory | null; stopping: boolean } = {
    daemon: null,
    loadTests: null,
    fleet: null,
    stopping: false,
  };
  const startedAt = Date.now();
  const mysql = mysqlSinkOf(sinks.all);
  // GET /metrics on the operator API (docs/prometheus.md): gauges read the fleet, the monitor and the sink at each scrape.
  const metrics =
    cfg.operatorToken === null
      ? null
      : createControllerMetrics({
          agents: () => state.fleet?.list() ?? [],
          checks: () => state.daemon?.monitor.status() ?? [],
          runsInProgress: () => ({ round: state.daemon?.monitor.running().length ?? 0, 'load-test': state.loadTests?.running().length ?? 0 }),
          alerts: () => state.daemon?.alerts.states() ?? [],
          mysql: mysql && { modes: SINK_MODES, stats: () => mysql.stats() },
        });
  const api: HttpHandler | undefined =
    cfg.operatorToken === null
      ? undefined
      : operatorApi({
          token: cfg.operatorToken,
          log: io.log,
          health: () => ({
            stopping: state.stopping,
            agents: state.fleet?.list().filter((a) => a.connected).length ?? 0,
            checks: state.daemon?.config.checks.length ?? 0,
          }),
          status: () => statusDocument({ startedAt, configFile: cfg.configFile, daemon: state.daemon, fleet: state.fleet, loadTests: state.loadTests }),
          submitRun: async (flags, stream) => {
            if (state.stopping || state.loadTests === null) throw new Error('the controller is shutting down');
            await state.loadTests.submit(flags, stream);
          },
          abortRun: (runId, reason) => (state.loadTests?.abort(runId, reason) ?? false) || (state.daemon?.monitor.abortRun(runId, reason) ?? false),
          ...(metrics ? { metrics: () => metrics.exposition() } : {}),
        });
  let hub;
  try {
    // Spooled evidence from agents (failed sessions of runs a previous controller started) lands here too.
    hub = await listenOrExplain(cfg, { ingest, log: io.log, runs: registry, evidence, ...(api ? { http: api } : {}) });
  } catch (e) {
    await sinks.close();
    throw e;
  }
  const fleet = new FleetDirectory(hub.hub);
  state.fleet = fleet;
  const progress = new ProgressReporter(io.stderr);
  hub.hub.on('agent:connected', (a) => note(`agent ${a.info.name} connected (${a.info.agentId}, ${a.info.location})`));
  hub.hub.on('agent:disconnected', (g) => note(`agent ${g.name} disconnected (${g.reason})`));
  ingest.on('ingested', (e) => {
    metrics?.ingested(e);
    if (!e.duplicate) io.log.info(e, 'batch stored');
  });

  const adopted: AdoptedRun[] = [];
  for (const p of toAdopt) {
    // Synchronous, right after listen: no agent event can be handled before its run is followed.
    const run = adoptRun(p, {
      outDir: cfg.outDir,
      pool: hub.hub,
      registry,
      sinks: sinks.all,
      progress,
      log: io.log,
      now: Date.now,
      results: runFolderStore(cfg.outDir, sinks.results),
    });
    adopted.push(run);
    void run.closed.then(
      (o) => {
        note(`run ${run.runId} closed: ${o.status} (exit code ${o.exitCode})${o.error ? `: ${o.error.message}` : ''}; summary ${o.summaryPath}`);
      },
      (e: unknown) => io.log.error({ runId: run.runId, err: describeError(e) }, 're-adopted run could not be closed'),
    );
  }

  let agents: LocalAgents | null = null;
  let offHangup = () => {};
  try {
    if (cfg.configFile !== null) {
      state.daemon = await Daemon.start({
        cfg,
        configFile: cfg.configFile,
        hub,
        sinks,
        registry,
        evidence,
        log: io.log,
        note,
        onRound: (r) => {
          note(roundLine(r));
          metrics?.round(r);
        },
        env: process.env,
      });
    }
    state.loadTests = new LoadTests({
      cfg,
      hub,
      sinks,
      registry,
      evidence,
      log: io.log,
      note,
      monitor: () => (state.daemon ? { monitor: state.daemon.monitor, policy: state.daemon.config.loadTests } : null),
    });
    if (cfg.localAgents > 0) agents = await startServeLocalAgents({ cfg, hub, daemon: state.daemon, log: io.log, note, waitMs: LOCAL_AGENTS_WAIT_MS });
    state.daemon?.begin();
  } catch (e) {
    await state.daemon?.stop(0);
    await agents?.stop();
    fleet.close();
    await hub.close();
    await sinks.close();
    throw e;
  }
  if (state.daemon && io.onHangup)
    offHangup = io.onHangup(() => {
      void state.daemon?.reload();
    });
  // The line scripts and tests wait for: the actual port.
  io.stdout.write(`controller listening on ${hub.url}\n`);
  if (api) note(`operator API on ${hub.url}${'/api/v1'} (bearer token: PROBE_OPERATOR_TOKEN); health: ${hub.url}/healthz`);
  const signal = await new Promise<string>((resolve) => {
    const off = io.onInterrupt((s) => {
      off();
      resolve(s);
    });
  });
  state.stopping = true;
  offHangup();
  note(
    `received ${signal}: closing${state.daemon ? ' (no new rounds; rounds running finish or are aborted)' : ''}${adopted.length ? ' (runs still open stay open for the next controller)' : ''}`,
  );
  state.loadTests.abortAll(`the controller received ${signal}`);
  await state.daemon?.stop();
  await agents?.stop();
  fleet.close();
  await hub.close();
  await sinks.close();
  return 0;
}

/** One line per round and location on stderr: what the operator watches in a terminal or the journal. */
export function roundLine(r: RoundReport): string {
  const when = new Date(r.slotAt).toISOString().slice(11, 19);
  const sessions = r.sessions.planned > 0 ? ` (${r.sessions.ok}/${r.sessions.planned} sessions ok)` : '';
  const late = r.startedAt === null ? '' : ` (+${r.startedAt - r.slotAt}ms)`;
  return `round ${r.check} ${r.location} ${when}Z: ${r.status}${sessions}${late}${r.agents.length ? ` on ${r.agents.join(', ')}` : ''}${r.reason ? `: ${r.reason}` : ''}${r.runId ? ` [${r.runId}]` : ''}`;
}
