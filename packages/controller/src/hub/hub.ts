import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { Server, type Socket } from 'socket.io';
import type { Logger } from 'pino';
import {
  AssignReplySchema,
  ClockPingSchema,
  AgentStatusSchema,
  MetricBatchSchema,
  RunFinishedSchema,
  SessionProgressSchema,
  EvidenceUploadSchema,
  AGENT_TO_CONTROLLER_SCHEMAS,
  ERROR_CODES,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TIMEOUT_MS,
  LIVENESS_PROBE_TIMEOUT_MS,
  PACKET_MAX_BYTES,
  ProbeError,
  ProbeReplySchema,
  ResumeReplySchema,
  describeError,
  parseMessage,
  type AgentToController,
  type ControllerToAgent,
  type Assignment,
  type AssignReply,
  type AuthRejection,
  type BatchAck,
  type ClockPong,
  type Hello,
  type OkReply,
  type ResumeReply,
  type RunAbort,
  type RunResume,
  type EvidenceAck,
  type EvidenceUpload,
} from '@userprobe/shared';
import type { RunRegistry } from '../run/run-registry.js';
import type { AgentInfo } from '../results/sink.js';
import type { Ingest } from './ingest.js';
import { agentInfoFromHello, type AgentHandle, type AgentPool, type AgentPoolEvents } from './agent-pool.js';
import { checkHello, type HelloAuth } from './handshake.js';
import { AgentTokens } from '../trust/agent-token.js';
import type { Revocations } from '../trust/revoked-agents.js';
import { LogLimiter } from './log-limiter.js';
import { RefusedPacket, boundedParser } from './bounded-parser.js';

/** Largest socket.io message accepted (text, or all attachments of a binary one): a full batch (10 000 samples) fits with room. */
export const HUB_MAX_PACKET_BYTES = PACKET_MAX_BYTES;
/** Refused handshakes: at most one "agent refused" line per remote address per this window (the rest are counted)… */
export const HUB_REFUSED_LOG_WINDOW_MS = 60_000;
/** …remembering at most this many addresses (beyond them, new addresses share one line). */
export const HUB_REFUSED_LOG_MAX_ADDRESSES = 10_000;

interface SocketData {
  hello: Hello;
  info: AgentInfo;
}
type HubServer = Server<AgentToController, ControllerToAgent, Record<string, never>, SocketData>;
type HubSocket = Socket<AgentToController, ControllerToAgent, Record<string, never>, SocketData>;

/** Where validated evidence uploads go (the controller's EvidenceStore). */
export interface EvidenceHandler {
  handle(upload: EvidenceUpload, agent: AgentInfo): Promise<EvidenceAck>;
}

/** A plain HTTP request on the hub's port (not socket.io's): the operator API of `controller serve --config`. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HubOptions {
  /**
   * The master secret (`--token` / PROBE_TOKEN). An agent's hello carries the
   * token derived from it for the agent's id (agent-token.ts); the master
   * itself is accepted only with `allowSharedToken`.
   */
  readonly token: string;
  /** Accept the master from any agent (`--allow-shared-token`): gives up per-agent identity. Default false. */
  readonly allowSharedToken?: boolean;
  /** Agent ids refused whatever their token (`--revoked-agents`); a connected agent that becomes revoked is disconnected. */
  readonly revoked?: Revocations;
  readonly ingest: Ingest;
  /** Without one, evidence is refused as retryable: agents keep it spooled for a controller that stores it. */
  readonly evidence?: EvidenceHandler;
  readonly log: Logger;
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  /** The controller's clock: answered to `clock:sync`, and the time the refused-handshake log limiter goes by. */
  readonly now?: () => number;
  /**
   * The runs this controller knows (their assignments): a batch is stored only
   * for a run its agent was assigned, sessions of its share, times in the run's
   * window. Every command passes one; without it (tests of the hub's other
   * duties) batches are not checked against any assignment.
   */
  readonly runs?: RunRegistry;
  /** Serves requests on the hub's port other than socket.io's (default: 404 for all). */
  readonly http?: HttpHandler;
  /** How long the connected agent may take to answer a liveness probe when a second connection claims its id. */
  readonly livenessProbeMs?: number;
}

class SocketAgent implements AgentHandle {
  readonly #log: Logger;

