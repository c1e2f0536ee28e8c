import { ERROR_CODES, HelloSchema, PROTOCOL_VERSION, formatIssues, type AuthRejection, type Hello } from '@userprobe/shared';
import type { TokenKind } from '../trust/agent-token.js';

/*
 * Checking an agent's hello (socket.io `auth`). Pure apart from hashing.
 * Order: the token first — the token derived for the hello's agent id
 * (agent-token.ts), compared in constant time on SHA-256 digests so neither
 * content nor length leaks; the master secret itself only with
 * --allow-shared-token — so whoever lacks a token learns nothing about this
 * controller (not even its protocol version); then revocation (told only to a
 * holder of the id's token); then the protocol version (an incompatible agent
 * of ours learns that before any shape complaint); then the shape. A reason
 * never echoes a token.
 */

export type HelloCheck = { ok: true; hello: Hello } | { ok: false; rejection: AuthRejection };

/** How the hub judges a hello's credentials. */
export interface HelloAuth {
  /** What the hello's token is for its agent id (AgentTokens.classify). */
  classify(token: unknown, agentId: unknown): TokenKind;
  /** Accept the master secret from any agent (`--allow-shared-token`): no per-agent identity. */
  readonly allowSharedToken: boolean;
  /** Is this agent id revoked (`--revoked-agents`)? */
  revoked(agentId: string): boolean;
}

const WRONG_TOKEN: AuthRejection = Object.freeze({
  code: ERROR_CODES.AUTH_REJECTED,
  reason:
    "wrong token (or none): the agent's PROBE_TOKEN / --token is not this agent id's token; print it on the controller with " +
    "`PROBE_TOKEN=<master> controller agent-token <agent id>` (each agent has its own, derived from the controller's --token / PROBE_TOKEN)",
});

const MASTER_TOKEN: AuthRejection = Object.freeze({
  code: ERROR_CODES.AUTH_REJECTED,
  reason:
    "this agent sent the controller's master secret, which this controller accepts from no agent: give the agent its own token " +
    '(`PROBE_TOKEN=<master> controller agent-token <agent id>`), or start the controller with --allow-shared-token to accept the master ' +
    'from every agent (giving up per-agent identity: any holder can speak for any agent id)',
});

const HELLO_FIELDS = 'protocolVersion, token, agentId, name, labels, capacity {chat-load, video-call, cobrowse}, software, host {cpus, memMb, platform}';

export function checkHello(auth: unknown, judge: HelloAuth): HelloCheck {
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) {
    return { ok: false, rejection: { code: ERROR_CODES.MESSAGE_INVALID, reason: `malformed hello: socket.io auth must be an object with ${HELLO_FIELDS}` } };
  }
  const { token, agentId } = auth as { token?: unknown; agentId?: unknown };
  const kind = judge.classify(token, agentId);
  if (kind === 'wrong') return { ok: false, rejection: WRONG_TOKEN };
  if (kind === 'master' && !judge.allowSharedToken) return { ok: false, rejection: MASTER_TOKEN };
  if (typeof agentId === 'string' && judge.revoked(agentId)) {
    return {
      ok: false,
      rejection: {
        code: ERROR_CODES.AGENT_REVOKED,
        reason: `agent id "${agentId}" is revoked on this controller (listed in its --revoked-agents file); a revoked agent cannot join, whatever its token`,
      },
    };
  }
  const version = (auth as { protocolVersion?: unknown }).protocolVersion;
  if (typeof version === 'number' && version !== PROTOCOL_VERSION) {
    return {
      ok: false,
      rejection: {
        code: ERROR_CODES.PROTOCOL_MISMATCH,
        reason: `protocol mismatch: the agent speaks protocol ${version}, this controller accepts protocol ${PROTOCOL_VERSION}; run agent and controller from the same userprobe release`,
      },
    };
  }
  const r = HelloSchema.safeParse(auth);
  if (!r.success) {
    return {
      ok: false,
      rejection: { code: ERROR_CODES.MESSAGE_INVALID, reason: `malformed hello: ${formatIssues(r.error)}; accepted: an object with ${HELLO_FIELDS}` },
    };
  }
  return { ok: true, hello: r.data };
}
