import { harFromMessages } from 'chrome-har';
import type { Protocol } from 'puppeteer-core';

/*
 * Pure: recorded CDP events of one page (its own session and every child
 * target, e.g. the cross-origin widget frame) → a HAR 1.2 document.
 *
 * chrome-har builds the HTTP entries and pages; it leaves out what DevTools
 * puts in its own HAR exports and evidence needs most, so this adds:
 * - one entry per websocket (`_resourceType: 'websocket'`, the 101 handshake as
 *   request/response) with its frames in `_webSocketMessages:
 *   [{ type: 'send' | 'receive', time, opcode, data }]`, `time` in epoch seconds,
 *   as Chrome DevTools writes them;
 * - requests that failed without a response (connection refused, blocked…),
 *   which chrome-har drops: status 0 and `_error` naming the failure;
 * - `pageTimings.onContentLoad` / `onLoad` on every page (-1 when the page never
 *   got there, as HAR 1.2 says).
 * A frame's payload goes through `redact` before it is cut to `frameDataMax`, so
 * a secret straddling the cut cannot survive in part; the caller redacts the
 * rest of the HAR (see Redactor.value).
 */

export interface RecordedEvent {
  readonly method: string;
  readonly params: unknown;
}

export interface HarPage {
  id: string;
  startedDateTime: string;
  title: string;
  pageTimings: { onContentLoad?: number; onLoad?: number };
  [k: string]: unknown;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  [k: string]: unknown;
}

export interface Har {
  log: { version: string; creator: Record<string, unknown>; pages: HarPage[]; entries: HarEntry[]; comment?: string };
}

export interface WebSocketMessage {
  readonly type: 'send' | 'receive';
  /** Epoch seconds. */
  readonly time: number;
  readonly opcode: number;
  readonly data: string;
  readonly _truncated?: true;
}

/** Longest frame payload kept (the rest is cut and the frame marked `_truncated`). */
export const WS_FRAME_DATA_MAX = 64 * 1024;

interface WsState {
  url: string;
  created?: number;
  request?: Protocol.Network.WebSocketWillSendHandshakeRequestEvent;
  response?: Protocol.Network.WebSocketHandshakeResponseReceivedEvent;
  closed?: number;
  error?: string;
  messages: WebSocketMessage[];
}

/** CDP monotonic seconds → epoch seconds, from one (wallTime, timestamp) pair. */
interface Anchor {
  wall: number;
  mono: number;
}

function toWall(a: Anchor | null, mono: number): number {
  return a === null ? mono : a.wall + (mono - a.mono);
}

const iso = (epochSec: number): string => new Date(epochSec * 1000).toISOString();
const ms = (sec: number): number => Math.round(sec * 1e6) / 1e3;

function headerList(h: Protocol.Network.Headers | undefined): Array<{ name: string; value: string }> {
  if (!h) return [];
  return Object.entries(h).flatMap(([name, v]) =>
    String(v)
      .split('\n')
      .map((value) => ({ name, value })),
  );
}

