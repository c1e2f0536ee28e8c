import { describe, expect, it } from 'vitest';
import { buildPageHar, mergeHars, serializeHar, type Har, type RecordedEvent, type WebSocketMessage } from './har-build.js';

/** A page load, an XHR, a refused request and a websocket with two frames, as CDP reports them. */
const WALL = 1_800_000_000; // epoch seconds at monotonic 100
const ev = (method: string, params: Record<string, unknown>): RecordedEvent => ({ method, params });
const req = (requestId: string, url: string, ts: number, type = 'Document', method = 'GET') =>
  ev('Network.requestWillBeSent', {
    requestId,
    loaderId: 'L1',
    documentURL: url,
    frameId: 'F1',
    type,
    timestamp: ts,
    wallTime: WALL + (ts - 100),
    request: { url, method, headers: { Accept: '*/*' }, initialPriority: 'High', referrerPolicy: 'no-referrer' },
    initiator: { type: 'other' },
  });
const res = (requestId: string, url: string, ts: number, status: number, type = 'Document') =>
  ev('Network.responseReceived', {
    requestId,
    loaderId: 'L1',
    frameId: 'F1',
    type,
    timestamp: ts,
    response: {
      url,
      status,
      statusText: 'x',
      headers: { 'content-type': 'text/html' },
      mimeType: 'text/html',
      connectionReused: false,
      connectionId: 1,
      encodedDataLength: 100,
      securityState: 'neutral',
      protocol: 'http/1.1',
    },
  });
const done = (requestId: string, ts: number) => ev('Network.loadingFinished', { requestId, timestamp: ts, encodedDataLength: 100 });

const EVENTS: RecordedEvent[] = [
  ev('Page.frameStartedLoading', { frameId: 'F1' }),
  req('1', 'http://127.0.0.1:1/', 100),
  res('1', 'http://127.0.0.1:1/', 100.05, 200),
  done('1', 100.06),
  ev('Page.domContentEventFired', { timestamp: 100.2 }),
  ev('Page.loadEventFired', { timestamp: 100.3 }),
  req('2', 'http://127.0.0.2:1/api/chats?x=1', 101, 'XHR', 'POST'),
  res('2', 'http://127.0.0.2:1/api/chats?x=1', 101.3, 500, 'XHR'),
  done('2', 101.31),
  req('3', 'http://127.0.0.3:9/refused', 102, 'Fetch'),
  ev('Network.loadingFailed', { requestId: '3', timestamp: 102.01, type: 'Fetch', errorText: 'net::ERR_CONNECTION_REFUSED' }),
  req('4', 'http://127.0.0.1:1/aborted', 102, 'Fetch'),
  ev('Network.loadingFailed', { requestId: '4', timestamp: 102.01, type: 'Fetch', errorText: 'net::ERR_ABORTED', canceled: true }),
  ev('Network.webSocketCreated', { requestId: 'ws1', url: 'ws://127.0.0.2:1/crm/socket.io/?EIO=4&transport=websocket' }),
  ev('Network.webSocketWillSendHandshakeRequest', { requestId: 'ws1', timestamp: 103, wallTime: WALL + 3, request: { headers: { Upgrade: 'websocket' } } }),
  ev('Network.webSocketHandshakeResponseReceived', {
    requestId: 'ws1',
    timestamp: 103.004,
    response: { status: 101, statusText: 'Switching Protocols', headers: { Upgrade: 'websocket' } },
  }),
  ev('Network.webSocketFrameSent', {
    requestId: 'ws1',
    timestamp: 103.5,
    response: { opcode: 1, mask: true, payloadData: '42["msg",{"text":"hello agent"}]' },
  }),
  ev('Network.webSocketFrameReceived', {
    requestId: 'ws1',
    timestamp: 104,
    response: { opcode: 1, mask: false, payloadData: `42["chat:message",{"text":"${'y'.repeat(100)}"}]` },
  }),
  ev('Network.webSocketClosed', { requestId: 'ws1', timestamp: 105 }),
];

