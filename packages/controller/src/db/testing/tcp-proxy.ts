import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * Test support: a TCP proxy on loopback in front of MariaDB, so a test can
 * make the database unreachable for the code under test (and only for it)
 * without touching the shared server.
 * - `up`: forwards;
 * - `down`: existing connections are cut, new ones are reset at once;
 * - `blackhole`: existing connections are cut, new ones are accepted and never answered.
 */
export type ProxyMode = 'up' | 'down' | 'blackhole';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'up';
  let accepted = 0;
  const live = new Set<Socket>();
  const track = (s: Socket): void => {
    live.add(s);
    s.on('close', () => live.delete(s));
    s.on('error', () => undefined);
  };
  const server: Server = createServer((client) => {
    accepted += 1;
    track(client);
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'blackhole') return;
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    setMode(next) {
      mode = next;
      if (next !== 'up') for (const s of live) s.resetAndDestroy();
    },
    async close() {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