function queryOf(url: string): Array<{ name: string; value: string }> {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** Text → text with secrets redacted (identity when nothing is to be redacted). */
export type Redact = (text: string) => string;

function frame(type: 'send' | 'receive', time: number, f: Protocol.Network.WebSocketFrame, max: number, redact: Redact): WebSocketMessage {
  const data = redact(f.payloadData);
  return data.length > max ? { type, time, opcode: f.opcode, data: data.slice(0, max), _truncated: true } : { type, time, opcode: f.opcode, data };
}

function websocketEntries(events: readonly RecordedEvent[], anchor: Anchor | null, frameDataMax: number, redact: Redact): HarEntry[] {
  const sockets = new Map<string, WsState>();
  const get = (id: string, url = ''): WsState => {
    let s = sockets.get(id);
    if (!s) sockets.set(id, (s = { url, messages: [] }));
    return s;
  };
  for (const e of events) {
    switch (e.method) {
      case 'Network.webSocketCreated': {
        const p = e.params as Protocol.Network.WebSocketCreatedEvent;
        get(p.requestId, p.url).url = p.url;
        break;
      }
      case 'Network.webSocketWillSendHandshakeRequest': {
        const p = e.params as Protocol.Network.WebSocketWillSendHandshakeRequestEvent;
        get(p.requestId).request = p;
        break;
      }
      case 'Network.webSocketHandshakeResponseReceived': {
        const p = e.params as Protocol.Network.WebSocketHandshakeResponseReceivedEvent;
        get(p.requestId).response = p;
        break;
      }
      case 'Network.webSocketFrameSent':
      case 'Network.webSocketFrameReceived': {
        const p = e.params as Protocol.Network.WebSocketFrameSentEvent;
        const s = get(p.requestId);
        const own = s.request ? { wall: s.request.wallTime, mono: s.request.timestamp } : anchor;
        s.messages.push(frame(e.method === 'Network.webSocketFrameSent' ? 'send' : 'receive', toWall(own, p.timestamp), p.response, frameDataMax, redact));
        break;
      }
      case 'Network.webSocketFrameError': {
        const p = e.params as Protocol.Network.WebSocketFrameErrorEvent;
        get(p.requestId).error = p.errorMessage;
        break;
      }
      case 'Network.webSocketClosed': {
        const p = e.params as Protocol.Network.WebSocketClosedEvent;
        get(p.requestId).closed = p.timestamp;
        break;
      }
      default:
        break;
    }
  }
  return [...sockets.entries()].map(([requestId, s]) => {
    const own = s.request ? { wall: s.request.wallTime, mono: s.request.timestamp } : anchor;
    const startWall = s.request ? s.request.wallTime : (s.messages[0]?.time ?? 0);
    const wait = s.request && s.response ? Math.max(0, s.response.timestamp - s.request.timestamp) : 0;
    const res = s.response?.response;
    const entry: HarEntry = {
      startedDateTime: iso(startWall),
      time: ms(wait),
      request: {
        method: 'GET',
        url: s.url,
        httpVersion: 'HTTP/1.1',
        headers: headerList(s.request?.request.headers),
        queryString: queryOf(s.url),
        cookies: [],
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status: res?.status ?? 0,
        statusText: res?.statusText ?? '',
        httpVersion: 'HTTP/1.1',
        headers: headerList(res?.headers),
        cookies: [],
        content: { size: 0, mimeType: 'x-unknown' },
        redirectURL: '',
        headersSize: -1,
        bodySize: 0,
      },
      cache: {},
      timings: { blocked: -1, dns: -1, ssl: -1, connect: -1, send: 0, wait: ms(wait), receive: 0 },
      _requestId: requestId,
      _resourceType: 'websocket',
      _webSocketMessages: s.messages,
    };
    if (s.closed !== undefined) entry['_closedDateTime'] = iso(toWall(own, s.closed));
    if (s.error !== undefined) entry['_error'] = s.error;
    return entry;
  });
}

function failedEntries(events: readonly RecordedEvent[], present: ReadonlySet<string>): HarEntry[] {
  const sent = new Map<string, Protocol.Network.RequestWillBeSentEvent>();
  const out: HarEntry[] = [];
  for (const e of events) {
    if (e.method === 'Network.requestWillBeSent') {
      const p = e.params as Protocol.Network.RequestWillBeSentEvent;
      sent.set(p.requestId, p);
    } else if (e.method === 'Network.loadingFailed') {
      const p = e.params as Protocol.Network.LoadingFailedEvent;
      const req = sent.get(p.requestId);
      if (!req || present.has(p.requestId) || p.errorText === 'net::ERR_ABORTED' || !/^https?:/.test(req.request.url)) continue;
      const time = ms(Math.max(0, p.timestamp - req.timestamp));
      out.push({
        startedDateTime: iso(req.wallTime),
        time,
        request: {
          method: req.request.method,
          url: req.request.url,
          httpVersion: '',
          headers: headerList(req.request.headers),
          queryString: queryOf(req.request.url),
          cookies: [],
          headersSize: -1,
          bodySize: req.request.postData?.length ?? 0,
        },
        response: {
          status: 0,
          statusText: '',
          httpVersion: '',
          headers: [],
          cookies: [],
          content: { size: 0, mimeType: 'x-unknown' },
          redirectURL: '',
          headersSize: -1,
          bodySize: -1,
          _error: p.errorText,
        },
        cache: {},
        timings: { blocked: -1, dns: -1, ssl: -1, connect: -1, send: 0, wait: time, receive: 0 },
        _requestId: p.requestId,
        _resourceType: p.type.toLowerCase(),
        _error: p.errorText + (p.blockedReason ? ` (${p.blockedReason})` : ''),
      });
    }
  }
  return out;
}

function firstAnchor(events: readonly RecordedEvent[]): Anchor | null {
  for (const e of events) {
    if (e.method === 'Network.requestWillBeSent' || e.method === 'Network.webSocketWillSendHandshakeRequest') {
      const p = e.params as { wallTime: number; timestamp: number };
      return { wall: p.wallTime, mono: p.timestamp };
    }
  }
  return null;
}

/** The page an entry belongs to: the last one started at or before it (else the first). */
function pageFor(pages: readonly HarPage[], started: string): string | undefined {
  let ref = pages[0]?.id;
  for (const p of pages) if (p.startedDateTime !== '' && p.startedDateTime <= started) ref = p.id;
  return ref;
}

export function buildPageHar(events: readonly RecordedEvent[], opts: { frameDataMax?: number; title?: string; redact?: Redact } = {}): Har {
  const har = harFromMessages(events) as unknown as Har;
  const log = har.log;
  const anchor = firstAnchor(events);
  const present = new Set(log.entries.map((e) => (typeof e['_requestId'] === 'string' ? e['_requestId'] : '').replace(/r+$/, '')));
  const extra = [...websocketEntries(events, anchor, opts.frameDataMax ?? WS_FRAME_DATA_MAX, opts.redact ?? ((t) => t)), ...failedEntries(events, present)];
  if (extra.length && log.pages.length === 0) {
    const first = extra.map((e) => e.startedDateTime).sort()[0]!;
    log.pages.push({ id: 'page_1', startedDateTime: first, title: opts.title ?? '', pageTimings: {} });
  }
  for (const e of extra) e.pageref = pageFor(log.pages, e.startedDateTime);
  log.entries.push(...extra);
  log.entries.sort((a, b) => (a.startedDateTime < b.startedDateTime ? -1 : a.startedDateTime > b.startedDateTime ? 1 : 0));
  for (const p of log.pages) {
    p.pageTimings = { onContentLoad: p.pageTimings.onContentLoad ?? -1, onLoad: p.pageTimings.onLoad ?? -1 };
  }
  return har;
}

/** One HAR of the session: each role's pages (ids prefixed with the role) and entries, in time order. */
export function mergeHars(parts: ReadonlyArray<{ readonly role: string; readonly har: Har }>, creator: Record<string, unknown>): Har {
  const pages: HarPage[] = [];
  const entries: HarEntry[] = [];
  for (const { role, har } of parts) {
    const rename = (id: string | undefined): string | undefined => (id === undefined ? undefined : `${role}_${id}`);
    for (const p of har.log.pages) pages.push({ ...p, id: rename(p.id)!, _role: role });
    for (const e of har.log.entries) entries.push({ ...e, pageref: rename(e.pageref), _role: role });
  }
  entries.sort((a, b) => (a.startedDateTime < b.startedDateTime ? -1 : a.startedDateTime > b.startedDateTime ? 1 : 0));
  return { log: { version: '1.2', creator, pages, entries } };
}

/** JSON of the HAR within `maxBytes`: frames are cut to 1 KiB if needed; null if it still does not fit. */
export function serializeHar(har: Har, maxBytes: number): Buffer | null {
  let buf = Buffer.from(JSON.stringify(har));
  if (buf.byteLength <= maxBytes) return buf;
  const cut: Har = {
    log: {
      ...har.log,
      comment: 'websocket frames cut to 1 KiB to fit the evidence size limit',
      entries: har.log.entries.map((e) => {
        const msgs = e['_webSocketMessages'] as WebSocketMessage[] | undefined;
        return msgs
          ? { ...e, _webSocketMessages: msgs.map((m) => (m.data.length > 1024 ? { ...m, data: m.data.slice(0, 1024), _truncated: true as const } : m)) }
          : e;
      }),
    },
  };
  buf = Buffer.from(JSON.stringify(cut));
  return buf.byteLength <= maxBytes ? buf : null;
}
