import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import type { z } from 'zod';
import { issuesText } from '../chat/wire.js';
import type { FeatureContext } from '../feature.js';
import { AGENTS_ROOM, authenticateParty, chatRoom, reply, type Party } from '../video/party-auth.js';
import {
  CobrowseStart,
  Highlight,
  MAX_TREE_DEPTH,
  Mutations,
  Scroll,
  SessionRef,
  Snapshot,
  jsonDepth,
  type CobrowseClientToServer,
  type CobrowseEndReason,
  type CobrowseServerToClient,
} from './wire.js';

/** Where the cobrowse Socket.IO server listens on the app origin. */
export const COBROWSE_SOCKET_PATH = '/cobrowse/socket.io/';
/** Largest message accepted on the cobrowse socket (a DOM snapshot), bytes. */
export const COBROWSE_MAX_MESSAGE_BYTES = 4_000_000;

type CobrowseIo = Server<CobrowseClientToServer, CobrowseServerToClient, object, Party>;
type CobrowseSocket = Socket<CobrowseClientToServer, CobrowseServerToClient, object, Party>;

interface Session {
  readonly sessionId: string;
  readonly chatId: string;
  readonly agentSocketId: string;
  visitorSocketId: string | null;
}

/**
 * Cobrowse: an agent starts a session on a chat; the visitor page (running
 * /cobrowse/cobrowse.js) confirms, sends a DOM snapshot and then streams its
 * mutations; the agent can ask it to scroll or highlight a node. Every relayed
 * event waits the `cobrowseEvents` knob (the engine handshake too); presence
 * updates are not delayed. The visitor page is on the site origin, so CORS
 * allows exactly that origin.
 */
export class CobrowseServer {
  readonly io: CobrowseIo;
  readonly #ctx: FeatureContext;
  readonly #log: FeatureContext['log'];
  readonly #sessions = new Map<string, Session>();

  constructor(ctx: FeatureContext) {
    this.#ctx = ctx;
    this.#log = ctx.log.child({ component: 'cobrowse' });
    this.io = ctx.realtime.create<CobrowseClientToServer, CobrowseServerToClient, object, Party>(
      COBROWSE_SOCKET_PATH,
      () => ctx.knobs.latency('cobrowseEvents'),
      {
        maxHttpBufferSize: COBROWSE_MAX_MESSAGE_BYTES,
        cors: { origin: (origin, cb) => cb(null, origin === undefined || origin === ctx.urls().siteUrl || origin === ctx.urls().appUrl) },
      },
    );
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

  get activeSessions(): number {
    return this.#sessions.size;
  }

  #later(send: () => void): void {
    void this.#ctx.delays.wait(this.#ctx.knobs.latency('cobrowseEvents')).then(send);
  }

