import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 now (the kernel's pick), for a server a benchmark starts next. */
export async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}
