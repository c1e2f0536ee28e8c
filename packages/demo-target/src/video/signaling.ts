import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import { issuesText } from '../chat/wire.js';
import type { FeatureContext } from '../feature.js';
import { DEFAULT_ICE_MODE, type IceMode } from '../knobs/schema.js';
import { filterSdp, keepCandidate } from './candidates.js';
import { AGENTS_ROOM, authenticateParty, chatRoom, reply, type Party } from './party-auth.js';
import { CallInvite, CallRef, CallSignal, type CallEndReason, type SignalClientToServer, type SignalServerToClient } from './wire.js';

/** Where the signaling Socket.IO server listens on the app origin. */
export const SIGNAL_SOCKET_PATH = '/signal/socket.io/';

type SignalServer = Server<SignalClientToServer, SignalServerToClient, object, Party>;
type SignalSocket = Socket<SignalClientToServer, SignalServerToClient, object, Party>;

interface Call {
  readonly callId: string;
  readonly chatId: string;
  readonly agentSocketId: string;
  visitorSocketId: string | null;
}

/**
 * WebRTC signaling for agent ↔ visitor calls, on its own Socket.IO server (the
 * "webrtc socket", separate from the CRM socket). The agent invites the chat's
 * visitor; the visitor accepts; offer, answer and ICE candidates are relayed
 * between the two. Every relayed message waits the `signaling` knob first (the
 * engine handshake waits it too); presence updates are not delayed. Candidates
 * pass the `ice` knob's filter (in `candidate` messages and inside SDP).
 */
export class SignalingServer {
  readonly io: SignalServer;
  readonly #ctx: FeatureContext;
  readonly #log: FeatureContext['log'];
  readonly #calls = new Map<string, Call>();

  constructor(ctx: FeatureContext) {
    this.#ctx = ctx;
    this.#log = ctx.log.child({ component: 'signaling' });
    this.io = ctx.realtime.create<SignalClientToServer, SignalServerToClient, object, Party>(SIGNAL_SOCKET_PATH, () => ctx.knobs.latency('signaling'));
    this.io.use((socket, next) => {
      const party = authenticateParty(ctx, socket.handshake.auth);
      if ('error' in party) {
        next(new Error(party.error));
        return;
      }
      socket.data = party;
      next();
    });
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  get activeCalls(): number {
    return this.#calls.size;
  }

  #ice(): IceMode {
    return this.#ctx.knobs.get().ice ?? DEFAULT_ICE_MODE;
  }

