import { io } from 'socket.io-client';
import type { Logger } from 'pino';
import {
  AuthError,
  AuthRejectionSchema,
  CONTROLLER_TO_AGENT_SCHEMAS,
  ERROR_CODES,
  HEARTBEAT_TIMEOUT_MS,
  MessageError,
  RECONNECT_DELAY_MAX_MS,
  RECONNECT_DELAY_MIN_MS,
  describeError,
  parseMessage,
  type AssignReply,
  type Assignment,
  type Hello,
  type ResumeReply,
  type RunAbort,
  type RunResume,
} from '@userprobe/shared';
import type { AgentSocket } from './agent-socket.js';
import { certificateFailure } from '../trust/controller-trust.js';

export interface ConnectionHandlers {
  /** A validated assignment; the reply is sent as the event's ack. */
  onAssign(assignment: Assignment): Promise<AssignReply>;
  onAbort(abort: RunAbort): void;
  /** Go on with a run after a reconnect, minus the sessions the controller gave to another agent; the reply is the ack. */
  onResume(resume: RunResume): ResumeReply;
  /** The controller refused the handshake, or its certificate did not verify: retrying cannot help. */
  onFatal(error: AuthError): void;
}

export interface ConnectionOptions {
  readonly url: string;
  /** The hello, built afresh for every (re)connect: it carries the runs the agent holds at that moment. */
  readonly hello: () => Hello;
  readonly log: Logger;
  readonly handlers: ConnectionHandlers;
  readonly reconnectDelayMinMs?: number;
  readonly reconnectDelayMaxMs?: number;
  /** PEM of the controller's CA (`--ca`): an https controller is verified against it alone; without it, against the system CAs. */
  readonly ca?: string;
  /** Where `ca` came from, for the message of a certificate that does not verify (e.g. "--ca /etc/userprobe/ca.crt"). */
  readonly caSource?: string;
}

/** Pure: the `data` of a refused handshake → the error to stop with. */
export function authErrorFrom(data: unknown, url: string): AuthError {
  const r = AuthRejectionSchema.safeParse(data);
  const known = [ERROR_CODES.PROTOCOL_MISMATCH, ERROR_CODES.AGENT_DUPLICATE, ERROR_CODES.AGENT_REVOKED] as const;
  const code = r.success && (known as readonly string[]).includes(r.data.code) ? (r.data.code as (typeof known)[number]) : ERROR_CODES.AUTH_REJECTED;
  const reason = r.success ? r.data.reason : 'no reason given';
  return new AuthError(code, `controller ${url} refused this agent: ${reason}`);
}

/** Pure: the error to stop with when the controller's certificate did not verify. */
export function untrustedError(failure: { code: string; message: string }, url: string, caSource: string | undefined): AuthError {
  const against = caSource === undefined ? "the system CAs (pin the controller's own CA with --ca FILE / PROBE_CA_FILE)" : `only the CA in ${caSource}`;
  return new AuthError(
    ERROR_CODES.CONTROLLER_UNTRUSTED,
    `cannot verify controller ${url}: ${failure.message} (${failure.code}); this agent trusts ${against}, and the certificate must name the host in --controller. ` +
      'Not retrying: a certificate that does not verify is a wrong CA, a wrong host name, or someone in the middle',
  );
}

/**
 * Pure: the wait before reconnect attempt `attempt` (0-based) after the
 * controller closed the connection: doubling from `minMs` up to `maxMs`, times
 * a random factor in [0.5, 1.5) so a fleet does not come back in lockstep.
 */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random()));
}

/**
 * The agent's Socket.IO connection. Dials out with a Hello as `auth` (built
 * again for every reconnect, with the runs the agent holds then), and comes
 * back forever after every kind of disconnect: socket.io's own randomised
 * backoff after a lost transport, and ours after the controller closed the
 * connection (a run ending, a controller stopping or restarting), which
 * socket.io does not retry by itself. Validates every inbound event with the
 * shared schemas (invalid ones are logged and dropped; an invalid `run:assign`
 * is nacked), answers liveness probes, and treats a refused handshake — and a
 * controller certificate that does not verify — as fatal.
 */
export class Connection {
  readonly socket: AgentSocket;
  readonly #log: Logger;
  readonly #url: string;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #instanceId: string;
  readonly #caSource: string | undefined;
  #fatal = false;
  #closed = false;
  #attempt = 0;
  #retry: NodeJS.Timeout | null = null;

