import { createHash, timingSafeEqual } from 'node:crypto';
import { ERROR_CODES, HelloSchema, PROTOCOL_VERSION, formatIssues, type AuthRejection, type Hello } from '@userprobe/shared';

/**
 * Checking an agent's hello (socket.io `auth`). Pure apart from hashing.
 * Order: the token first — compared in constant time on SHA-256 digests so
 * neither content nor length leaks — so whoever lacks it learns nothing about
 * this controller (not even its protocol version); then the protocol version
 * (an incompatible agent of ours learns that before any shape complaint); then
 * the shape. A reason never echoes the token.
 */
export type HelloCheck = { ok: true; hello: Hello } | { ok: false; rejection: AuthRejection };

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const WRONG_TOKEN: AuthRejection = Object.freeze({
  code: ERROR_CODES.AUTH_REJECTED,
  reason: "wrong token (or none): the agent's --token / PROBE_TOKEN does not match the controller's (--token / PROBE_TOKEN)",
});

const HELLO_FIELDS = 'protocolVersion, token, agentId, name, labels, capacity {chat-load, video-call, cobrowse}, software, host {cpus, memMb, platform}';

export function checkHello(auth: unknown, expectedTokenDigest: Buffer): HelloCheck {
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) {
    return { ok: false, rejection: { code: ERROR_CODES.MESSAGE_INVALID, reason: `malformed hello: socket.io auth must be an object with ${HELLO_FIELDS}` } };
  }
  const token = (auth as { token?: unknown }).token;
  if (typeof token !== 'string' || !timingSafeEqual(tokenDigest(token), expectedTokenDigest)) {
    return { ok: false, rejection: WRONG_TOKEN };
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
    return { ok: false, rejection: { code: ERROR_CODES.MESSAGE_INVALID, reason: `malformed hello: ${formatIssues(r.error)}; accepted: an object with ${HELLO_FIELDS}` } };
  }
  return { ok: true, hello: r.data };
}
