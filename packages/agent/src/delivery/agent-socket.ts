import type { Socket } from 'socket.io-client';
import type { AgentToController, ControllerToAgent } from '@userprobe/shared';

/** The agent's end of the wire: the shared event maps, swapped relative to the controller's Server. */
export type AgentSocket = Socket<ControllerToAgent, AgentToController>;

/** Resolves when the socket is connected (now or later), or when `signal` aborts. */
export function whenConnected(socket: AgentSocket, signal: AbortSignal): Promise<void> {
  if (socket.connected || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('connect', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    socket.on('connect', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves on the next disconnect (or abort of `signal`), with a way to stop listening. */
export function nextDisconnect(socket: AgentSocket, signal: AbortSignal): { promise: Promise<'disconnected'>; cancel: () => void } {
  let cancel = (): void => undefined;
  const promise = new Promise<'disconnected'>((resolve) => {
    const done = (): void => {
      cancel();
      resolve('disconnected');
    };
    cancel = () => {
      socket.off('disconnect', done);
      signal.removeEventListener('abort', done);
    };
    socket.on('disconnect', done);
    signal.addEventListener('abort', done, { once: true });
  });
  return { promise, cancel };
}
