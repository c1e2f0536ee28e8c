import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ConfigError } from '@userprobe/shared';

/*
 * The operator API's client (`controller status`, `abort`, `run
 * --controller`): the daemon's URL, its operator token from
 * PROBE_OPERATOR_TOKEN (never a flag: ps shows flags), and for HTTPS the CA
 * to verify it with (`--ca`, the file deploy/tls/make-ca.sh made; else the
 * system's CAs).
 */

export interface ApiTarget {
  readonly url: URL;
  readonly token: string;
  readonly ca: Buffer | null;
}

export class ApiClientError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export async function apiTarget(p: { controller: string; ca: string | undefined; env: { PROBE_OPERATOR_TOKEN?: string | undefined } }): Promise<ApiTarget> {
  let url: URL;
  try {
    url = new URL(p.controller);
  } catch {
    throw new ConfigError(
      `--controller: "${p.controller}" is not a URL; accepted: http(s)://HOST:PORT of a controller running serve --config, e.g. https://monitor.example.com:7077`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`--controller: ${url.protocol} is not accepted; use http:// (loopback) or https://`);
  const token = p.env.PROBE_OPERATOR_TOKEN?.trim();
  if (!token) throw new ConfigError("set PROBE_OPERATOR_TOKEN to the controller's operator token (the daemon's PROBE_OPERATOR_TOKEN)");
  let ca: Buffer | null = null;
  if (p.ca !== undefined) {
    try {
      ca = await readFile(p.ca);
    } catch (e) {
      throw new ConfigError(`--ca ${p.ca}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  return { url, token, ca };
}

/** One request; resolves with the response (any status) or rejects with what to check. */
export function apiRequest(t: ApiTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<IncomingMessage> {
  const url = new URL(path, t.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${t.token}`, accept: 'application/json, application/x-ndjson' };
  if (text !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  return new Promise((resolve, reject) => {
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { method, headers, ...(t.ca ? { ca: t.ca } : {}) }, resolve)
        : httpRequest(url, { method, headers }, resolve);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ECONNREFUSED'
          ? 'nothing listens there (is `controller serve` running, on that port?)'
          : /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code ?? '')
            ? `its certificate did not verify (${e.code}); pass --ca with the CA file that signed it`
            : `${e.code ?? ''} ${e.message}`.trim();
      reject(new ApiClientError(`cannot reach the controller at ${t.url.origin}: ${why}`, null));
    });
    req.end(text);
  });
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON answer, or an ApiClientError with the API's own message. */
export async function apiJson(t: ApiTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const res = await apiRequest(t, method, path, body);
  const text = await readBody(res);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ApiClientError(
      `the controller answered ${res.statusCode ?? '?'} without JSON (is ${t.url.origin} a userprobe controller with PROBE_OPERATOR_TOKEN set?)`,
      res.statusCode ?? null,
    );
  }
  if ((res.statusCode ?? 500) >= 400) {
    const msg = (doc as { error?: { message?: string } }).error?.message ?? text.slice(0, 300);
    throw new ApiClientError(`the controller refused (${res.statusCode ?? '?'}): ${msg}`, res.statusCode ?? null);
  }
  return doc;
}
