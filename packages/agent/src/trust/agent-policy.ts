import { HostPolicy } from './host-policy.js';

/**
 * What this agent's own operator allows a controller to make it do, from its
 * config (built once, at start): the hosts its browser opens
 * (`--allow-host`), the folders custom scenario modules load from
 * (`--scenario-dir`) and the environment variables a target profile may read
 * (`--secret-env`). Everything else a controller asks for is refused with the
 * flag that would allow it.
 */
export interface AgentPolicy {
  readonly hosts: HostPolicy;
  /** Absolute folders; a module's real path must lie inside one of their real paths. */
  readonly scenarioDirs: readonly string[];
  /** Variable names `credential(ref)` may read. */
  readonly secretEnv: ReadonlySet<string>;
}

export function agentPolicy(c: {
  readonly allowHosts: readonly string[];
  readonly scenarioDirs: readonly string[];
  readonly secretEnv: readonly string[];
}): AgentPolicy {
  return Object.freeze({ hosts: new HostPolicy(c.allowHosts), scenarioDirs: Object.freeze([...c.scenarioDirs]), secretEnv: new Set(c.secretEnv) });
}
