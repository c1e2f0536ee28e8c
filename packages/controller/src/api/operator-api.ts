import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { describeError, ERROR_CODES } from '@userprobe/shared';
import type { HttpHandler } from '../hub/hub.js';
import { LogLimiter } from '../hub/log-limiter.js';

/*
 * The operator API of `controller serve --config`, on the hub's port (same
 * listener, same TLS). Every route but `GET /healthz` needs
 * `Authorization: Bearer <operator token>` (PROBE_OPERATOR_TOKEN: separate
 * from the agents' secret, compared in constant time). docs/operator-api.md.
 *
 *   GET  /healthz                    liveness/readiness (no token): 200 ok, 503 while stopping
 *   GET  /metrics                    Prometheus text exposition (docs/prometheus.md)
 *   GET  /api/v1/status              agents, checks, runs in progress
 *   POST /api/v1/runs                submit a load test (body: `controller run` flags as JSON); NDJSON stream
 *   POST /api/v1/runs/:runId/abort   abort a run in progress (a load test or a round)
 */

export const API_PREFIX = '/api/v1';
/** Where Prometheus scrapes (its default metrics_path). */
export const METRICS_PATH = '/metrics';
/** A load test's flags: small. */
export const MAX_BODY_BYTES = 64 * 1024;
export { MIN_OPERATOR_TOKEN_CHARS } from '../config/config.js';

/** One line of a submitted run's stream (`application/x-ndjson`). */
export type RunStreamLine =
  | { readonly t: 'err'; readonly s: string }
  | { readonly t: 'out'; readonly s: string }
  | { readonly t: 'exit'; readonly code: number; readonly runId: string | null };

export interface RunStream {
  write(line: RunStreamLine): void;
  /** Aborted when the client goes away (its Ctrl-C). */
  readonly signal: AbortSignal;
}

export interface OperatorApiDeps {
  readonly token: string;
  readonly log: Logger;
  readonly health: () => { readonly stopping: boolean; readonly agents: number; readonly checks: number };
  readonly status: () => unknown;
  /** Run a load test, streaming its lines; resolves with its exit code once the `exit` line is written. */
  readonly submitRun: (flags: Record<string, unknown>, stream: RunStream) => Promise<void>;
  readonly abortRun: (runId: string, reason: string) => boolean;
  /** The Prometheus exposition (api/prometheus.ts); without it `/metrics` is 404. */
  readonly metrics?: () => Promise<{ readonly contentType: string; readonly body: string }>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function operatorApi(d: OperatorApiDeps): HttpHandler {
  const want = digest(d.token);
  const refusals = new LogLimiter({ windowMs: 60_000, maxKeys: 1_000 });
  const log = d.log.child({ component: 'operator-api' });
  return (req, res) => {
    void route(req, res).catch((e: unknown) => {
      if (e instanceof ApiError) return sendJson(res, e.status, { error: { code: e.code, message: e.message } });
      log.error({ err: describeError(e), path: req.url }, 'operator API request failed');
      sendJson(res, 500, { error: { code: 'E_INTERNAL', message: 'internal error; see the controller log' } });
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') {
      allow(req, ['GET', 'HEAD']);
      const h = d.health();
      return sendJson(res, h.stopping ? 503 : 200, { status: h.stopping ? 'stopping' : 'ok', agents: h.agents, checks: h.checks });
    }
    if (path === METRICS_PATH && d.metrics) {
      authorize(req);
      allow(req, ['GET', 'HEAD']);
      const m = await d.metrics();
      res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : m.body);
      return;
    }
    if (!path.startsWith(`${API_PREFIX}/`))
      throw new ApiError(
        404,
        'E_NOT_FOUND',
        `no such route: ${path}; the API is under ${API_PREFIX}/${d.metrics ? `, metrics at ${METRICS_PATH}` : ''} (docs/operator-api.md)`,
      );
    authorize(req);
    if (path === `${API_PREFIX}/status`) {
      allow(req, ['GET']);
      return sendJson(res, 200, d.status());
    }
    if (path === `${API_PREFIX}/runs`) {
      allow(req, ['POST']);
      const flags = await readJson(req);
      if (typeof flags !== 'object' || flags === null || Array.isArray(flags))
        throw new ApiError(400, ERROR_CODES.MESSAGE_INVALID, 'the body is a JSON object of `controller run` flags, e.g. {"scenario":"chat-load","total":10}');
      return streamRun(req, res, flags as Record<string, unknown>);
    }
    const abort = new RegExp(`^${API_PREFIX}/runs/([^/]+)/abort$`).exec(path);
    if (abort) {
      allow(req, ['POST']);
      const runId = decodeURIComponent(abort[1]!);
      if (!d.abortRun(runId, 'aborted by an operator (controller abort)'))
        throw new ApiError(404, ERROR_CODES.RUN_UNKNOWN, `no run ${runId} in progress on this controller`);
      return sendJson(res, 202, { runId, aborting: true });
    }
    throw new ApiError(404, 'E_NOT_FOUND', `no such route: ${req.method ?? ''} ${path} (docs/operator-api.md)`);
  }

  function authorize(req: IncomingMessage): void {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (m && timingSafeEqual(digest(m[1]!.trim()), want)) return;
    const who = req.socket.remoteAddress ?? '?';
    const decision = refusals.admit(who, Date.now());
    if (decision.log) log.warn({ remote: who, suppressed: decision.suppressed }, 'operator API request refused: missing or wrong token');
    throw new ApiError(
      401,
      ERROR_CODES.AUTH_REJECTED,
      m
        ? "the operator token is not this controller's (PROBE_OPERATOR_TOKEN)"
        : 'send Authorization: Bearer <operator token> (PROBE_OPERATOR_TOKEN of the controller)',
    );
  }

  async function streamRun(req: IncomingMessage, res: ServerResponse, flags: Record<string, unknown>): Promise<void> {
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    const stream: RunStream = {
      signal: gone.signal,
      write: (line) => {
        if (!res.writableEnded) res.write(JSON.stringify(line) + '\n');
      },
    };
    try {
      await d.submitRun(flags, stream);
    } catch (e) {
      const message = e instanceof ApiError || (e instanceof Error && 'code' in e) ? (e as Error).message : 'internal error; see the controller log';
      if (!(e instanceof ApiError)) log.error({ err: describeError(e) }, 'submitted run failed');
      stream.write({ t: 'err', s: `controller: ${message}\n` });
      stream.write({ t: 'exit', code: e instanceof ApiError && e.status < 500 ? 2 : 3, runId: null });
    }
    res.end();
    void req;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function allow(req: IncomingMessage, methods: readonly string[]): void {
  if (!methods.includes(req.method ?? '')) throw new ApiError(405, 'E_METHOD', `${req.method ?? '?'} is not accepted here; use ${methods.join(' or ')}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, ERROR_CODES.MESSAGE_TOO_LARGE, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, ERROR_CODES.MESSAGE_INVALID, 'the body is not JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
  res.end(text);
}