describe('buildPageHar', () => {
  const har = buildPageHar(EVENTS, { frameDataMax: 64 });
  const byUrl = (re: RegExp) => har.log.entries.find((e) => re.test((e['request'] as { url: string }).url));

  it("keeps chrome-har's HTTP entries and page, with pageTimings", () => {
    expect(har.log.pages).toHaveLength(1);
    expect(har.log.pages[0]!.pageTimings).toEqual({ onContentLoad: 200, onLoad: 300 });
    expect((byUrl(/api\/chats/)!['response'] as { status: number }).status).toBe(500);
  });

  it('adds the websocket as an entry with its frames, in epoch seconds, as DevTools does', () => {
    const ws = byUrl(/^ws:/)!;
    expect(ws).toMatchObject({
      _resourceType: 'websocket',
      pageref: har.log.pages[0]!.id,
      response: { status: 101 },
      startedDateTime: new Date((WALL + 3) * 1000).toISOString(),
    });
    expect(ws['timings']).toMatchObject({ wait: 4 });
    const msgs = ws['_webSocketMessages'] as WebSocketMessage[];
    expect(msgs[0]).toEqual({ type: 'send', time: WALL + 3.5, opcode: 1, data: '42["msg",{"text":"hello agent"}]' });
    expect(msgs[1]).toMatchObject({ type: 'receive', time: WALL + 4, opcode: 1, _truncated: true });
    expect(msgs[1]!.data).toHaveLength(64);
    expect(ws['_closedDateTime']).toBe(new Date((WALL + 5) * 1000).toISOString());
  });

  it('a frame goes through redact before it is cut: a secret straddling the cut leaves no part of it', () => {
    const secret = 'S3CRET-VALUE';
    const frameEv = ev('Network.webSocketFrameReceived', {
      requestId: 'ws1',
      timestamp: 104,
      response: { opcode: 1, mask: false, payloadData: `${'x'.repeat(58)}${secret}` },
    });
    const h = buildPageHar([...EVENTS.slice(0, 16), frameEv], { frameDataMax: 64, redact: (t) => t.replaceAll(secret, '[redacted]') });
    const msgs = h.log.entries.find((e) => e['_resourceType'] === 'websocket')!['_webSocketMessages'] as WebSocketMessage[];
    expect(msgs.at(-1)).toMatchObject({ data: `${'x'.repeat(58)}[redac`, _truncated: true });
    expect(JSON.stringify(h)).not.toMatch(/S3C/);
  });

  it('keeps a request that failed without a response (status 0, _error); drops a cancelled one', () => {
    expect(byUrl(/refused/)).toMatchObject({ response: { status: 0 }, _error: 'net::ERR_CONNECTION_REFUSED' });
    expect(byUrl(/aborted/)).toBeUndefined(); // cancelled by the page (navigation, abort()): not a failure of the target
  });

  it('entries are in time order', () => {
    const t = har.log.entries.map((e) => e.startedDateTime);
    expect([...t].sort()).toEqual(t);
  });

  it('a page that never loaded: pageTimings -1', () => {
    const h = buildPageHar(EVENTS.filter((e) => !e.method.endsWith('EventFired')));
    expect(h.log.pages[0]!.pageTimings).toEqual({ onContentLoad: -1, onLoad: -1 });
  });
});

describe('mergeHars / serializeHar', () => {
  it('one HAR of both pages: ids prefixed by role, entries in time order', () => {
    const h = mergeHars(
      [
        { role: 'visitor', har: buildPageHar(EVENTS) },
        { role: 'agent', har: buildPageHar(EVENTS.slice(0, 4)) },
      ],
      { name: 'test' },
    );
    expect(h.log.pages.map((p) => [p.id, p['_role']])).toEqual([
      ['visitor_page_1', 'visitor'],
      ['agent_page_1', 'agent'],
    ]);
    expect(new Set(h.log.entries.map((e) => e.pageref))).toEqual(new Set(['visitor_page_1', 'agent_page_1']));
  });
  it('cuts frames to fit, or gives up', () => {
    const big = buildPageHar([
      ...EVENTS.slice(0, 16),
      ev('Network.webSocketFrameReceived', { requestId: 'ws1', timestamp: 104, response: { opcode: 1, mask: false, payloadData: 'z'.repeat(50_000) } }),
    ]);
    const full = serializeHar(big, 10_000_000)!;
    const cut = serializeHar(big, full.byteLength - 1)!;
    expect(cut.byteLength).toBeLessThan(full.byteLength);
    expect((JSON.parse(cut.toString()) as Har).log.comment).toMatch(/cut to 1 KiB/);
    expect(serializeHar(big, 100)).toBeNull();
  });
});
