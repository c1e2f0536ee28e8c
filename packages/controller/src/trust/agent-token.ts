import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { IdSchema } from '@userprobe/shared';

/*
 * Per-agent identity from one master secret. The controller's `--token` /
 * PROBE_TOKEN is a master secret that no agent holds; each agent holds its
 * own token, `HMAC-SHA256(master, agentId)` in base64url (43 characters),
 * printed by `controller agent-token AGENT_ID`. The controller recomputes it
 * from the id in each hello, so it stores no per-agent list, and a token
 * speaks for one agent id only: an agent cannot connect as another.
 *
 * Rotating the master changes every agent's token at once; revoking one agent
 * is the --revoked-agents file (revoked-agents.ts).
 */

/** Longest agent id a token is derived for (the hello's id schema); a longer one is a wrong token, not hashed. */
export const AGENT_TOKEN_MAX_ID_CHARS = 64;

/** The token of agent `agentId` under `master`: base64url of HMAC-SHA256(master, agentId). */
export function deriveAgentToken(master: string, agentId: string): string {
  return createHmac('sha256', master).update(agentId, 'utf8').digest('base64url');
}

/** SHA-256 of a token: tokens are compared as digests, so neither content nor length leaks through timing. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Is `id` an agent id a token can be issued for (the hello's id schema)? */
export function isAgentId(id: string): boolean {
  return IdSchema.safeParse(id).success;
}

/**
 * What a hello's token is:
 * - `agent`: the token derived for the hello's agent id;
 * - `master`: the master secret itself (accepted only with --allow-shared-token);
 * - `wrong`: anything else (including a missing or oversized id).
 */
export type TokenKind = 'agent' | 'master' | 'wrong';

/** Tells agent tokens from the master and from wrong ones. Holds the master; never logs or returns it. */
export class AgentTokens {
  readonly #master: string;
  readonly #masterDigest: Buffer;

  constructor(master: string) {
    this.#master = master;
    this.#masterDigest = tokenDigest(master);
  }

  /** The token of `agentId` (for local agents, and `controller agent-token`). */
  tokenFor(agentId: string): string {
    return deriveAgentToken(this.#master, agentId);
  }

  /** Classify `token` as sent with `agentId`, comparing SHA-256 digests in constant time. */
  classify(token: unknown, agentId: unknown): TokenKind {
    if (typeof token !== 'string') return 'wrong';
    const given = tokenDigest(token);
    if (
      typeof agentId === 'string' &&
      agentId.length > 0 &&
      agentId.length <= AGENT_TOKEN_MAX_ID_CHARS &&
      timingSafeEqual(given, tokenDigest(this.tokenFor(agentId)))
    )
      return 'agent';
    return timingSafeEqual(given, this.#masterDigest) ? 'master' : 'wrong';
  }
}