  constructor(
    readonly socket: HubSocket,
    readonly info: AgentInfo,
    readonly hello: Hello,
    log: Logger,
  ) {
    this.#log = log;
  }

  assign(assignment: Assignment, timeoutMs: number): Promise<AssignReply> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit('run:assign', assignment, (err: Error | null, reply: unknown) => {
        if (err) {
          reject(new ProbeError(ERROR_CODES.RUN_TIMEOUT, `agent ${this.info.name} did not answer the assignment within ${timeoutMs} ms`));
          return;
        }
        try {
          resolve(parseMessage('run:assign reply', AssignReplySchema, reply));
        } catch (e) {
          this.#log.warn({ err: describeError(e) }, 'invalid assignment reply');
          reject(e);
        }
      });
    });
  }

  abort(abort: RunAbort): void {
    this.socket.emit('run:abort', abort);
  }

  resume(resume: RunResume, timeoutMs: number): Promise<ResumeReply> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit('run:resume', resume, (err: Error | null, reply: unknown) => {
        if (err) {
          reject(new ProbeError(ERROR_CODES.RUN_TIMEOUT, `agent ${this.info.name} did not answer run:resume within ${timeoutMs} ms`));
          return;
        }
        try {
          resolve(parseMessage('run:resume reply', ResumeReplySchema, reply));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /** Does this connection answer? (the agent's instance, or null on silence / a bad reply). */
  async probe(timeoutMs: number): Promise<string | null> {
    if (!this.socket.connected) return null;
    try {
      const reply: unknown = await this.socket.timeout(timeoutMs).emitWithAck('agent:probe', { at: Date.now() });
      const r = ProbeReplySchema.safeParse(reply);
      return r.success ? r.data.instanceId : null;
    } catch {
      return null;
    }
  }
}

/**
 * The agent hub: socket.io server agents dial into (HTTPS when listenHub is
 * given a certificate). Checks every hello (its token must be the one derived
 * for its agent id from the master, handshake.ts and agent-token.ts; its id
 * must not be revoked, and an agent revoked while connected is disconnected), keeps
 * one connection per agentId — a reconnect of the same agent process replaces
 * its stale socket; a second process claiming a live agent's id is refused
 * (the first is asked to answer a liveness probe; silence means it is gone and
 * the newcomer takes its place) — validates
 * every inbound event against the shared schemas (invalid → logged with the
 * agent id and dropped; acked with an error where the event has an error
 * reply), hands batches to ingest and acks only when ingest says durable.
 * Messages over the size limits (see bounded-parser.ts) are refused for good
 * with the reason, never dropped silently with the connection.
 */
export class AgentHub extends EventEmitter<AgentPoolEvents> implements AgentPool {
  readonly io: HubServer;
  readonly #connected = new Map<string, SocketAgent>();
  /**
   * Agent id → the instance being admitted for it (until its connection
   * opens): a second process racing the first is refused too. A claim whose
   * connection never opened expires after two probe timeouts.
   */
  readonly #claims = new Map<string, { instanceId: string; at: number }>();
  readonly #log: Logger;
  readonly #now: () => number;
  /** Anyone can knock: refused handshakes must not flood the log. */
  readonly #refusedLog = new LogLimiter({ windowMs: HUB_REFUSED_LOG_WINDOW_MS, maxKeys: HUB_REFUSED_LOG_MAX_ADDRESSES });
  readonly #opts: HubOptions;

  constructor(httpServer: HttpServer, opts: HubOptions) {
    super();
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'hub' });
    this.#now = opts.now ?? Date.now;
    this.io = new Server(httpServer, {
      pingInterval: opts.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
      pingTimeout: opts.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS,
      maxHttpBufferSize: HUB_MAX_PACKET_BYTES,
      parser: boundedParser,
      serveClient: false,
    });
    const tokens = new AgentTokens(opts.token);
    const judge: HelloAuth = {
      classify: (token, agentId) => tokens.classify(token, agentId),
      allowSharedToken: opts.allowSharedToken ?? false,
      revoked: (agentId) => opts.revoked?.has(agentId) ?? false,
    };
    if (opts.revoked) opts.revoked.on('changed', this.#onRevokedChanged);
    this.io.use((socket, next) => {
      const r = checkHello(socket.handshake.auth, judge);
      if (!r.ok) {
        const remote = socket.handshake.address;
        const d = this.#refusedLog.admit(remote, this.#now());
        if (d.log) this.#log.warn({ remote, code: r.rejection.code, reason: r.rejection.reason, suppressed: d.suppressed }, 'agent refused');
        const err = new Error(r.rejection.reason) as Error & { data: typeof r.rejection };
        err.data = r.rejection;
        next(err);
        return;
      }
      socket.data.hello = r.hello;
      socket.data.info = agentInfoFromHello(r.hello);
      void this.#admitId(r.hello, socket.handshake.address).then((rejection) => {
        if (rejection === null) {
          next();
          return;
        }
        const err = new Error(rejection.reason) as Error & { data: AuthRejection };
        err.data = rejection;
        next(err);
      });
    });
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  agents(): readonly AgentHandle[] {
    return [...this.#connected.values()];
  }

  agent(agentId: string): AgentHandle | undefined {
    return this.#connected.get(agentId);
  }

  /** The revocation list changed: connected agents it now lists are disconnected (and refused when they dial again). */
  readonly #onRevokedChanged = (ids: ReadonlySet<string>): void => {
    for (const [agentId, agent] of this.#connected) {
      if (!ids.has(agentId)) continue;
      this.#log.warn({ agentId, agent: agent.info.name }, 'agent revoked: disconnecting it');
      agent.socket.disconnect(true);
    }
  };

  /**
   * One connection per agent id. The same agent process (same instance)
   * reconnecting replaces its stale socket. Another process with a connected
   * id is refused — unless the connected one does not answer a liveness probe,
   * in which case it is gone (a half-open connection) and is dropped.
   */
  async #admitId(hello: Hello, remote: string): Promise<AuthRejection | null> {
    const probeMs = this.#opts.livenessProbeMs ?? LIVENESS_PROBE_TIMEOUT_MS;
    const claim = this.#claims.get(hello.agentId);
    if (claim !== undefined && claim.instanceId !== hello.instanceId && this.#now() - claim.at < 2 * probeMs) {
      return this.#duplicate(hello, remote, 'another process is claiming this id right now');
    }
    this.#claims.set(hello.agentId, { instanceId: hello.instanceId, at: this.#now() });
    const current = this.#connected.get(hello.agentId);
    if (!current || current.hello.instanceId === hello.instanceId) return null;
    const answer = await current.probe(probeMs);
    if (answer === null) {
      this.#log.warn(
        { agentId: hello.agentId, agent: hello.name },
        'a new process took over an agent id whose connection no longer answers; dropping the old connection',
      );
      if (this.#connected.get(hello.agentId) === current) {
        this.#connected.delete(hello.agentId);
        current.socket.disconnect(true);
        this.emit('agent:disconnected', { agentId: hello.agentId, name: current.info.name, reason: 'replaced: no answer to a liveness probe' });
      }
      return null;
    }
    this.#claims.delete(hello.agentId);
    return this.#duplicate(hello, remote, `agent ${current.info.name} is connected and answering`);
  }

  /** An agent back holding a run that has ended (it was away when the run closed) is told to stop it. */
  async #abortClosedRuns(agent: SocketAgent, log: Logger): Promise<void> {
    const runs = this.#opts.runs;
    if (!runs) return;
    for (const held of agent.hello.runs) {
      if (held.finished && held.running.length === 0 && held.pending === 0) continue; // only batches left: they are welcome
      const f = await runs.get(held.runId);
      if (f?.status !== 'closed') continue;
      log.info({ runId: held.runId }, 'agent holds a run that has ended; telling it to stop');
      agent.abort({ runId: held.runId, reason: `run ${held.runId} has ended (${f.end?.kind ?? 'closed'}) while this agent was away` });
    }
  }

  #duplicate(hello: Hello, remote: string, why: string): AuthRejection {
    this.#log.warn({ agentId: hello.agentId, remote, why }, 'a second connection for an agent id refused');
    return {
      code: ERROR_CODES.AGENT_DUPLICATE,
      reason:
        `agent id "${hello.agentId}" is already connected and answering (${why}); every agent needs its own --id — ` +
        "the id is kept in the agent's spool folder, so do not copy a spool between machines or run two agents on one spool",
    };
  }

  async close(): Promise<void> {
    this.#opts.revoked?.off('changed', this.#onRevokedChanged);
    this.io.disconnectSockets(true);
    await new Promise<void>((resolve) => {
      void this.io.close(() => resolve());
    });
  }

  #onConnection(socket: HubSocket): void {
    const { info, hello } = socket.data;
    const log = this.#log.child({ agentId: info.agentId, agent: info.name });
    const agent = new SocketAgent(socket, info, hello, log);
    const previous = this.#connected.get(info.agentId);
    this.#connected.set(info.agentId, agent);
    if (this.#claims.get(info.agentId)?.instanceId === hello.instanceId) this.#claims.delete(info.agentId);
    if (previous) {
      // The same process again, or a new one whose predecessor did not answer its probe (admitId): the old socket is stale.
      log.info('agent reconnected while its previous connection was still open; replacing the stale one');
      previous.socket.disconnect(true);
    }
    void this.#abortClosedRuns(agent, log);
    log.info({ capacity: info.capacity, labels: info.labels, software: hello.software, host: hello.host }, 'agent connected');

    const dropped = (event: string, e: unknown) => {
      log.warn({ event, err: describeError(e) }, 'invalid message dropped');
    };

    socket.on('metrics:batch', (raw: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: BatchAck) => void) : undefined;
      let batch;
      try {
        batch = parseMessage('metrics:batch', MetricBatchSchema, raw);
      } catch (e) {
        dropped('metrics:batch', e);
        const seq = (raw as { seq?: unknown } | null)?.seq;
        reply?.({
          ok: false,
          seq: typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 ? seq : 0,
          retryable: false,
          code: ERROR_CODES.MESSAGE_INVALID,
          reason: describeError(e).message,
        });
        return;
      }
      if (batch.agentId !== info.agentId) {
        const reason = `batch agentId "${batch.agentId}" does not match this connection's agent "${info.agentId}"; an agent sends only its own batches`;
        dropped('metrics:batch', new ProbeError(ERROR_CODES.MESSAGE_INVALID, reason));
        reply?.({ ok: false, seq: batch.seq, retryable: false, code: ERROR_CODES.MESSAGE_INVALID, reason });
        return;
      }
      const checked = batch;
      void (this.#opts.runs?.checkBatch(info.agentId, checked, this.#now()) ?? Promise.resolve({ ok: true } as const)).then(async (v) => {
        if (!v.ok) {
          if (!v.retryable) dropped('metrics:batch', new ProbeError(ERROR_CODES.MESSAGE_INVALID, v.reason));
          else log.warn({ runId: checked.runId, seq: checked.seq, reason: v.reason }, 'batch for an unknown run kept waiting');
          reply?.({ ok: false, seq: checked.seq, retryable: v.retryable, code: v.code, reason: v.reason });
          return;
        }
        const a = await this.#opts.ingest.handle(checked, info);
        if (a.ok) {
          this.emit('batch', {
            runId: checked.runId,
            agentId: checked.agentId,
            seq: checked.seq,
            duplicate: a.duplicate,
            samples: checked.samples.length,
            sessions: checked.sessions.length,
            records: checked.sessions.map((r) => ({ sessionId: r.sessionId, status: r.status, scenario: r.scenario })),
            batch: checked,
          });
        }
        reply?.(a);
      });
    });

    socket.on('evidence:upload', (raw: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: EvidenceAck) => void) : undefined;
      if (raw instanceof RefusedPacket) {
        log.warn({ event: 'evidence:upload', reason: raw.reason }, 'message over the size limits refused');
        reply?.({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_TOO_LARGE, reason: `evidence:upload refused: ${raw.reason}` });
        return;
      }
      let upload: EvidenceUpload;
      try {
        upload = parseMessage('evidence:upload', EvidenceUploadSchema, raw);
      } catch (e) {
        dropped('evidence:upload', e);
        reply?.({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID, reason: describeError(e).message });
        return;
      }
      if (upload.agentId !== info.agentId) {
        const reason = `evidence agentId "${upload.agentId}" does not match this connection's agent "${info.agentId}"; an agent sends only its own evidence`;
        dropped('evidence:upload', new ProbeError(ERROR_CODES.MESSAGE_INVALID, reason));
        reply?.({ ok: false, retryable: false, code: ERROR_CODES.MESSAGE_INVALID, reason });
        return;
      }
      const store = this.#opts.evidence;
      if (!store) {
        reply?.({ ok: false, retryable: true, code: ERROR_CODES.SINK_UNAVAILABLE, reason: 'this controller does not store evidence; keep it spooled' });
        return;
      }
      void store.handle(upload, info).then(
        (a) => reply?.(a),
        (e: unknown) => {
          log.error({ err: describeError(e) }, 'evidence handler failed');
          reply?.({ ok: false, retryable: true, code: ERROR_CODES.SINK_UNAVAILABLE, reason: describeError(e).message });
        },
      );
    });

    socket.on('session:progress', (raw: unknown) => {
      try {
        this.emit('progress', info.agentId, parseMessage('session:progress', SessionProgressSchema, raw));
      } catch (e) {
        dropped('session:progress', e);
      }
    });

    socket.on('run:finished', (raw: unknown, ack: unknown) => {
      let finished;
      try {
        finished = parseMessage('run:finished', RunFinishedSchema, raw);
      } catch (e) {
        dropped('run:finished', e);
        return;
      }
      log.info({ runId: finished.runId, lastSeq: finished.lastSeq, ok: finished.ok, failed: finished.failed }, 'agent finished its share');
      this.emit('finished', info.agentId, finished);
      if (typeof ack === 'function') (ack as (r: OkReply) => void)({ ok: true });
    });

    socket.on('clock:sync', (raw: unknown, ack: unknown) => {
      let ping;
      try {
        ping = parseMessage('clock:sync', ClockPingSchema, raw);
      } catch (e) {
        dropped('clock:sync', e);
        return;
      }
      if (typeof ack === 'function') (ack as (r: ClockPong) => void)({ t0: ping.t0, controllerNow: this.#now() });
    });

    socket.on('agent:status', (raw: unknown) => {
      try {
        this.emit('status', info.agentId, parseMessage('agent:status', AgentStatusSchema, raw));
      } catch (e) {
        dropped('agent:status', e);
      }
    });

    socket.onAny((event: unknown) => {
      if (typeof event !== 'string' || !Object.hasOwn(AGENT_TO_CONTROLLER_SCHEMAS, event)) {
        log.warn({ event: String(event).slice(0, 64) }, 'unknown event dropped');
      }
    });

    socket.on('disconnect', (reason) => {
      if (this.#connected.get(info.agentId) !== agent) return; // replaced by a newer connection
      this.#connected.delete(info.agentId);
      log.info({ reason }, 'agent disconnected');
      this.emit('agent:disconnected', { agentId: info.agentId, name: info.name, reason });
    });

    this.emit('agent:connected', agent);
  }
}

export interface ListeningHub {
  readonly hub: AgentHub;
  readonly http: HttpServer;
  readonly port: number;
  readonly host: string;
  /** http(s)://host:port — what agents pass as --controller. */
  readonly url: string;
  /** True when the hub serves HTTPS. */
  readonly tls: boolean;
  close(): Promise<void>;
}

/** The hub's certificate and key (PEM), as read from --tls-cert / --tls-key. */
export interface HubTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/**
 * Start an HTTP server — HTTPS when `tls` is given — on host:port (0 = any
 * free port) with the hub on it. Whether plain HTTP may listen on `host` is
 * the config's decision (config.ts), not this function's.
 */
export async function listenHub(host: string, port: number, opts: HubOptions, tls?: HubTls): Promise<ListeningHub> {
  const notFound: HttpHandler = (_req, res) => {
    res.writeHead(404).end();
  };
  // Requests socket.io does not take (its path is /socket.io/) go to the operator API, if any.
  const handler = opts.http ?? notFound;
  // An https.Server is an http.Server for socket.io and for what the hub's callers do with it (address, close).
  const http: HttpServer = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler);
  const hub = new AgentHub(http, opts);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const actual = (http.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { hub, http, port: actual, host, tls: tls !== undefined, url: `${tls ? 'https' : 'http'}://${urlHost}:${actual}`, close: () => hub.close() };
}
