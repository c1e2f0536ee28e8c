import { describe, expect, it } from 'vitest';
import { engineSid, engineTransport, eioVersion, parseEnginePacket, parseSioPacket, splitPollingPayload } from './socketio-packets.js';

describe('splitPollingPayload', () => {
  it.each([
    ['EIO=4 single', '0{"sid":"a"}', 4, ['0{"sid":"a"}']],
    ['EIO=4 several', '40{"sid":"x"}\x1e2\x1e6', 4, ['40{"sid":"x"}', '2', '6']],
    ['EIO=4 empty', '', 4, []],
    ['EIO=3 length-prefixed', '14:0{"sid":"abc"}2:40', 3, ['0{"sid":"abc"}', '40']],
    ['EIO=3 garbage stops', 'x:0', 3, []],
  ] as const)('%s', (_n, body, eio, expected) => {
    expect(splitPollingPayload(body, eio)).toEqual(expected);
  });
});

describe('parseSioPacket', () => {
  it.each([
    ['connect', '0', { type: 'connect', nsp: '/', id: undefined }],
    ['connect reply with payload', '0{"sid":"q"}', { type: 'connect', nsp: '/', id: undefined }],
    ['namespaced connect', '0/admin,{"sid":"q"}', { type: 'connect', nsp: '/admin', id: undefined }],
    ['event with ack id', '212["echo",1]', { type: 'event', nsp: '/', id: 12 }],
    ['ack', '312[]', { type: 'ack', nsp: '/', id: 12 }],
    ['namespaced ack', '3/chat,7["ok"]', { type: 'ack', nsp: '/chat', id: 7 }],
    ['binary event', '51-3["up",{"_placeholder":true,"num":0}]', { type: 'binary_event', nsp: '/', id: 3 }],
    ['event without id', '2["msg"]', { type: 'event', nsp: '/', id: undefined }],
    ['connect error', '4{"message":"no"}', { type: 'connect_error', nsp: '/', id: undefined }],
  ] as const)('%s', (_n, text, expected) => {
    expect(parseSioPacket(text)).toEqual(expected);
  });

  it('rejects unknown types and malformed binary packets', () => {
    expect(parseSioPacket('9')).toBeUndefined();
    expect(parseSioPacket('')).toBeUndefined();
    expect(parseSioPacket('5["no dash"]')).toBeUndefined();
  });
});

describe('parseEnginePacket', () => {
  it('reads the open packet sid', () => {
    expect(parseEnginePacket('0{"sid":"abc","upgrades":["websocket"]}')).toMatchObject({ type: 'open', sid: 'abc' });
  });
  it('nests the Socket.IO packet of a message', () => {
    expect(parseEnginePacket('40{"sid":"x"}')).toMatchObject({ type: 'message', sio: { type: 'connect' } });
    expect(parseEnginePacket('43["pong"]')?.sio).toEqual({ type: 'ack', nsp: '/', id: undefined });
    expect(parseEnginePacket('4317[]')?.sio).toEqual({ type: 'ack', nsp: '/', id: 17 });
  });
  it.each([
    ['2probe', 'ping'],
    ['3', 'pong'],
    ['5', 'upgrade'],
    ['6', 'noop'],
    ['1', 'close'],
  ])('%s is %s', (t, type) => {
    expect(parseEnginePacket(t)?.type).toBe(type);
  });
  it('ignores binary, empty and unknown packets, and a broken open', () => {
    expect(parseEnginePacket('bAAEC')).toBeUndefined();
    expect(parseEnginePacket('')).toBeUndefined();
    expect(parseEnginePacket('8')).toBeUndefined();
    expect(parseEnginePacket('0{broken')).toMatchObject({ type: 'open', sid: undefined });
  });
});

describe('URL parameters', () => {
  it.each([
    ['http://h/crm/socket.io/?EIO=4&transport=polling&t=x', 4, 'polling', undefined],
    ['ws://h/crm/socket.io/?EIO=4&transport=websocket&sid=ab%3Dc', 4, 'websocket', 'ab=c'],
    ['http://h/socket.io/?EIO=3&transport=polling&sid=z&t=1', 3, 'polling', 'z'],
    ['http://h/other', 4, undefined, undefined],
  ] as const)('%s', (url, eio, transport, sid) => {
    expect(eioVersion(url)).toBe(eio);
    expect(engineTransport(url)).toBe(transport);
    expect(engineSid(url)).toBe(sid);
  });
});
