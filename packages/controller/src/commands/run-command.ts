import type { Logger } from 'pino';
import { ConfigError, describeError, formatDuration, resolveScenarioOptions } from '@userprobe/shared';
import type { CommonConfig, RunConfig } from '../config/config.js';
import { chooseBrowser, isChatPaced, runProfileProblem } from '../config/config.js';
import { listenHub, type HubOptions, type ListeningHub } from '../hub/hub.js';
import { readTlsFiles } from '../trust/tls-files.js';
import { RevokedAgents } from '../trust/revoked-agents.js';
import { Ingest } from '../hub/ingest.js';
import { openSinks, type DbSinkFactory, type Sinks } from '../results/sink-set.js';
import { resolveTarget, type ResolvedTarget } from '../config/target.js';
import { startLocalAgents, localAgentTrust, localSpoolRoot, type LocalAgents } from './local-agents.js';
import { RunCoordinator } from '../run/coordinator.js';
import { runParamsOf } from '../run/run-params.js';
import { ProgressReporter, type ProgressOutput } from '../run/progress.js';
import { report } from '../run/run-report.js';
import { EvidenceStore } from '../results/evidence-store.js';
import { deriveAgentToken } from '../trust/agent-token.js';
import { RunRegistry } from '../run/run-registry.js';
import { prepareOutDir } from '../config/out-dir.js';
import { runFolderStore } from '../results/run-results-store.js';
import { writeJunit } from '../results/junit-file.js';
import { reportClosedRun } from '../results/report-file.js';

export interface CommandIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: ProgressOutput;
  readonly log: Logger;
  /** Registers a handler for SIGINT/SIGTERM; returns an unregister function. */
  readonly onInterrupt: (fn: (signal: string) => void) => () => void;
  /** Registers a handler for SIGHUP (controller serve --config reloads its config); returns an unregister function. */
  readonly onHangup?: (fn: () => void) => () => void;
  readonly dbSinkFactory?: DbSinkFactory;
}

/**
 * The hub as the config says: HTTPS with --tls-cert/--tls-key (read here;
 * unreadable or unusable files are ConfigErrors), agents' tokens checked
 * against the master (--allow-shared-token also accepts the master itself),
 * --revoked-agents watched until the hub closes. A port in use or a host this
 * machine does not have is a ConfigError naming --port / --host.
 */
