import { io } from 'socket.io-client';
import type { Logger } from 'pino';
import {
  AuthError, AuthRejectionSchema, CONTROLLER_TO_AGENT_SCHEMAS, ERROR_CODES, HEARTBEAT_TIMEOUT_MS, MessageError,
  RECONNECT_DELAY_MAX_MS, RECONNECT_DELAY_MIN_MS, describeError, parseMessage,
  type AssignReply, type Assignment, type Hello, type RunAbort,
} from '@userprobe/shared';
import type { AgentSocket } from './agent-socket.js';

export interface ConnectionHandlers {
  /** A validated assignment; the reply is sent as the event's ack. */
  onAssign(assignment: Assignment): Promise<AssignReply>;
  onAbort(abort: RunAbort): void;
  /** The controller refused the handshake: retrying cannot help. */
  onFatal(error: AuthError): void;
}

export interface ConnectionOptions {
  readonly url: string;
  readonly hello: Hello;
  readonly log: Logger;
  readonly handlers: ConnectionHandlers;
  readonly reconnectDelayMinMs?: number;
  readonly reconnectDelayMaxMs?: number;
}

/** Pure: the `data` of a refused handshake → the error to stop with. */
export function authErrorFrom(data: unknown, url: string): AuthError {
  const r = AuthRejectionSchema.safeParse(data);
  const code = r.success && r.data.code === ERROR_CODES.PROTOCOL_MISMATCH ? ERROR_CODES.PROTOCOL_MISMATCH : ERROR_CODES.AUTH_REJECTED;
  const reason = r.success ? r.data.reason : 'no reason given';
  return new AuthError(code, `controller ${url} refused this agent: ${reason}`);
}

/**
 * The agent's Socket.IO connection. Dials out with the Hello as `auth` (sent
 * again on every reconnect), reconnects forever with socket.io's randomised
 * backoff, validates every inbound event with the shared schemas (invalid ones
 * are logged and dropped; an invalid `run:assign` is nacked), and treats a
 * refused handshake as fatal.
 */
export class Connection {
  readonly socket: AgentSocket;
  readonly #log: Logger;
  readonly #url: string;
  #fatal = false;

  constructor(opts: ConnectionOptions) {
    this.#url = opts.url;
    this.#log = opts.log.child({ component: 'connection' });
    const hello = opts.hello;
    this.socket = io(opts.url, {
      auth: (cb) => cb(hello),
      autoConnect: false,
      transports: ['websocket'],
      reconnection: true,
      reconnectionAttempts: Infinity,
      reconnectionDelay: opts.reconnectDelayMinMs ?? RECONNECT_DELAY_MIN_MS,
      reconnectionDelayMax: opts.reconnectDelayMaxMs ?? RECONNECT_DELAY_MAX_MS,
      timeout: HEARTBEAT_TIMEOUT_MS,
    }) as AgentSocket;
    this.#wire(opts.handlers);
  }

  #wire(handlers: ConnectionHandlers): void {
    const s = this.socket;
    const log = this.#log;
    s.on('connect', () => log.info({ controller: this.#url, socketId: s.id }, 'connected to the controller'));
    s.on('disconnect', (reason) => {
      if (!this.#fatal) log.warn({ reason }, 'disconnected from the controller; reconnecting');
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => {
      if (err.data !== undefined || !s.active) {
        const e = authErrorFrom(err.data, this.#url);
        this.#fatal = true;
        log.fatal({ code: e.code, reason: e.message }, 'the controller refused this agent; not retrying');
        s.disconnect();
        handlers.onFatal(e);
        return;
      }
      const cause = (err as { description?: { message?: unknown } }).description?.message;
      log.warn({ controller: this.#url, error: describeError(err), cause: typeof cause === 'string' ? cause : undefined }, 'cannot reach the controller; retrying');
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
        log.warn({ event: 'run:assign', error: d }, 'invalid message from the controller dropped');
        reply({ accepted: false, code: d.code, reason: d.message });
        return;
      }
      handlers.onAssign(assignment).then(reply, (e: unknown) => {
        const d = describeError(e);
        log.error({ runId: assignment.runId, error: d }, 'assignment refused');
        reply({ accepted: false, code: d.code, reason: d.message });
      });
    });

    s.on('run:abort', (payload: unknown) => {
      try {
        handlers.onAbort(parseMessage('run:abort', CONTROLLER_TO_AGENT_SCHEMAS['run:abort'], payload));
      } catch (e) {
        if (!(e instanceof MessageError)) throw e;
        log.warn({ event: 'run:abort', error: describeError(e) }, 'invalid message from the controller dropped');
      }
    });
  }

  connect(): void {
    this.socket.connect();
  }

  close(): void {
    this.socket.disconnect();
  }
}