  /** Emit to one socket after the `signaling` delay. */
  #relay(socketId: string, send: (s: ReturnType<SignalServer['to']>) => void): void {
    void this.#ctx.delays.wait(this.#ctx.knobs.latency('signaling')).then(() => send(this.io.to(socketId)));
  }

  #visitorOnline(chatId: string): boolean {
    return (this.io.of('/').adapter.rooms.get(chatRoom(chatId))?.size ?? 0) > 0;
  }

  #onConnection(socket: SignalSocket): void {
    const party = socket.data;
    if (party.role === 'agent') {
      void socket.join(AGENTS_ROOM);
      for (const [room, members] of this.io.of('/').adapter.rooms) {
        if (room.startsWith('chat:') && members.size > 0) socket.emit('call:presence', { chatId: room.slice(5), online: true });
      }
      socket.on('call:invite', (p, ack) => this.#invite(socket, p, ack));
    } else {
      void socket.join(chatRoom(party.chatId));
      this.io.to(AGENTS_ROOM).emit('call:presence', { chatId: party.chatId, online: true });
      socket.on('call:accept', (p, ack) => this.#accept(socket, p, ack));
      socket.on('call:decline', (p, ack) => this.#end(socket, p, ack, 'declined'));
    }
    socket.on('call:signal', (p, ack) => this.#signal(socket, p, ack));
    socket.on('call:hangup', (p, ack) => this.#end(socket, p, ack, 'hangup'));
    socket.on('disconnect', () => {
      for (const call of [...this.#calls.values()]) {
        if (call.agentSocketId === socket.id || call.visitorSocketId === socket.id) this.#finish(call, socket.id, 'disconnected');
      }
      if (party.role === 'visitor' && !this.#visitorOnline(party.chatId)) {
        this.io.to(AGENTS_ROOM).emit('call:presence', { chatId: party.chatId, online: false });
      }
    });
  }

  #invite(socket: SignalSocket, payload: unknown, ack: unknown): void {
    const r = CallInvite.safeParse(payload);
    if (!r.success) return reply(ack, { ok: false, error: `bad call:invite: ${issuesText(r.error)}; send {chatId}` });
    if (!this.#ctx.chats.get(r.data.chatId)) return reply(ack, { ok: false, error: `unknown chat ${r.data.chatId}` });
    if (!this.#visitorOnline(r.data.chatId)) return reply(ack, { ok: false, error: 'the visitor is not connected to signaling' });
    const call: Call = { callId: randomUUID(), chatId: r.data.chatId, agentSocketId: socket.id, visitorSocketId: null };
    this.#calls.set(call.callId, call);
    reply(ack, { ok: true, data: { callId: call.callId } });
    const agent = socket.data.role === 'agent' ? socket.data.username : 'agent';
    void this.#ctx.delays.wait(this.#ctx.knobs.latency('signaling')).then(() => {
      this.io.to(chatRoom(call.chatId)).emit('call:invite', { callId: call.callId, chatId: call.chatId, agent });
    });
  }

  /** The call `payload` names, if `socket` is a party to it (or may take it, for a visitor of its chat). */
  #callOf(socket: SignalSocket, payload: unknown, event: string): { call: Call } | { error: string } {
    const r = CallRef.safeParse(payload);
    if (!r.success) return { error: `bad ${event}: ${issuesText(r.error)}; send {callId}` };
    const call = this.#calls.get(r.data.callId);
    if (!call) return { error: `unknown or ended call ${r.data.callId}` };
    const party = socket.data;
    const member =
      party.role === 'agent'
        ? call.agentSocketId === socket.id
        : party.chatId === call.chatId && (call.visitorSocketId === null || call.visitorSocketId === socket.id);
    return member ? { call } : { error: `this socket is not a party to call ${call.callId}` };
  }

  #accept(socket: SignalSocket, payload: unknown, ack: unknown): void {
    const found = this.#callOf(socket, payload, 'call:accept');
    if ('error' in found) return reply(ack, { ok: false, error: found.error });
    found.call.visitorSocketId = socket.id;
    reply(ack, { ok: true, data: { callId: found.call.callId } });
    this.#relay(found.call.agentSocketId, (to) => to.emit('call:accepted', { callId: found.call.callId }));
  }

  #signal(socket: SignalSocket, payload: unknown, ack: unknown): void {
    const r = CallSignal.safeParse(payload);
    if (!r.success) {
      this.#log.warn({ socketId: socket.id, problem: issuesText(r.error) }, 'bad call:signal');
      return reply(ack, { ok: false, error: `bad call:signal: ${issuesText(r.error)}; send {callId, description: {type, sdp}} or {callId, candidate}` });
    }
    const found = this.#callOf(socket, r.data, 'call:signal');
    if ('error' in found) return reply(ack, { ok: false, error: found.error });
    const { call } = found;
    const peer = socket.id === call.agentSocketId ? call.visitorSocketId : call.agentSocketId;
    if (peer === null) return reply(ack, { ok: false, error: 'the visitor has not accepted the call yet' });
    const mode = this.#ice();
    let out: CallSignal = r.data;
    if ('candidate' in out) {
      if (!keepCandidate(mode, out.candidate.candidate)) return reply(ack, { ok: true, data: { relayed: false } });
    } else {
      out = { callId: out.callId, description: { type: out.description.type, sdp: filterSdp(mode, out.description.sdp) } };
    }
    reply(ack, { ok: true, data: { relayed: true } });
    const message = out;
    this.#relay(peer, (to) => to.emit('call:signal', message));
  }

  #end(socket: SignalSocket, payload: unknown, ack: unknown, reason: CallEndReason): void {
    const found = this.#callOf(socket, payload, reason === 'declined' ? 'call:decline' : 'call:hangup');
    if ('error' in found) return reply(ack, { ok: false, error: found.error });
    reply(ack, { ok: true, data: { callId: found.call.callId } });
    this.#finish(found.call, socket.id, reason);
  }

  #finish(call: Call, fromSocketId: string, reason: CallEndReason): void {
    this.#calls.delete(call.callId);
    const others = [call.agentSocketId, call.visitorSocketId ?? chatRoom(call.chatId)].filter((id) => id !== fromSocketId);
    for (const id of others) this.#relay(id, (to) => to.emit('call:ended', { callId: call.callId, reason }));
  }
}