export async function listenOrExplain(cfg: CommonConfig, opts: Omit<HubOptions, 'token' | 'allowSharedToken' | 'revoked'>): Promise<ListeningHub> {
  const tls = cfg.tls === null ? undefined : await readTlsFiles(cfg.tls);
  const revoked = cfg.revokedAgentsFile === null ? undefined : await RevokedAgents.open(cfg.revokedAgentsFile, opts.log);
  try {
    const hub = await listenHub(cfg.host, cfg.port, { ...opts, token: cfg.token, allowSharedToken: cfg.allowSharedToken, revoked }, tls);
    return {
      ...hub,
      close: async () => {
        revoked?.close();
        await hub.close();
      },
    };
  } catch (e) {
    revoked?.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`port ${cfg.port} on ${cfg.host} is in use; pass --port with a free port (0 picks one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new ConfigError(`cannot listen on ${cfg.host}:${cfg.port} (${code}); pass --host/--port this machine allows`);
    throw e;
  }
}

/**
 * `controller run`: target → sinks → hub → local agents → coordinator →
 * summary. Returns the exit code; cleans up everything it started.
 */
export async function runCommand(cfg: RunConfig, io: CommandIo): Promise<number> {
  const { log } = io;
  const progress = new ProgressReporter(io.stderr);
  let target: ResolvedTarget | null = null;
  let sinks: Sinks | null = null;
  let hub: ListeningHub | null = null;
  let agents: LocalAgents | null = null;
  let coordinator: RunCoordinator | null = null;
  // Set by the signal handler; `as` keeps TypeScript from narrowing it to null for the code below.
  let interrupted = null as string | null;
  let earlyExit: string | null = null;
  const startedAt = new Date();
  const unregister = io.onInterrupt((signal) => {
    if (interrupted !== null) return;
    interrupted = signal;
    progress.note(`received ${signal}: aborting the run (press again to exit now)`);
    coordinator?.abort(`interrupted by ${signal}`);
  });
  try {
    await prepareOutDir(cfg.outDir);
    target = await resolveTarget({ target: cfg.target, demoLatency: cfg.demoLatency, demoError: cfg.demoError, profileVars: cfg.profileVars, log });
    progress.note(`target: ${target.description}`);
    const options = resolveScenarioOptions(cfg.options, target.profile);
    const chatPaced = isChatPaced(cfg);
    if (options.thinkTime.maxMs > 0 && !chatPaced) progress.note(`note: --think-time has no effect on ${cfg.scenario} (it paces chat-load's exchanges)`);
    else if (options.thinkTime.maxMs > 0 && options.messages === 1)
      progress.note('note: --think-time has no effect with --messages 1 (the pauses come between exchanges)');
    if (options.chatsPerConsole > 1 && cfg.scenario !== 'chat-load' && cfg.scenarioModule === null)
      progress.note(`note: --chats-per-console has no effect on ${cfg.scenario} (each of its sessions needs a console of its own)`);
    const problem = runProfileProblem(cfg, target.profile);
    if (problem !== null) throw new ConfigError(problem);
    sinks = await openSinks({ outDir: cfg.outDir, dbUrl: cfg.dbUrl, log, dbSinkFactory: io.dbSinkFactory });
    const ingest = new Ingest(sinks.all, log);
    const registry = new RunRegistry(cfg.outDir, log);
    const evidence = new EvidenceStore({
      outDir: cfg.outDir,
      log,
      secrets: [cfg.token],
      agentSecrets: (id) => [deriveAgentToken(cfg.token, id)],
      runs: registry,
    });
    evidence.setBudget(cfg.runId, { maxSessions: cfg.evidenceSessions, maxBytes: cfg.evidenceBytes });
    hub = await listenOrExplain(cfg, { ingest, log, evidence, runs: registry });
    const { browser, source } = chooseBrowser(cfg, target.profile.browser);
    progress.note(
      `run ${cfg.runId}: ${cfg.total} ${cfg.scenario} session(s) on ${browser === 'shell' ? 'chromium-headless-shell' : 'full Chromium'}` +
        `${source === 'flag' ? '' : ` (${source === 'profile' ? 'from the profile' : 'default'})`}, ` +
        `ramp-up ${formatDuration(cfg.rampUpMs)}${cfg.durationMs === null ? '' : `, repeating for ${formatDuration(cfg.durationMs)}`}; agents connect to ${hub.url}`,
    );
    if (cfg.localAgents > 0) {
      const url = `${hub.tls ? 'https' : 'http'}://127.0.0.1:${hub.port}`;
      agents = startLocalAgents({
        count: cfg.localAgents,
        controllerUrl: url,
        token: cfg.token,
        spoolRoot: localSpoolRoot(cfg.outDir),
        trust: localAgentTrust(target.profile, cfg.scenarioModule, cfg.tls?.certFile ?? null),
        capacity: cfg.localCapacity,
        agentCli: cfg.agentCli,
        logLevel: cfg.logLevel,
        log,
        onExit: (name, code, last) => {
          const why = `local agent ${name} exited (code ${String(code)})${last.length ? `: ${last.at(-1)!.slice(0, 300)}` : ''}`;
          progress.note(why);
          // Its sessions cannot complete: stop now instead of waiting out the timeouts.
          coordinator?.abort(why);
          earlyExit ??= why;
        },
      });
      progress.note(`started ${cfg.localAgents} local agent(s): ${agents.names.join(', ')}`);
    }
    const resultsSink = sinks.results;
    coordinator = new RunCoordinator(runParamsOf(cfg, target), {
      pool: hub.hub,
      sinks: sinks.all,
      progress,
      log,
      evidence,
      registry,
      results: runFolderStore(cfg.outDir, resultsSink),
    });
    if (interrupted !== null) coordinator.abort(`interrupted by ${interrupted}`);
    if (earlyExit !== null) coordinator.abort(earlyExit);
    const outcome = await coordinator.run();
    if (cfg.junitFile !== null) await writeJunit(cfg, outcome, startedAt, progress);
    if (outcome.kind === 'completed') await reportClosedRun(cfg.outDir, cfg.runId, outcome, progress);
    return report(outcome, cfg, io, progress);
  } finally {
    unregister();
    const steps: [string, (() => Promise<void>) | undefined][] = [
      ['local agents', agents?.stop.bind(agents)],
      ['hub', hub?.close.bind(hub)],
      ['sinks', sinks?.close.bind(sinks)],
      ['target', target?.close.bind(target)],
    ];
    for (const [what, stop] of steps) {
      if (!stop) continue;
      try {
        await stop();
      } catch (e) {
        log.warn({ what, err: describeError(e) }, 'cleanup failed');
      }
    }
  }
}