  #visitorOnline(chatId: string): boolean {
    return (this.io.of('/').adapter.rooms.get(chatRoom(chatId))?.size ?? 0) > 0;
  }

  #onConnection(socket: CobrowseSocket): void {
    const party = socket.data;
    if (party.role === 'agent') {
      void socket.join(AGENTS_ROOM);
      for (const [room, members] of this.io.of('/').adapter.rooms) {
        if (room.startsWith('chat:') && members.size > 0) socket.emit('cobrowse:presence', { chatId: room.slice(5), online: true });
      }
      socket.on('cobrowse:start', (p, ack) => this.#start(socket, p, ack));
      socket.on('cobrowse:scroll', (p, ack) => this.#toVisitor(socket, p, ack, Scroll, 'cobrowse:scroll', (to, m) => to.emit('cobrowse:scroll', m)));
      socket.on('cobrowse:highlight', (p, ack) =>
        this.#toVisitor(socket, p, ack, Highlight, 'cobrowse:highlight', (to, m) => to.emit('cobrowse:highlight', m)),
      );
    } else {
      void socket.join(chatRoom(party.chatId));
      this.io.to(AGENTS_ROOM).emit('cobrowse:presence', { chatId: party.chatId, online: true });
      socket.on('cobrowse:accepted', (p, ack) => this.#accepted(socket, p, ack));
      socket.on('cobrowse:snapshot', (p, ack) => this.#toAgent(socket, p, ack, Snapshot, 'cobrowse:snapshot', (to, m) => to.emit('cobrowse:snapshot', m)));
      socket.on('cobrowse:mutations', (p, ack) => this.#toAgent(socket, p, ack, Mutations, 'cobrowse:mutations', (to, m) => to.emit('cobrowse:mutations', m)));
    }
    socket.on('cobrowse:stop', (p, ack) => {
      const found = this.#sessionOf(socket, p, 'cobrowse:stop');
      if ('error' in found) return reply(ack, { ok: false, error: found.error });
      reply(ack, { ok: true, data: { sessionId: found.session.sessionId } });
      this.#finish(found.session, socket.id, 'stopped');
    });
    socket.on('disconnect', () => {
      for (const s of [...this.#sessions.values()]) {
        if (s.agentSocketId === socket.id || s.visitorSocketId === socket.id) this.#finish(s, socket.id, 'disconnected');
      }
      if (party.role === 'visitor' && !this.#visitorOnline(party.chatId)) {
        this.io.to(AGENTS_ROOM).emit('cobrowse:presence', { chatId: party.chatId, online: false });
      }
    });
  }

  #start(socket: CobrowseSocket, payload: unknown, ack: unknown): void {
    const r = CobrowseStart.safeParse(payload);
    if (!r.success) return reply(ack, { ok: false, error: `bad cobrowse:start: ${issuesText(r.error)}; send {chatId}` });
    if (!this.#ctx.chats.get(r.data.chatId)) return reply(ack, { ok: false, error: `unknown chat ${r.data.chatId}` });
    if (!this.#visitorOnline(r.data.chatId)) return reply(ack, { ok: false, error: 'the visitor page is not running the cobrowse script' });
    const session: Session = { sessionId: randomUUID(), chatId: r.data.chatId, agentSocketId: socket.id, visitorSocketId: null };
    this.#sessions.set(session.sessionId, session);
    reply(ack, { ok: true, data: { sessionId: session.sessionId } });
    const agent = socket.data.role === 'agent' ? socket.data.username : 'agent';
    this.#later(() => this.io.to(chatRoom(session.chatId)).emit('cobrowse:start', { sessionId: session.sessionId, chatId: session.chatId, agent }));
  }

  #sessionOf(socket: CobrowseSocket, payload: unknown, event: string): { session: Session } | { error: string } {
    const r = SessionRef.safeParse(payload);
    if (!r.success) return { error: `bad ${event}: ${issuesText(r.error)}` };
    const session = this.#sessions.get(r.data.sessionId);
    if (!session) return { error: `unknown or ended cobrowse session ${r.data.sessionId}` };
    const party = socket.data;
    const member =
      party.role === 'agent'
        ? session.agentSocketId === socket.id
        : party.chatId === session.chatId && (session.visitorSocketId === null || session.visitorSocketId === socket.id);
    return member ? { session } : { error: `this socket is not a party to cobrowse session ${session.sessionId}` };
  }

  #accepted(socket: CobrowseSocket, payload: unknown, ack: unknown): void {
    const found = this.#sessionOf(socket, payload, 'cobrowse:accepted');
    if ('error' in found) return reply(ack, { ok: false, error: found.error });
    const { session } = found;
    session.visitorSocketId = socket.id;
    reply(ack, { ok: true, data: { sessionId: session.sessionId } });
    this.#later(() => this.io.to(session.agentSocketId).emit('cobrowse:accepted', { sessionId: session.sessionId }));
  }

  /** Validate a visitor → agent event and relay it to the session's agent. */
  #toAgent<S extends z.ZodType<{ sessionId: string }>>(
    socket: CobrowseSocket,
    payload: unknown,
    ack: unknown,
    schema: S,
    event: string,
    emit: (to: ReturnType<CobrowseIo['to']>, m: z.infer<S>) => void,
  ): void {
    const r = this.#parse(socket, payload, schema, event);
    if ('error' in r) return reply(ack, { ok: false, error: r.error });
    const found = this.#sessionOf(socket, r.data, event);
    if ('error' in found) return reply(ack, { ok: false, error: found.error });
    if (found.session.visitorSocketId !== socket.id) return reply(ack, { ok: false, error: 'accept the session (cobrowse:accepted) first' });
    reply(ack, { ok: true, data: null });
    const to = found.session.agentSocketId;
    this.#later(() => emit(this.io.to(to), r.data));
  }

  /** Validate an agent → visitor request and relay it to the session's visitor page. */
  #toVisitor<S extends z.ZodType<{ sessionId: string }>>(
    socket: CobrowseSocket,
    payload: unknown,
    ack: unknown,
    schema: S,
    event: string,
    emit: (to: ReturnType<CobrowseIo['to']>, m: z.infer<S>) => void,
  ): void {
    const r = this.#parse(socket, payload, schema, event);
    if ('error' in r) return reply(ack, { ok: false, error: r.error });
    const found = this.#sessionOf(socket, r.data, event);
    if ('error' in found) return reply(ack, { ok: false, error: found.error });
    const to = found.session.visitorSocketId;
    if (to === null) return reply(ack, { ok: false, error: 'the visitor has not joined the session yet' });
    reply(ack, { ok: true, data: null });
    this.#later(() => emit(this.io.to(to), r.data));
  }

  #parse<S extends z.ZodType>(socket: CobrowseSocket, payload: unknown, schema: S, event: string): { data: z.infer<S> } | { error: string } {
    if (jsonDepth(payload, MAX_TREE_DEPTH * 3) > MAX_TREE_DEPTH * 3) {
      this.#log.warn({ socketId: socket.id, event }, 'payload nested too deeply');
      return { error: `bad ${event}: nested deeper than ${MAX_TREE_DEPTH} nodes` };
    }
    const r = schema.safeParse(payload);
    if (!r.success) {
      this.#log.warn({ socketId: socket.id, event, problem: issuesText(r.error).slice(0, 500) }, 'bad cobrowse payload');
      return { error: `bad ${event}: ${issuesText(r.error).slice(0, 500)}` };
    }
    return { data: r.data };
  }

  #finish(session: Session, fromSocketId: string, reason: CobrowseEndReason): void {
    this.#sessions.delete(session.sessionId);
    const others = [session.agentSocketId, session.visitorSocketId ?? chatRoom(session.chatId)].filter((id) => id !== fromSocketId);
    for (const id of others) this.#later(() => this.io.to(id).emit('cobrowse:ended', { sessionId: session.sessionId, reason }));
  }
}
