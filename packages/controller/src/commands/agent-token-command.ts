import { ConfigError } from '@userprobe/shared';
import { deriveAgentToken, isAgentId } from '../trust/agent-token.js';

/**
 * `controller agent-token AGENT_ID`: print the token of one agent, derived
 * from the master secret in PROBE_TOKEN (never from an argument: arguments
 * show in `ps` and in shell history). The line on stdout is the token alone,
 * so it can be piped into the agent's environment file or a secret store.
 */
export function agentTokenCommand(agentId: string, env: { readonly PROBE_TOKEN?: string | undefined }, out: (line: string) => void): number {
  if (!isAgentId(agentId)) {
    throw new ConfigError(`agent-token: "${agentId.slice(0, 80)}" is not an agent id; accepted: 1-64 characters from A-Z a-z 0-9 . _ : - (the agent's --id)`);
  }
  const master = env.PROBE_TOKEN;
  if (master === undefined || master.trim() === '') {
    throw new ConfigError(
      "agent-token: set PROBE_TOKEN to the controller's master secret (the same value the controller runs with); it is read from the environment only, never from an argument",
    );
  }
  out(deriveAgentToken(master, agentId));
  return 0;
}
