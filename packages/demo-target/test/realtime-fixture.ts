import { afterAll, beforeAll, beforeEach } from 'vitest';
import { io as connectIo, type Socket } from 'socket.io-client';
import { startDemoTarget, type DemoTarget } from '../src/index.js';

/*
 * Shared set-up for tests of a demo-target realtime feature over real
 * Socket.IO on loopback: one demo target per file (knobs reset before each
 * test), websocket clients on the feature's path closed at the end.
 */

export interface RealtimeFixture {
  readonly target: () => DemoTarget;
  /** A client on `path` with `auth`; not reconnecting, closed after the file. */
  readonly connect: (auth: Record<string, string>) => Socket;
  /** POST JSON to the app origin, returning the JSON reply. */
  readonly post: (path: string, body: unknown) => Promise<Record<string, string>>;
}

export function useRealtimeFixture(socketPath: string): RealtimeFixture {
  let target: DemoTarget | undefined;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    target = await startDemoTarget();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await target?.close();
  });
  beforeEach(() => {
    target?.knobs.reset();
  });
  const t = (): DemoTarget => {
    if (!target) throw new Error('the demo target is not started yet (use the fixture inside tests)');
    return target;
  };
  return {
    target: t,
    connect: (auth) => {
      const s = connectIo(t().appUrl, { path: socketPath, auth, transports: ['websocket'], reconnection: false });
      sockets.push(s);
      return s;
    },
    post: async (path, body) => {
      const res = await fetch(`${t().appUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as Record<string, string>;
    },
  };
}

/** The next `event` on `s`. */
export const once = <T>(s: Socket, event: string): Promise<T> => new Promise((resolve) => s.once(event, (v: T) => resolve(v)));

/** Resolves on connect, rejects on connect_error. */
export const connected = (s: Socket): Promise<void> =>
  new Promise((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
