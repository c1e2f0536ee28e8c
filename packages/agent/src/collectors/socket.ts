import type { Protocol } from 'puppeteer-core';
import { ERROR_CODES, StepError, type SocketPattern } from '@userprobe/shared';
import type { CdpNode, CdpTargetTree } from './cdp-tree.js';
import { settleWithin, type WaitOptions } from './deadline.js';
import { redactUrl } from './request-pattern.js';
import { eioVersion, engineSid, engineTransport, parseEnginePacket, splitPollingPayload, type EnginePacket } from './socketio-packets.js';

/*
 * One realtime socket named by the profile (e.g. `sockets.crm`), seen through
 * CDP Network events of the page and its child targets, exactly as the real
 * client library drives it.
 *
 * Socket.IO (default transports) starts with HTTP long-polling:
 *   GET  …?EIO=4&transport=polling          → body `0{"sid":…}` (engine open)
 *   POST …&sid=…  body `40`                 (namespace connect)
 *   GET  …&sid=…                            → body `40{"sid":…}` (connected)
 * and may then upgrade to a websocket (`…&transport=websocket&sid=…`, `2probe`/
 * `3probe`/`5`). With `transports: ['websocket']` it is one websocket whose
 * first received frames are `0{…}` then `40{…}`.
 *
 *   crm_ws_connect = first request of the socket (polling handshake
 *     requestWillBeSent, or webSocketWillSendHandshakeRequest for a websocket-only
 *     client) → the namespace-connect reply `40…` received (loadingFinished of the
 *     poll whose body holds it, or webSocketFrameReceived of the frame). That is
 *     when socket.io-client fires `connect`. `transport` says how the client
 *     started ('polling' | 'websocket'); `connectVia` which transport carried `40`.
 *   crm_ws_frame_rtt = webSocketFrameSent of a Socket.IO event with an ack id
 *     (`42<id>[…]`) → webSocketFrameReceived of its ack (`43<id>[…]`), same
 *     connection and namespace.
 *
 * Timestamps are CDP monotonic seconds.
 */

export type Transport = 'polling' | 'websocket';

export interface EngineConnection {
  /** 0 = the socket's first connection; later ones are reconnects. */
  readonly index: number;
  /** How the client started this connection. */
  readonly transport: Transport;
  readonly url: string;
  /** First request sent (CDP seconds); NaN until a websocket's handshake timestamp arrives. */
  startedAt: number;
  sid?: string;
  /** Engine open packet `0{…}` received. */
  openAt?: number;
  /** Namespace connect reply `40…` received. */
  connectAt?: number;
  connectVia?: Transport;
  connectError?: string;
  /** The client finished upgrading polling → websocket (`5` sent). */
  upgradedAt?: number;
  closedAt?: number;
  closeReason?: string;
}

export interface SocketConnectTiming {
  /** (connect reply received − first request sent) × 1000. */
  readonly durationMs: number;
  readonly transport: Transport;
  readonly connectVia: Transport;
  /** Connections attempted until the first namespace connect (1 = first try). */
  readonly attempts: number;
  readonly url: string;
}

export interface FrameRtt {
  readonly rttMs: number;
  readonly ackId: number;
  readonly connection: number;
}

interface PollRequest {
  readonly node: CdpNode;
  readonly url: string;
  readonly method: string;
  readonly sid: string | undefined;
  conn: EngineConnection | undefined;
}
interface WsStream {
  readonly url: string;
  conn: EngineConnection | undefined;
}

export class SocketCollector {
  readonly name: string;
  readonly #url: RegExp;
  readonly #connections: EngineConnection[] = [];
  readonly #polls = new Map<string, PollRequest>();
  readonly #ws = new Map<string, WsStream>();
  readonly #pendingAcks = new Map<string, number>();
  readonly #rtts: FrameRtt[] = [];
  readonly #waiters = new Set<() => void>();
  /** Response bodies are fetched and parsed in arrival order, so the handshake's sid is known before its polls. */
  #bodyChain: Promise<void> = Promise.resolve();
  /** Bodies that could not be read (kept for diagnostics). */
  readonly bodyErrors: string[] = [];

  readonly #tree: CdpTargetTree;

