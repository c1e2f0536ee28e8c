import { join } from 'node:path';
import type { Logger } from 'pino';
import { randomBytes } from 'node:crypto';
import { HELLO_MAX_RUNS, PROTOCOL_VERSION, describeError, type AuthError, type Hello } from '@userprobe/shared';
import type { ResolvedAgentConfig } from './config/agent-id.js';
import { BrowserPool } from './host/browser-pool.js';
import { syncClock } from './delivery/clock-sync.js';
import { ClockKeeper } from './delivery/clock-keeper.js';
import { Connection } from './delivery/connection.js';
import { CpuMonitor } from './host/cpu-monitor.js';
import { ProcessTreeCpu } from './host/process-tree-cpu.js';
import { EvidenceSender } from './evidence/evidence-sender.js';
import { EvidenceSpool } from './evidence/evidence-spool.js';
import { SHUTDOWN_GRACE_MS, STATUS_INTERVAL_MS } from './config/limits.js';
import { Runner, type RunnerDeps } from './runner/runner.js';
import type { Scenario } from './runner/scenario-api.js';
import { Sender, type SenderOptions } from './delivery/sender.js';
import { Spool } from './delivery/spool.js';
import { agentPolicy } from './trust/agent-policy.js';
import { readControllerCa } from './trust/controller-trust.js';

export const AGENT_SOFTWARE = 'userprobe-agent/0.1.0';

export interface AgentOptions {
  readonly config: ResolvedAgentConfig;
  readonly log: Logger;
  readonly scenarios: ReadonlyMap<string, Scenario>;
  /** Where profile credentials are read from (the agent's environment; only the variables config.secretEnv lists). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Launch and warm up the default browser before connecting (fail fast when it is missing). Default true. */
  readonly launchBrowserAtStart?: boolean;
  readonly sender?: SenderOptions;
  readonly runner?: Pick<RunnerDeps, 'batch' | 'runFinishedAckTimeoutMs' | 'evidenceWaitMs'>;
  readonly reconnectDelayMinMs?: number;
  readonly reconnectDelayMaxMs?: number;
  readonly shutdownGraceMs?: number;
}

/** How an agent ended: a clean stop, or the controller refused it. */
/** Start pacing reads the machine's CPU over this window (a few saturation readings). */
export const START_PACING_CPU_WINDOW_MS = 750;

/** The evidence spool, inside the agent's spool folder under a name no run id can take. */
export const evidenceSpoolDir = (spoolDir: string): string => join(spoolDir, '+evidence');

export type AgentExit = { readonly kind: 'stopped'; readonly reason: string } | { readonly kind: 'refused'; readonly error: AuthError };

/**
 * Composition: config → spool → browser → connection → sender → runner.
 * `start()` resolves once everything is up and the first dial is under way;
 * `exited` resolves when the agent stops (signal, `stop()`, or a refused handshake).
 */
