import type { Socket } from 'socket.io-client';

/** Resolves on the socket's next `event` (socket.io-client's emitter is not node's, so events.once does not type-check on it). */
export function nextEvent(socket: Pick<Socket, 'once'>, event: 'connect' | 'disconnect'): Promise<void> {
  return new Promise((resolve) => {
    socket.once(event, () => resolve());
  });
}
