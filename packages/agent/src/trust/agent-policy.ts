import { ConfigError, ERROR_CODES, ProbeError } from '@userprobe/shared';
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

/**
 * A credential the profile names: only a variable the agent's operator listed (--secret-env)
 * is read — any other is refused, even one with a profile default, so a controller cannot read
 * this agent's environment by naming variables in a profile.
 */
export function readCredential(
  policy: Pick<AgentPolicy, 'secretEnv'>,
  env: Readonly<Record<string, string | undefined>>,
  ref: { readonly env: string; readonly default?: string | undefined },
  agentId: string,
): string {
  if (!policy.secretEnv.has(ref.env)) {
    throw new ProbeError(
      ERROR_CODES.NOT_ALLOWED,
      `the target profile asks for environment variable ${ref.env}, which agent ${agentId} does not read: its operator lists the variables a profile may read with --secret-env (--secret-env ${ref.env})`,
    );
  }
  const v = env[ref.env] ?? ref.default;
  if (v === undefined) throw new ConfigError(`the target profile needs environment variable ${ref.env}, which is not set on agent ${agentId}`);
  return v;
}
