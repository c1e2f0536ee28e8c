import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/*
 * Test support: a TCP proxy on loopback in front of MariaDB, so a test can
 * make the database unreachable for the code under test (and only for it)
 * without touching the shared server.
 * - `up`: forwards;
 * - `down`: existing connections are cut, new ones are reset at once;
 * - `blackhole`: existing connections are cut, new ones are accepted and never answered;
 * - `paused`: nothing is forwarded and nothing is closed, as when the proxy
 *   (or the server) is stopped with SIGSTOP: both ends of every connection
 *   stay open and silent (half-open), bytes sent meanwhile wait in the
 *   proxy, new connections are accepted and held. Back to `up`, what waited
 *   is forwarded in order, then closes that happened meanwhile take effect.
 */

export type ProxyMode = 'up' | 'down' | 'blackhole' | 'paused';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  readonly mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  /**
   * Arms a trigger: the proxy switches to `paused` just before it would
   * forward client bytes containing `marker` (e.g. `COMMIT`), so they wait
   * with everything else. Resolves once it has paused.
   */
  pauseOn(marker: string): Promise<void>;
  close(): Promise<void>;
}

/** One client connection and its upstream, with what waits while paused. */
interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Client bytes not yet forwarded (paused, or upstream not yet connected). */
  readonly toServer: Buffer[];
  /** Server bytes not yet forwarded (paused). */
  readonly toClient: Buffer[];
  clientEnded: boolean;
  upstreamEnded: boolean;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'up';
  let accepted = 0;
  let trigger: { marker: Buffer; fire: () => void } | undefined;
  const pairs = new Set<Pair>();

  const destroyPair = (p: Pair, reset: boolean): void => {
    pairs.delete(p);
    for (const s of [p.client, p.upstream]) {
      if (s === undefined) continue;
      if (reset) s.resetAndDestroy();
      else s.destroy();
    }
  };

  /** Forwards what waits and lets both sockets read again; propagates ends that arrived. */
  const flow = (p: Pair): void => {
    const up = p.upstream;
    if (up === undefined) return;
    for (const chunk of p.toServer.splice(0)) up.write(chunk);
    for (const chunk of p.toClient.splice(0)) p.client.write(chunk);
    if (p.clientEnded) up.end();
    if (p.upstreamEnded) p.client.end();
    p.client.resume();
    up.resume();
  };

  const pause = (): void => {
    mode = 'paused';
    for (const p of pairs) {
      p.client.pause();
      p.upstream?.pause();
    }
  };

  const connectUpstream = (p: Pair): void => {
    const up = connect(targetPort, targetHost);
    p.upstream = up;
    up.on('error', () => undefined);
    up.on('data', (chunk: Buffer) => {
      if (mode === 'paused') {
        p.toClient.push(chunk);
        up.pause();
      } else p.client.write(chunk);
    });
    up.on('end', () => {
      p.upstreamEnded = true;
      if (mode !== 'paused') p.client.end();
    });
    up.on('close', () => {
      if (mode !== 'paused') destroyPair(p, false);
    });
    if (mode === 'paused') up.pause();
    else flow(p);
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    client.on('error', () => undefined);
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    const p: Pair = { client, upstream: undefined, toServer: [], toClient: [], clientEnded: false, upstreamEnded: false };
    pairs.add(p);
    if (mode === 'blackhole') return;
    client.on('data', (chunk: Buffer) => {
      if (mode !== 'paused' && trigger !== undefined && chunk.includes(trigger.marker)) {
        const fire = trigger.fire;
        trigger = undefined;
        pause();
        fire();
      }
      if (mode === 'paused' || p.upstream === undefined) {
        p.toServer.push(chunk);
        if (mode === 'paused') client.pause();
      } else p.upstream.write(chunk);
    });
    client.on('end', () => {
      p.clientEnded = true;
      if (mode !== 'paused') p.upstream?.end();
    });
    client.on('close', () => {
      if (mode !== 'paused') destroyPair(p, false);
    });
    if (mode === 'paused') client.pause();
    else connectUpstream(p);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get mode() {
      return mode;
    },
    setMode(next) {
      const was = mode;
      if (next === 'paused') {
        pause();
        return;
      }
      mode = next;
      if (next !== 'up') {
        for (const p of [...pairs]) destroyPair(p, true);
        return;
      }
      if (was !== 'paused') return;
      for (const p of [...pairs]) {
        if (p.upstream === undefined) connectUpstream(p);
        else flow(p);
        // A side that closed while paused: what it sent is forwarded above, then the pair goes.
        if (p.client.destroyed || p.upstream?.destroyed === true) {
          const other = p.client.destroyed ? p.upstream : p.client;
          other?.end();
        }
      }
    },
    pauseOn(marker) {
      return new Promise<void>((resolve) => {
        trigger = { marker: Buffer.from(marker), fire: resolve };
      });
    },
    async close() {
      for (const p of [...pairs]) destroyPair(p, false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
