import { readFileSync } from 'node:fs';
import { ConfigError } from '@userprobe/shared';

/*
 * How the agent trusts its controller: it dials `https://` and verifies the
 * certificate against the system CAs, or only against the CA pinned with
 * `--ca FILE` (PROBE_CA_FILE). Plain `http://` only to a loopback address
 * (the controller on this machine), or with `--allow-plain-http`, which gives
 * up confidentiality: the agent's token and every batch cross the network
 * readable. A certificate that does not verify is not retried: the agent
 * stops (exit 2) with the reason (connection.ts).
 */

/** Pure: is `hostname` (as URL.hostname spells it) a loopback address: 127.0.0.0/8, ::1, localhost? */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (h === 'localhost' || h === '::1') return true;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  return m !== null && m[1] === '127';
}

/** Pure: why the agent will not dial `url`, or null. */
export function controllerUrlProblem(url: string, allowPlainHttp: boolean): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `--controller: "${url}" is not an absolute URL; accepted: https://controller.example.com:7077 (or http:// to a loopback address)`;
  }
  if (u.protocol === 'https:') return null;
  if (u.protocol !== 'http:') return `--controller: ${u.protocol} is not accepted; use https:// (or http:// to a loopback address)`;
  if (allowPlainHttp || isLoopbackHostname(u.hostname)) return null;
  return (
    `--controller ${u.origin} is plain HTTP to a host that is not loopback: this agent's token and every batch would cross the network readable; ` +
    'use https:// (the controller serves it with --tls-cert/--tls-key; pin its CA here with --ca FILE), or pass --allow-plain-http to accept plain HTTP on a network you trust'
  );
}

/** Read the pinned CA (`--ca`), checking it holds at least one PEM certificate. ConfigError names the flag. */
export function readControllerCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--ca (or PROBE_CA_FILE): cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(
      `--ca (or PROBE_CA_FILE): ${file} holds no PEM certificate; accepted: the controller's CA certificate (ca.crt from deploy/tls/make-ca.sh), PEM`,
    );
  }
  return pem;
}

/** OpenSSL / Node codes of a certificate that did not verify (not of a network that failed). */
export const CERTIFICATE_ERROR_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Pure: the certificate failure inside a connect error, if it is one: code
 * and message of the first error in its chain (`description`, `error`,
 * `cause`: socket.io → engine.io transport → ws → tls) with a certificate code.
 */
export function certificateFailure(err: unknown): { code: string; message: string } | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const o = e as { code?: unknown; message?: unknown; description?: unknown; error?: unknown; cause?: unknown };
    if (typeof o.code === 'string' && CERTIFICATE_ERROR_CODES.has(o.code)) {
      return { code: o.code, message: typeof o.message === 'string' ? o.message.split('\n')[0]! : o.code };
    }
    queue.push(o.description, o.error, o.cause);
  }
  return null;
}