  constructor(tree: CdpTargetTree, name: string, pattern: SocketPattern) {
    this.name = name;
    this.#tree = tree;
    this.#url = new RegExp(pattern.url);
    tree.on('Network.requestWillBeSent', (ev, node) => this.#onRequest(ev, node));
    tree.on('Network.loadingFinished', (ev, node) => this.#onPollFinished(ev.requestId, ev.timestamp, node));
    tree.on('Network.loadingFailed', (ev, node) => {
      const poll = this.#polls.get(`${node.sessionId}:${ev.requestId}`);
      if (poll?.conn && !ev.canceled && poll.conn.closedAt === undefined) {
        poll.conn.closedAt = ev.timestamp;
        poll.conn.closeReason = `poll failed: ${ev.errorText}`;
        this.#notify();
      }
    });
    tree.on('Network.webSocketCreated', (ev, node) => this.#onWsCreated(ev, node));
    tree.on('Network.webSocketWillSendHandshakeRequest', (ev, node) => {
      const conn = this.#ws.get(`${node.sessionId}:${ev.requestId}`)?.conn;
      if (conn && conn.transport === 'websocket' && Number.isNaN(conn.startedAt)) conn.startedAt = ev.timestamp;
    });
    tree.on('Network.webSocketFrameReceived', (ev, node) => this.#onFrame(ev, node, 'in'));
    tree.on('Network.webSocketFrameSent', (ev, node) => this.#onFrame(ev, node, 'out'));
    tree.on('Network.webSocketClosed', (ev, node) => {
      const ws = this.#ws.get(`${node.sessionId}:${ev.requestId}`);
      const conn = ws?.conn;
      if (conn && conn.closedAt === undefined && (conn.transport === 'websocket' || conn.upgradedAt !== undefined)) {
        conn.closedAt = ev.timestamp;
        conn.closeReason = 'websocket closed';
        this.#notify();
      }
    });
  }

  connections(): readonly EngineConnection[] {
    return this.#connections;
  }

  /** Connections after the first one (the client library reconnected). */
  reconnects(): number {
    return Math.max(0, this.#connections.length - 1);
  }

  closes(): number {
    return this.#connections.filter((c) => c.closedAt !== undefined).length;
  }

  /** Frame round trips measured so far (event with ack id → its ack). */
  frameRtts(): readonly FrameRtt[] {
    return this.#rtts;
  }

  /**
   * Wait until the socket's namespace connect reply has been received. Timed from
   * the first connection's first request, so a failed first try is included in
   * what the visitor waited. Rejects on a connect error (`44…`) or the timeout.
   */
  waitForConnect(opts: WaitOptions & { readonly step?: string }): Promise<SocketConnectTiming> {
    const step = opts.step ?? `socket ${this.name}`;
    return settleWithin<SocketConnectTiming>(
      step,
      opts,
      () => {
        const first = this.#connections[0];
        const state = !first
          ? `no request matching the socket pattern was seen; ${this.#tree.describe()}`
          : first.openAt === undefined
            ? `${first.transport} handshake sent, no engine open packet received`
            : 'engine open received, no namespace connect reply';
        return new StepError(
          step,
          `socket '${this.name}' (/${this.#url.source}/) did not connect within ${opts.timeoutMs} ms (${state}); raise the profile's timeouts.step if the target is this slow`,
          {
            code: ERROR_CODES.STEP_TIMEOUT,
            detail: { socket: this.name, attempts: this.#connections.length },
          },
        );
      },
      (resolve, reject) => {
        const check = (): void => {
          const first = this.#connections[0];
          if (!first || Number.isNaN(first.startedAt)) return;
          const connected = this.#connections.find((c) => c.connectAt !== undefined);
          if (connected) {
            resolve({
              durationMs: (connected.connectAt! - first.startedAt) * 1000,
              transport: first.transport,
              connectVia: connected.connectVia ?? connected.transport,
              attempts: connected.index + 1,
              url: redactUrl(first.url),
            });
            return;
          }
          const refused = this.#connections.find((c) => c.connectError !== undefined);
          if (refused) {
            reject(
              new StepError(step, `socket '${this.name}' was refused by the server: ${refused.connectError ?? ''}`.trim(), {
                detail: { socket: this.name, attempts: this.#connections.length },
              }),
            );
          }
        };
        this.#waiters.add(check);
        check();
        return () => this.#waiters.delete(check);
      },
    );
  }

  #newConnection(transport: Transport, url: string, startedAt: number): EngineConnection {
    const conn: EngineConnection = { index: this.#connections.length, transport, url, startedAt };
    this.#connections.push(conn);
    this.#notify();
    return conn;
  }

  #bySid(sid: string | undefined): EngineConnection | undefined {
    return sid === undefined ? undefined : this.#connections.find((c) => c.sid === sid);
  }

  #onRequest(ev: Protocol.Network.RequestWillBeSentEvent, node: CdpNode): void {
    const { url, method } = ev.request;
    if (!this.#url.test(url) || engineTransport(url) !== 'polling') return;
    const key = `${node.sessionId}:${ev.requestId}`;
    if (this.#polls.has(key)) return; // redirect of a request we already track
    const sid = engineSid(url);
    const conn = sid === undefined && method === 'GET' ? this.#newConnection('polling', url, ev.timestamp) : this.#bySid(sid);
    this.#polls.set(key, { node, url, method, sid, conn });
  }

  #onPollFinished(requestId: string, timestamp: number, node: CdpNode): void {
    const key = `${node.sessionId}:${requestId}`;
    const poll = this.#polls.get(key);
    if (!poll || poll.method !== 'GET') return;
    this.#bodyChain = this.#bodyChain.then(async () => {
      let body: string;
      try {
        const r = await node.session.send('Network.getResponseBody', { requestId });
        body = r.base64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
      } catch (e) {
        this.bodyErrors.push(e instanceof Error ? e.message : String(e));
        return;
      }
      poll.conn ??= this.#bySid(poll.sid);
      for (const text of splitPollingPayload(body, eioVersion(poll.url))) {
        const packet = parseEnginePacket(text);
        if (packet && poll.conn) this.#received(poll.conn, packet, timestamp, 'polling');
      }
      this.#notify();
    });
  }

  #onWsCreated(ev: Protocol.Network.WebSocketCreatedEvent, node: CdpNode): void {
    if (!this.#url.test(ev.url)) return;
    const sid = engineSid(ev.url);
    // A websocket with a sid upgrades an existing polling connection; without one it is a new connection.
    const conn = sid === undefined ? this.#newConnection('websocket', ev.url, Number.NaN) : this.#bySid(sid);
    this.#ws.set(`${node.sessionId}:${ev.requestId}`, { url: ev.url, conn });
  }

  #onFrame(ev: Protocol.Network.WebSocketFrameReceivedEvent, node: CdpNode, dir: 'in' | 'out'): void {
    const ws = this.#ws.get(`${node.sessionId}:${ev.requestId}`);
    if (!ws || ev.response.opcode !== 1) return;
    const packet = parseEnginePacket(ev.response.payloadData);
    if (!packet) return;
    if (!ws.conn) {
      ws.conn = this.#bySid(engineSid(ws.url));
      if (!ws.conn) return;
    }
    const conn = ws.conn;
    if (dir === 'in') {
      this.#received(conn, packet, ev.timestamp, 'websocket');
      this.#notify();
      return;
    }
    if (packet.type === 'upgrade') conn.upgradedAt ??= ev.timestamp;
    const sio = packet.sio;
    if (sio && (sio.type === 'event' || sio.type === 'binary_event') && sio.id !== undefined) {
      this.#pendingAcks.set(`${conn.index}|${sio.nsp}|${sio.id}`, ev.timestamp);
    }
  }

  #received(conn: EngineConnection, packet: EnginePacket, ts: number, via: Transport): void {
    switch (packet.type) {
      case 'open':
        conn.openAt ??= ts;
        if (packet.sid !== undefined) conn.sid ??= packet.sid;
        return;
      case 'close':
        if (conn.closedAt === undefined) {
          conn.closedAt = ts;
          conn.closeReason = 'server sent close';
        }
        return;
      case 'message': {
        const sio = packet.sio;
        if (!sio) return;
        if (sio.type === 'connect' && conn.connectAt === undefined) {
          conn.connectAt = ts;
          conn.connectVia = via;
        } else if (sio.type === 'connect_error') {
          conn.connectError ??= packet.data.slice(1, 200);
        } else if ((sio.type === 'ack' || sio.type === 'binary_ack') && sio.id !== undefined) {
          const k = `${conn.index}|${sio.nsp}|${sio.id}`;
          const sentAt = this.#pendingAcks.get(k);
          if (sentAt !== undefined && via === 'websocket') {
            this.#pendingAcks.delete(k);
            this.#rtts.push({ rttMs: (ts - sentAt) * 1000, ackId: sio.id, connection: conn.index });
          }
        }
        return;
      }
      case 'ping':
      case 'pong':
      case 'upgrade':
      case 'noop':
        return;
      default: {
        const never: never = packet.type;
        return never;
      }
    }
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}
