import { describe, expect, it } from 'vitest';
import { AGENT_TOKEN_MAX_ID_CHARS, AgentTokens, deriveAgentToken } from './agent-token.js';

describe('per-agent tokens', () => {
  it('are HMAC-SHA256(master, agent id) in base64url, as openssl computes it', () => {
    // printf %s agent-1 | openssl dgst -sha256 -hmac secret-token -binary | openssl base64 -A | tr '+/' '-_' | tr -d =
    expect(deriveAgentToken('secret-token', 'agent-1')).toBe('JdKRrwhm5EvUzykGBsO_GMBdL9Rsbs75r_yagvwa7Sg');
    expect(deriveAgentToken('secret-token', 'agent-2')).not.toBe(deriveAgentToken('secret-token', 'agent-1'));
    expect(deriveAgentToken('other-master', 'agent-1')).not.toBe(deriveAgentToken('secret-token', 'agent-1'));
  });

  const tokens = new AgentTokens('m4ster');
  const t1 = deriveAgentToken('m4ster', 'a-1');
  it.each([
    ['its own token', t1, 'a-1', 'agent'],
    ["another agent's token", deriveAgentToken('m4ster', 'a-2'), 'a-1', 'wrong'],
    ['a token of another master', deriveAgentToken('other', 'a-1'), 'a-1', 'wrong'],
    ['the master itself', 'm4ster', 'a-1', 'master'],
    ['the master without an id', 'm4ster', undefined, 'master'],
    ['no token', undefined, 'a-1', 'wrong'],
    ['a number', 42, 'a-1', 'wrong'],
    ['an empty token', '', 'a-1', 'wrong'],
    ['an oversized id (not hashed)', deriveAgentToken('m4ster', 'x'.repeat(AGENT_TOKEN_MAX_ID_CHARS + 1)), 'x'.repeat(AGENT_TOKEN_MAX_ID_CHARS + 1), 'wrong'],
    ['an id that is not a string', t1, ['a-1'], 'wrong'],
  ] as const)('classify: %s → %s', (_name, token, agentId, kind) => {
    expect(tokens.classify(token, agentId)).toBe(kind);
  });
});
