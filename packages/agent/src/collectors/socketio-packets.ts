/*
 * Pure parsing of Engine.IO / Socket.IO wire text, enough to time a connection
 * and match acks. No I/O.
 *
 * Engine.IO packet: one type digit + data (0 open, 1 close, 2 ping, 3 pong,
 * 4 message, 5 upgrade, 6 noop). A long-polling body holds several packets:
 * EIO=4 separates them with U+001E; EIO=3 prefixes each with `<length>:`.
 * A Socket.IO packet travels inside an Engine.IO message (`4…`): one type digit
 * (0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT,
 * 6 BINARY_ACK), `<n>-` attachments for binary types, optional `/nsp,`, an
 * optional ack id, then JSON.
 */

export const ENGINE_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;
export type EngineType = (typeof ENGINE_TYPES)[number];

export const SIO_TYPES = ['connect', 'disconnect', 'event', 'ack', 'connect_error', 'binary_event', 'binary_ack'] as const;
export type SioType = (typeof SIO_TYPES)[number];

export interface SioPacket {
  readonly type: SioType;
  readonly nsp: string;
  readonly id: number | undefined;
}

export interface EnginePacket {
  readonly type: EngineType;
  readonly data: string;
  /** Set when `type` is 'message' and the data parses as a Socket.IO packet. */
  readonly sio: SioPacket | undefined;
  /** Set when `type` is 'open': the engine session id. */
  readonly sid: string | undefined;
}

const RECORD_SEPARATOR = '\x1e';

/** Split a long-polling body into its Engine.IO packets. */
export function splitPollingPayload(body: string, eio: 3 | 4): string[] {
  if (body.length === 0) return [];
  if (eio === 4) return body.split(RECORD_SEPARATOR);
  const out: string[] = [];
  let i = 0;
  while (i < body.length) {
    const colon = body.indexOf(':', i);
    if (colon < 0) break;
    const len = Number(body.slice(i, colon));
    if (!Number.isInteger(len) || len < 0) break;
    out.push(body.slice(colon + 1, colon + 1 + len));
    i = colon + 1 + len;
  }
  return out;
}

export function parseSioPacket(text: string): SioPacket | undefined {
  const type = SIO_TYPES[Number(text.charAt(0))];
  if (type === undefined || text.length === 0) return undefined;
  let i = 1;
  if (type === 'binary_event' || type === 'binary_ack') {
    const dash = text.indexOf('-', i);
    if (dash < 0) return undefined;
    i = dash + 1;
  }
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    const end = comma < 0 ? text.length : comma;
    nsp = text.slice(i, end);
    i = comma < 0 ? end : end + 1;
  }
  let digits = '';
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) digits += text.charAt(i++);
  return { type, nsp, id: digits === '' ? undefined : Number(digits) };
}

export function parseEnginePacket(text: string): EnginePacket | undefined {
  if (text.length === 0 || text.charAt(0) === 'b') return undefined; // base64 binary: nothing we time
  const type = ENGINE_TYPES[Number(text.charAt(0))];
  if (type === undefined) return undefined;
  const data = text.slice(1);
  let sid: string | undefined;
  if (type === 'open') {
    try {
      const parsed: unknown = JSON.parse(data);
      if (parsed && typeof parsed === 'object' && 'sid' in parsed && typeof parsed.sid === 'string') sid = parsed.sid;
    } catch {
      sid = undefined;
    }
  }
  return { type, data, sid, sio: type === 'message' ? parseSioPacket(data) : undefined };
}

/** The Engine.IO protocol version a handshake URL asks for (`EIO=3|4`); 4 when absent. */
export function eioVersion(url: string): 3 | 4 {
  return /[?&]EIO=3(&|$)/.test(url) ? 3 : 4;
}

/** The `transport` query parameter of an Engine.IO URL, if any. */
export function engineTransport(url: string): 'polling' | 'websocket' | undefined {
  const m = /[?&]transport=(polling|websocket)(&|$)/.exec(url);
  return m ? (m[1] as 'polling' | 'websocket') : undefined;
}

/** The `sid` query parameter of an Engine.IO URL (present once the engine session exists). */
export function engineSid(url: string): string | undefined {
  const m = /[?&]sid=([^&#]+)/.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
}