export class Agent {
  readonly config: ResolvedAgentConfig;
  readonly spool: Spool;
  readonly pool: BrowserPool;
  readonly connection: Connection;
  readonly sender: Sender;
  readonly evidenceSpool: EvidenceSpool;
  readonly evidence: EvidenceSender;
  readonly runner: Runner;
  readonly exited: Promise<AgentExit>;
  readonly #o: AgentOptions;
  readonly #log: Logger;
  readonly #ownCpu = new ProcessTreeCpu();
  readonly #cpu: CpuMonitor;
  readonly #clock: ClockKeeper;
  #resolveExit: (e: AgentExit) => void = () => undefined;
  #statusTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  constructor(o: AgentOptions) {
    this.#o = o;
    const c = o.config;
    this.config = c;
    this.#log = o.log.child({ agentId: c.agentId });
    this.exited = new Promise((resolve) => {
      this.#resolveExit = resolve;
    });
    this.spool = new Spool(c.spoolDir, this.#log);
    this.pool = new BrowserPool({ paths: c.browser, log: this.#log });
    const instanceId = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const hello = (): Hello => ({
      protocolVersion: PROTOCOL_VERSION,
      token: c.token,
      agentId: c.agentId,
      instanceId,
      name: c.name,
      labels: { ...c.labels },
      capacity: { ...c.capacity },
      software: AGENT_SOFTWARE,
      host: { ...c.host },
      // Connection's constructor builds a hello for its instance id before the runner exists: no runs then.
      runs: this.runner ? this.runner.runStates().slice(0, HELLO_MAX_RUNS) : [],
    });
    // The pinned CA, read once here (a ConfigError when unreadable: the agent does not start).
    const ca = c.caFile === null ? undefined : readControllerCa(c.caFile);
    this.connection = new Connection({
      url: c.controllerUrl,
      hello,
      log: this.#log,
      ca,
      caSource: c.caFile === null ? undefined : `--ca ${c.caFile}`,
      reconnectDelayMinMs: o.reconnectDelayMinMs,
      reconnectDelayMaxMs: o.reconnectDelayMaxMs,
      handlers: {
        onAssign: (a) => this.runner.assign(a),
        onAbort: (a) => this.runner.abort(a),
        onResume: (r) => this.runner.resume(r),
        onFatal: (error) => void this.#shutdown({ kind: 'refused', error }),
      },
    });
    const socket = this.connection.socket;
    this.#clock = new ClockKeeper({ sync: () => syncClock(socket, this.#log) });
    socket.on('connect', () => this.#clock.connected());
    socket.on('disconnect', () => this.#clock.disconnected());
    this.sender = new Sender(socket, this.spool, this.#log, o.sender);
    this.evidenceSpool = new EvidenceSpool(evidenceSpoolDir(c.spoolDir), this.#log);
    this.evidence = new EvidenceSender(socket, this.evidenceSpool, c.agentId, this.#log);
    this.runner = new Runner({
      agentId: c.agentId,
      capacity: c.capacity,
      socket,
      spool: this.spool,
      pool: this.pool,
      scenarios: o.scenarios,
      log: this.#log,
      env: o.env,
      secrets: [c.token],
      policy: agentPolicy(c),
      syncClock: () => this.#clock.current(),
      saturated: (from, to) => this.#cpu.crowdedDuring(from, to),
      cpu: () => this.#cpu.recent(START_PACING_CPU_WINDOW_MS),
      ownCpu: () => this.#ownCpu.share(),
      evidence: this.evidence,
      ...o.runner,
    });
    this.#cpu = new CpuMonitor({ sessions: () => this.runner.activeSessions, ownCpuMs: () => this.#ownCpu.cpuMs() });
  }

  async start(): Promise<void> {
    const c = this.config;
    await this.spool.open();
    await this.evidenceSpool.open();
    this.#cpu.start();
    if (this.#o.launchBrowserAtStart ?? true) {
      try {
        await this.pool.ensure(c.browser.kind);
      } catch (e) {
        await this.spool.close();
        this.#cpu.stop();
        throw e;
      }
    }
    this.sender.start();
    this.evidence.start();
    this.connection.connect();
    this.#statusTimer = setInterval(() => this.#status(), STATUS_INTERVAL_MS);
    this.#statusTimer.unref();
    this.#log.info(
      {
        name: c.name,
        controller: c.controllerUrl,
        capacity: c.capacity,
        labels: c.labels,
        spool: c.spoolDir,
        browser: c.browser.kind,
        pending: this.spool.size,
        trust: {
          ca: c.caFile ?? 'system CAs',
          allowHosts: c.allowHosts,
          scenarioDirs: c.scenarioDirs,
          secretEnv: c.secretEnv,
          allowPlainHttp: c.allowPlainHttp,
        },
      },
      'agent started',
    );
  }

  #status(): void {
    const socket = this.connection.socket;
    if (!socket.connected) return;
    const cpu = this.#cpu.cpu;
    socket.emit('agent:status', {
      cpu,
      memMb: this.#cpu.memMb,
      activeSessions: this.runner.activeSessions,
      saturated: this.#cpu.saturated,
      spooled: this.spool.size,
    });
  }

  /** Graceful stop: abort running sessions (recorded as aborted), try to deliver what is spooled, keep the rest, close the browser. */
  stop(reason = 'agent stopping'): Promise<void> {
    return this.#shutdown({ kind: 'stopped', reason });
  }

  #shutdown(exit: AgentExit): Promise<void> {
    this.#stopping ??= (async () => {
      const grace = this.#o.shutdownGraceMs ?? SHUTDOWN_GRACE_MS;
      const reason = exit.kind === 'stopped' ? exit.reason : 'the controller refused this agent';
      this.#log.info({ reason, activeSessions: this.runner.activeSessions }, 'shutting down');
      if (this.#statusTimer) clearInterval(this.#statusTimer);
      this.#clock.stop();
      try {
        await this.runner.shutdown(reason, grace);
        if (exit.kind === 'stopped' && this.connection.socket.connected) await this.sender.drained(grace);
      } catch (e) {
        this.#log.error({ err: describeError(e) }, 'error while stopping runs');
      }
      await this.sender.stop();
      await this.evidence.stop();
      this.connection.close();
      this.#cpu.stop();
      await this.pool.close();
      await this.spool.close();
      this.#log.info({ spooled: this.spool.size }, this.spool.size ? 'stopped; unacknowledged batches stay in the spool for the next start' : 'stopped');
      this.#resolveExit(exit);
    })();
    return this.#stopping;
  }
}
