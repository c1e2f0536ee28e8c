import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import type { Delays } from './http/delays.js';

/**
 * Every Socket.IO server of the app origin (CRM now; signaling and cobrowse
 * later), each on its own path, so knobs can drop them all and close() can
 * close them all.
 */
export class RealtimeRegistry {
  readonly #servers = new Map<string, Server>();

  readonly #http: HttpServer;
  readonly #delays: Delays;

  constructor(http: HttpServer, delays: Delays) {
    this.#http = http;
    this.#delays = delays;
  }

  /**
   * Attach a Socket.IO server at `path` (e.g. '/crm/socket.io/'). `connectDelayMs`
   * is read on every new connection and delays its engine handshake.
   */
  create<L extends object, E extends object, S extends object = object, D = unknown>(
    path: string,
    connectDelayMs: () => number,
    options: Partial<ServerOptions> = {},
  ): Server<L, E, S, D> {
    if (this.#servers.has(path)) throw new Error(`a realtime server is already attached at ${path}`);
    const io = new Server<L, E, S, D>(this.#http, {
      path,
      serveClient: true,
      allowRequest: (_req, fn) => {
        void this.#delays.wait(connectDelayMs()).then(() => fn(null, true));
      },
      ...options,
    });
    this.#servers.set(path, io);
    return io;
  }

  /** Connected sockets on every server. */
  count(): number {
    let n = 0;
    for (const io of this.#servers.values()) n += io.of('/').sockets.size;
    return n;
  }

  /**
   * Drop every socket as a network failure would: close the transport without
   * a disconnect packet, so clients see "transport close" and reconnect.
   */
  dropAll(): number {
    let n = 0;
    for (const io of this.#servers.values()) {
      for (const socket of io.of('/').sockets.values()) {
        socket.conn.close();
        n += 1;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    for (const io of all) io.disconnectSockets(true);
    // io.close() would also close the shared http server; the target closes it itself.
    for (const io of all) io.engine.close();
  }
}