  constructor(opts: ConnectionOptions) {
    this.#url = opts.url;
    this.#log = opts.log.child({ component: 'connection' });
    this.#minMs = opts.reconnectDelayMinMs ?? RECONNECT_DELAY_MIN_MS;
    this.#maxMs = opts.reconnectDelayMaxMs ?? RECONNECT_DELAY_MAX_MS;
    this.#caSource = opts.ca === undefined ? undefined : (opts.caSource ?? '--ca');
    const hello = opts.hello;
    this.#instanceId = hello().instanceId;
    this.socket = io(opts.url, {
      auth: (cb) => cb(hello()),
      autoConnect: false,
      transports: ['websocket'],
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: this.#minMs,
      reconnectionDelayMax: this.#maxMs,
      timeout: HEARTBEAT_TIMEOUT_MS,
      // https: verified against the pinned CA, else the system CAs (rejectUnauthorized is Node's default, stated here).
      rejectUnauthorized: true,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
    });
    this.#wire(opts.handlers);
  }

  #wire(handlers: ConnectionHandlers): void {
    const s = this.socket;
    const log = this.#log;
    s.on('connect', () => {
      this.#attempt = 0;
      log.info({ controller: this.#url, socketId: s.id }, 'connected to the controller');
    });
    s.on('disconnect', (reason) => {
      if (this.#fatal || this.#closed) return;
      log.warn({ reason }, 'disconnected from the controller; reconnecting');
      // socket.io reconnects by itself after a lost transport, not after the server closed the socket.
      if (reason === 'io server disconnect') this.#reconnectLater();
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => {
      const cert = err.data === undefined ? certificateFailure(err) : null;
      if (err.data !== undefined || cert !== null || !s.active) {
        const e = cert !== null ? untrustedError(cert, this.#url, this.#caSource) : authErrorFrom(err.data, this.#url);
        this.#fatal = true;
        log.fatal(
          { err: describeError(e) },
          cert !== null ? "the controller's certificate did not verify; not retrying" : 'the controller refused this agent; not retrying',
        );
        s.disconnect();
        handlers.onFatal(e);
        return;
      }
      const cause = (err as { description?: { message?: unknown } }).description?.message;
      log.warn(
        { controller: this.#url, err: describeError(err), cause: typeof cause === 'string' ? cause : undefined },
        'cannot reach the controller; retrying',
      );
    });

    s.on('agent:probe', (payload: unknown, ack: unknown) => {
      try {
        parseMessage('agent:probe', CONTROLLER_TO_AGENT_SCHEMAS['agent:probe'], payload);
      } catch (e) {
        log.warn({ event: 'agent:probe', err: describeError(e) }, 'invalid message from the controller dropped');
        return;
      }
      if (typeof ack === 'function') (ack as (r: { instanceId: string }) => void)({ instanceId: this.#instanceId });
    });

    s.on('run:resume', (payload: unknown, ack: unknown) => {
      let resume: RunResume;
      try {
        resume = parseMessage('run:resume', CONTROLLER_TO_AGENT_SCHEMAS['run:resume'], payload);
      } catch (e) {
        log.warn({ event: 'run:resume', err: describeError(e) }, 'invalid message from the controller dropped');
        return;
      }
      const reply = handlers.onResume(resume);
      if (typeof ack === 'function') (ack as (r: ResumeReply) => void)(reply);
    });

    s.on('run:assign', (payload: unknown, ack: unknown) => {
      const reply = (r: AssignReply): void => {
        if (typeof ack === 'function') (ack as (r: AssignReply) => void)(r);
      };
      let assignment: Assignment;
      try {
        assignment = parseMessage('run:assign', CONTROLLER_TO_AGENT_SCHEMAS['run:assign'], payload);
      } catch (e) {
        const d = describeError(e);
        log.warn({ event: 'run:assign', err: d }, 'invalid message from the controller dropped');
        reply({ accepted: false, code: d.code, reason: d.message });
        return;
      }
      handlers.onAssign(assignment).then(reply, (e: unknown) => {
        const d = describeError(e);
        log.error({ runId: assignment.runId, err: d }, 'assignment refused');
        reply({ accepted: false, code: d.code, reason: d.message });
      });
    });

    s.on('run:abort', (payload: unknown) => {
      try {
        handlers.onAbort(parseMessage('run:abort', CONTROLLER_TO_AGENT_SCHEMAS['run:abort'], payload));
      } catch (e) {
        if (!(e instanceof MessageError)) throw e;
        log.warn({ event: 'run:abort', err: describeError(e) }, 'invalid message from the controller dropped');
      }
    });
  }

  #reconnectLater(): void {
    if (this.#retry || this.#closed) return;
    const ms = reconnectDelay(this.#attempt++, this.#minMs, this.#maxMs);
    this.#log.info({ inMs: ms }, 'the controller closed the connection; dialling again');
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (!this.#closed && !this.#fatal && !this.socket.connected) this.socket.connect();
    }, ms);
  }

  connect(): void {
    this.#closed = false;
    this.socket.connect();
  }

  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    this.socket.disconnect();
  }
}
