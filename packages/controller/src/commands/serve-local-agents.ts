import type { Logger } from 'pino';
import type { ServeConfig } from '../config/config.js';
import type { ListeningHub } from '../hub/hub.js';
import type { Daemon } from '../monitor/daemon.js';
import { localAgentTrust, localSpoolRoot, startLocalAgents, type LocalAgents, type LocalAgentTrust } from './local-agents.js';

/**
 * `controller serve --local-agents N`: agents on this machine for the
 * daemon's checks (the one-machine continuous mode of the README). They are
 * allowed the hosts, credentials and scenario modules of the checks in the
 * config at start (a check added by a reload that needs another host needs
 * a restart, or agents of its own). Resolves once they are connected (or the
 * wait is over: rounds before then record gaps).
 */
export async function startServeLocalAgents(o: {
  cfg: ServeConfig;
  hub: ListeningHub;
  daemon: Daemon | null;
  log: Logger;
  note: (line: string) => void;
  waitMs: number;
}): Promise<LocalAgents> {
  const { cfg, hub } = o;
  const parts = o.daemon === null ? [] : (await o.daemon.targets()).map((t) => localAgentTrust(t.profile, t.scenarioModule, cfg.tls?.certFile ?? null));
  const trust: LocalAgentTrust = {
    allowHosts: [...new Set(parts.flatMap((p) => p.allowHosts))],
    secretEnv: [...new Set(parts.flatMap((p) => p.secretEnv))],
    scenarioDirs: [...new Set(parts.flatMap((p) => p.scenarioDirs))],
    caFile: cfg.tls?.certFile ?? null,
  };
  const url = `${hub.tls ? 'https' : 'http'}://127.0.0.1:${hub.port}`;
  const agents = startLocalAgents({
    count: cfg.localAgents,
    controllerUrl: url,
    token: cfg.token,
    spoolRoot: localSpoolRoot(cfg.outDir),
    trust,
    capacity: cfg.localCapacity,
    agentCli: cfg.agentCli,
    logLevel: cfg.logLevel,
    log: o.log,
    onExit: (name, code, last) => o.note(`local agent ${name} exited (code ${String(code)})${last.length ? `: ${last.at(-1)!.slice(0, 300)}` : ''}`),
  });
  o.note(`started ${cfg.localAgents} local agent(s): ${agents.names.join(', ')}`);
  const deadline = Date.now() + o.waitMs;
  while (hub.hub.agents().length < cfg.localAgents && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (hub.hub.agents().length < cfg.localAgents)
    o.note(
      `only ${hub.hub.agents().length} of ${cfg.localAgents} local agent(s) connected after ${Math.round(o.waitMs / 1000)}s; rounds go on with those connected`,
    );
  return agents;
}
