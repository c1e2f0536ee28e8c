import { describe, expect, it } from 'vitest';
import { Encoder, PacketType, type Packet } from 'socket.io-parser';
import { BoundedDecoder, RefusedPacket } from './bounded-parser.js';

const LIMITS = { maxAttachments: 2, maxBytes: 10 };
const enc = new Encoder();
const event = (data: unknown[], id?: number): unknown[] => enc.encode({ type: PacketType.EVENT, nsp: '/', data, ...(id === undefined ? {} : { id }) });
const ack = (data: unknown[], id: number): unknown[] => enc.encode({ type: PacketType.ACK, nsp: '/', data, id });

function decodeAll(parts: unknown[]): Packet[] {
  const d = new BoundedDecoder(LIMITS);
  const out: Packet[] = [];
  d.on('decoded', (p: Packet) => out.push(p));
  for (const p of parts) d.add(p);
  return out;
}

const refused = (reason: RegExp) => expect.objectContaining({ reason: expect.stringMatching(reason) }) as unknown;

describe('BoundedDecoder', () => {
  it.each<[string, unknown[], unknown[]]>([
    ['a text message passes', event(['clock:sync', { t0: 1 }], 3), [{ type: PacketType.EVENT, nsp: '/', id: 3, data: ['clock:sync', { t0: 1 }] }]],
    [
      'a binary message within the limits is rebuilt',
      event(['evidence:upload', { files: [Buffer.from('abcd'), Buffer.from('efgh')] }], 4),
      [{ type: PacketType.EVENT, nsp: '/', id: 4, data: ['evidence:upload', { files: [Buffer.from('abcd'), Buffer.from('efgh')] }] }],
    ],
    [
      'one attachment too many: refused with its event and ack id, its attachments discarded, the next message fine',
      [...event(['evidence:upload', [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]], 5), ...event(['clock:sync', { t0: 2 }])],
      [
        { type: PacketType.EVENT, nsp: '/', id: 5, data: ['evidence:upload', refused(/^3 binary attachments; at most 2 per message$/)] },
        { type: PacketType.EVENT, nsp: '/', data: ['clock:sync', { t0: 2 }] },
      ],
    ],
    [
      'more bytes than allowed, found mid-message: refused, the rest discarded, the next message fine',
      [...event(['evidence:upload', [Buffer.alloc(6), Buffer.alloc(6)]], 6), ...event(['x', Buffer.from('ok')])],
      [
        { type: PacketType.EVENT, nsp: '/', id: 6, data: ['evidence:upload', refused(/^more than 10 bytes/)] },
        { type: PacketType.EVENT, nsp: '/', data: ['x', Buffer.from('ok')] },
      ],
    ],
    [
      'a binary ack over the limits: refused as an ack with its id',
      ack([[Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(1)]], 7),
      [{ type: PacketType.ACK, nsp: '/', id: 7, data: [refused(/3 binary attachments/)] }],
    ],
  ])('%s', (_n, parts, expected) => {
    expect(decodeAll(parts)).toEqual(expected);
  });

  it('the refusal is a RefusedPacket', () => {
    const [p] = decodeAll(event(['e', [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]], 1));
    expect((p!.data as unknown[])[1]).toBeInstanceOf(RefusedPacket);
  });

  it('a malformed stream still throws (socket.io closes the connection)', () => {
    const d = new BoundedDecoder(LIMITS);
    const [header] = event(['e', [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]]);
    d.add(header);
    expect(() => d.add('2["text while attachments are due"]')).toThrow(/plaintext/);
    expect(() => new BoundedDecoder(LIMITS).add(Buffer.from('x'))).toThrow(/binary data when not reconstructing/);
  });
});
