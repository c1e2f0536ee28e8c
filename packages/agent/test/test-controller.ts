import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import {
  AGENT_TO_CONTROLLER_SCHEMAS,
  HelloSchema,
  PROTOCOL_VERSION,
  type AgentToController,
  type AuthRejection,
  type BatchAck,
  type ControllerToAgent,
  type EvidenceUpload,
  type MetricBatch,
  type RunFinished,
  type SessionProgress,
} from '@userprobe/shared';

/** How the test controller answers a batch. */
export type BatchMode = 'ack' | 'hold' | ((b: MetricBatch) => BatchAck);

export interface TestControllerOptions {
  readonly port?: number;
  readonly token?: string;
  batchMode?: BatchMode;
  /** The controller's clock runs this far ahead of the machine's (clock-sync tests). */
  readonly clockSkewMs?: number;
  /** Serve HTTPS with this certificate and key (PEM): `url` is then https://127.0.0.1:PORT. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

/**
 * A minimal controller over real Socket.IO on loopback (HTTPS with `tls`):
 * checks the token like the real one (refusing with `err.data`), answers
 * clock:sync, stores batches idempotently by (run, agent, seq), and records
 * everything it receives. It sends whatever a test tells it to: it is also
 * the hostile controller of the agent's trust tests.
 */
export class TestController extends EventEmitter {
  readonly io: Server<AgentToController, ControllerToAgent>;
  port = 0;
  opts: TestControllerOptions;
  /** Every batch received, including re-sends. */
  readonly received: MetricBatch[] = [];
  /** Stored batches, by `${runId}/${agentId}/${seq}`. */
  readonly stored = new Map<string, MetricBatch>();
  readonly progress: SessionProgress[] = [];
  readonly finished: RunFinished[] = [];
  /** Evidence uploads received (acked as stored). */
  readonly evidence: EvidenceUpload[] = [];
  readonly sockets: Socket<AgentToController, ControllerToAgent>[] = [];

  constructor(opts: TestControllerOptions = {}) {
    super();
    this.opts = opts;
    const http = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }) : createServer();
    // No test here relies on heartbeats to see a peer go (a closed controller or a killed agent closes the socket):
    // a 2 s ping timeout only dropped connections when the test process stalled on a loaded machine.
    this.io = new Server(http, { pingInterval: 1_000, pingTimeout: 30_000 });
    this.io.use((socket, next) => {
      const h = HelloSchema.safeParse(socket.handshake.auth);
      let rejection: AuthRejection | null = null;
      if (!h.success) rejection = { code: 'E_MESSAGE_INVALID', reason: 'malformed hello' };
      else if (h.data.protocolVersion !== PROTOCOL_VERSION)
        rejection = { code: 'E_PROTOCOL_MISMATCH', reason: `protocol ${h.data.protocolVersion} is not ${PROTOCOL_VERSION}` };
      else if (h.data.token !== (opts.token ?? 'test-token')) rejection = { code: 'E_AUTH_REJECTED', reason: 'wrong token' };
      if (rejection) {
        const err = new Error(rejection.reason) as Error & { data: AuthRejection };
        err.data = rejection;
        next(err);
        return;
      }
      next();
    });
    this.io.on('connection', (socket) => {
      this.sockets.push(socket);
      this.emit('agent', socket);
      socket.on('clock:sync', (p, ack) => ack({ t0: p.t0, controllerNow: this.now() }));
      socket.on('metrics:batch', (payload, ack) => {
        const b = AGENT_TO_CONTROLLER_SCHEMAS['metrics:batch'].parse(payload);
        this.received.push(b);
        this.emit('batch', b);
        const mode = this.opts.batchMode ?? 'ack';
        if (mode === 'hold') return;
        if (typeof mode === 'function') {
          ack(mode(b));
          return;
        }
        const key = `${b.runId}/${b.agentId}/${b.seq}`;
        const duplicate = this.stored.has(key);
        if (!duplicate) this.stored.set(key, b);
        ack({ ok: true, seq: b.seq, duplicate });
        this.emit('stored', b);
      });
      socket.on('session:progress', (p) => {
        this.progress.push(AGENT_TO_CONTROLLER_SCHEMAS['session:progress'].parse(p));
        this.emit('progress', p);
      });
      socket.on('evidence:upload', (u, ack) => {
        const upload = AGENT_TO_CONTROLLER_SCHEMAS['evidence:upload'].parse(u);
        this.evidence.push(upload);
        ack({ ok: true, stored: upload.files.map((f) => `evidence/${upload.sessionId}/${f.name}`), skipped: [], exhausted: false });
        this.emit('evidence', upload);
      });
      socket.on('run:finished', (f, ack) => {
        this.finished.push(AGENT_TO_CONTROLLER_SCHEMAS['run:finished'].parse(f));
        ack({ ok: true });
        this.emit('finished', f);
      });
    });
  }

  /** The controller's clock. */
  now(): number {
    return Date.now() + (this.opts.clockSkewMs ?? 0);
  }

  async listen(): Promise<this> {
    const http = this.io.httpServer;
    http.listen(this.opts.port ?? 0, '127.0.0.1');
    await once(http, 'listening');
    this.port = (http.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Resolves with the first event payload matching `pred` (already received or future). */
  waitFor<T>(event: string, pred: (v: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve) => {
      const on = (v: T): void => {
        if (pred(v)) {
          this.off(event, on);
          resolve(v);
        }
      };
      this.on(event, on);
    });
  }

  async close(): Promise<void> {
    await this.io.close();
  }
}

export async function startTestController(opts: TestControllerOptions = {}): Promise<TestController> {
  return new TestController(opts).listen();
}
