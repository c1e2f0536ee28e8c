import { EventEmitter } from 'node:events';
import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { PACKET_MAX_ATTACHMENTS, PACKET_MAX_BYTES } from '@userprobe/shared';

/*
 * The hub's socket.io parser: socket.io-parser's, with the size of a binary
 * message bounded as a whole. engine.io bounds each frame (maxHttpBufferSize),
 * but a binary message is one text frame plus one frame per attachment, so a
 * sender could push PACKET_MAX_ATTACHMENTS × PACKET_MAX_BYTES into memory, and
 * one attachment more made socket.io-parser throw and the server drop the
 * connection without a word to the sender.
 *
 * Here a message with more than `maxAttachments` attachments, or whose
 * attachments add up to more than `maxBytes`, is not dropped: its attachments
 * are discarded as they arrive (nothing beyond the limit is held) and the
 * handler of its event receives a RefusedPacket in place of its payload —
 * with the message's ack, so the sender hears why (the hub answers it for
 * good, see AgentHub). A malformed stream still throws, as socket.io-parser
 * does (the connection is closed).
 */

export interface PacketLimits {
  readonly maxAttachments: number;
  readonly maxBytes: number;
}

export const DEFAULT_PACKET_LIMITS: PacketLimits = Object.freeze({ maxAttachments: PACKET_MAX_ATTACHMENTS, maxBytes: PACKET_MAX_BYTES });

/** What an event handler receives in place of a payload over the limits. */
export class RefusedPacket {
  constructor(
    /** Why, for the sender and the log: what it had, what is accepted. */
    readonly reason: string,
  ) {}
}

/** `5<n>-…` (binary event) or `6<n>-…` (binary ack): the header of a message with n attachments. */
const BINARY_HEADER = /^([56])(\d+)-/;

const byteLength = (b: unknown): number => (b instanceof ArrayBuffer ? b.byteLength : ArrayBuffer.isView(b) ? b.byteLength : 0);

/** The header's event name, id and namespace, read as a plain message (its placeholders stay placeholders). */
function headerPacket(header: string): Packet {
  const m = BINARY_HEADER.exec(header)!;
  const plain = `${m[1] === '5' ? PacketType.EVENT : PacketType.ACK}${header.slice(m[0].length)}`;
  let packet: Packet | undefined;
  const d = new Decoder();
  d.on('decoded', (p: Packet) => {
    packet = p;
  });
  d.add(plain);
  if (packet === undefined) throw new Error('invalid binary packet header');
  return packet;
}

function refusal(header: string, reason: string): Packet {
  const p = headerPacket(header);
  const data = p.type === PacketType.EVENT ? [(p.data as unknown[])[0], new RefusedPacket(reason)] : [new RefusedPacket(reason)];
  return { type: p.type, nsp: p.nsp, data, ...(p.id === undefined ? {} : { id: p.id }) };
}

export class BoundedDecoder extends EventEmitter {
  readonly #limits: PacketLimits;
  readonly #inner: Decoder;
  /** The binary message being collected: its header, attachments still to come, bytes so far. */
  #collecting: { header: string; remaining: number; bytes: number } | null = null;
  /** Attachments still to discard of a refused message. */
  #discarding = 0;

  constructor(limits: PacketLimits = DEFAULT_PACKET_LIMITS) {
    super();
    this.#limits = limits;
    this.#inner = new Decoder({ maxAttachments: limits.maxAttachments });
    this.#inner.on('decoded', (p: Packet) => this.emit('decoded', p));
  }

  add(obj: unknown): void {
    if (typeof obj === 'string') {
      if (this.#discarding > 0) throw new Error('got plaintext data when reconstructing a packet');
      const m = BINARY_HEADER.exec(obj);
      if (m !== null && this.#collecting === null) {
        const n = Number(m[2]);
        if (n > this.#limits.maxAttachments) {
          this.#discarding = n;
          this.emit('decoded', refusal(obj, `${n} binary attachments; at most ${this.#limits.maxAttachments} per message`));
          return;
        }
        this.#inner.add(obj);
        this.#collecting = { header: obj, remaining: n, bytes: 0 };
        return;
      }
      this.#inner.add(obj);
      return;
    }
    if (this.#discarding > 0) {
      this.#discarding -= 1;
      return;
    }
    const c = this.#collecting;
    if (c !== null) {
      c.bytes += byteLength(obj);
      c.remaining -= 1;
      if (c.bytes > this.#limits.maxBytes) {
        this.#inner.destroy(); // drops what it holds of this message
        this.#collecting = null;
        this.#discarding = c.remaining;
        this.emit(
          'decoded',
          refusal(c.header, `more than ${this.#limits.maxBytes} bytes of binary attachments; at most ${this.#limits.maxBytes} bytes per message`),
        );
        return;
      }
      if (c.remaining === 0) this.#collecting = null;
    }
    this.#inner.add(obj);
  }

  destroy(): void {
    this.#inner.destroy();
    this.#collecting = null;
    this.#discarding = 0;
  }
}

/** The `parser` option of the hub's socket.io Server. */
export const boundedParser = { Encoder, Decoder: BoundedDecoder };
