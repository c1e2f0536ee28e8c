// The independent reference client (see reference-client.ts): a separate Node
// process that sleeps through a delayed request the way a browser's network
// process does, so what the machine adds to a delayed response shows in its
// timings too. Plain JavaScript: node runs it without a build step.
import { Agent, request } from 'node:http';
import { io } from 'socket.io-client';

// node:http with a kept-alive connection: the leanest client Node has, so the
// reference adds as little of its own as a browser's network stack does.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function http({ url, method = 'GET', headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) }, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function socketioAck({ url, path, auth, event, payload, transports = ['websocket'], timeoutMs = 10_000 }) {
  const s = io(url, { path, auth, transports, reconnection: false, forceNew: true, timeout: timeoutMs });
  try {
    await new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    const t = performance.now();
    await s.timeout(timeoutMs).emitWithAck(event, payload);
    return { ms: performance.now() - t };
  } finally {
    s.disconnect();
  }
}

const COMMANDS = { http, socketioAck };

process.on('message', async ({ id, kind, args }) => {
  try {
    const fn = COMMANDS[kind];
    if (!fn) throw new Error(`unknown command ${kind}`);
    process.send({ id, ok: true, result: await fn(args) });
  } catch (e) {
    process.send({ id, ok: false, error: String(e?.message ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
