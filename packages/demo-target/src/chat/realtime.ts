import type { Server, Socket } from 'socket.io';
import type { FeatureContext } from '../feature.js';
import type { Chat, ChatMessage } from './store.js';
import {
  AgentHistory,
  AgentReply,
  CrmAuth,
  VisitorJoin,
  VisitorMessage,
  VisitorStart,
  issuesText,
  type Ack,
  type CrmClientToServer,
  type CrmServerToClient,
  type CrmSocketData,
} from './wire.js';

/** Where the CRM Socket.IO server listens on the app origin. */
export const CRM_SOCKET_PATH = '/crm/socket.io/';
const AGENTS_ROOM = 'agents';
/** Most chats an agent's list shows. */
export const CONSOLE_CHAT_LIMIT = 200;

type CrmServer = Server<CrmClientToServer, CrmServerToClient, object, CrmSocketData>;
type CrmSocket = Socket<CrmClientToServer, CrmServerToClient, object, CrmSocketData>;

/** The chat's visitor socket(s). */
const chatRoom = (chatId: string): string => `chat:${chatId}`;
/** The agent console(s) the chat is assigned to. */
const assignedRoom = (chatId: string): string => `chat:${chatId}:agent`;

/** Call `ack` if the client passed a function (a client may omit it). */
function reply<T>(ack: unknown, result: Ack<T>): void {
  if (typeof ack === 'function') (ack as (r: Ack<T>) => void)(result);
}

/**
 * The CRM realtime channel, routed as live-chat products route: a new chat
 * and its messages are offered to every logged-in agent until one opens it
 * (`agent:history`); from then on the chat is assigned to that agent's log-in
 * session, and its visitor messages go to that agent only, also after the
 * agent's socket reconnects. Agent replies (sent over this socket) go to the
 * chat's visitor. Every relayed message waits the `realtime` knob first; the
 * handshake waits `crmConnect`. (Relaying every message to every agent made a
 * load test's work grow with the square of its sessions.)
 */
export class CrmRealtime {
  readonly io: CrmServer;
  readonly #ctx: FeatureContext;
  readonly #log: FeatureContext['log'];
  /** chat id → the log-in token it is assigned to; and the reverse, to rejoin after a reconnect. */
  readonly #assigned = new Map<string, string>();
  readonly #chatsOf = new Map<string, Set<string>>();

  constructor(ctx: FeatureContext) {
    this.#ctx = ctx;
    this.#log = ctx.log.child({ component: 'crm' });
    this.io = ctx.realtime.create<CrmClientToServer, CrmServerToClient, object, CrmSocketData>(CRM_SOCKET_PATH, () => ctx.knobs.latency('crmConnect'));
    this.io.use((socket, next) => {
      const r = CrmAuth.safeParse(socket.handshake.auth);
      if (!r.success) {
        next(new Error(`bad auth: ${issuesText(r.error)}; send {role:'visitor'} or {role:'agent', token}`));
        return;
      }
      const auth = r.data;
      if (auth.role === 'agent') {
        const agent = ctx.agents.verify(auth.token);
        if (!agent) {
          next(new Error('unknown agent token; log in with POST /api/agent/login'));
          return;
        }
        socket.data = { role: 'agent', username: agent.username, token: auth.token, auto: auth.auto ?? false };
      } else {
        socket.data = { role: 'visitor', chatId: null };
        if (auth.chatId && auth.visitorToken) {
          const chat = ctx.chats.get(auth.chatId);
          if (chat && chat.visitorToken === auth.visitorToken) socket.data = { role: 'visitor', chatId: chat.id };
        }
      }
      next();
    });
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  #onConnection(socket: CrmSocket): void {
    const data = socket.data;
    if (data.role === 'agent') {
      void socket.join(AGENTS_ROOM);
      for (const chatId of this.#chatsOf.get(data.token) ?? []) void socket.join(assignedRoom(chatId));
      socket.on('agent:chats', (_p, ack) => reply(ack, { ok: true, data: this.#ctx.chats.list(CONSOLE_CHAT_LIMIT) }));
      socket.on('agent:history', (p, ack) => this.#history(socket, data.token, p, ack));
      socket.on('agent:reply', (p, ack) => this.#agentReply(socket, p, ack));
    } else {
      if (data.chatId) void socket.join(chatRoom(data.chatId));
      socket.on('visitor:join', (p, ack) => this.#visitorJoin(socket, p, ack));
      socket.on('visitor:start', (p, ack) => void this.#visitorStart(socket, p, ack));
      socket.on('visitor:message', (p, ack) => void this.#visitorMessage(socket, p, ack));
    }
  }

  #visitorJoin(socket: CrmSocket, payload: unknown, ack: unknown): void {
    const r = VisitorJoin.safeParse(payload);
    if (!r.success) {
      this.#log.warn({ socketId: socket.id, problem: issuesText(r.error) }, 'bad visitor:join');
      reply(ack, { ok: false, error: `bad visitor:join: ${issuesText(r.error)}` });
      return;
    }
    const chat = this.#ctx.chats.get(r.data.chatId);
    if (!chat || chat.visitorToken !== r.data.visitorToken) {
      reply(ack, { ok: false, error: 'unknown chat or wrong visitorToken' });
      return;
    }
    socket.data = { role: 'visitor', chatId: chat.id };
    void socket.join(chatRoom(chat.id));
    reply(ack, { ok: true, data: { chatId: chat.id } });
  }

  /** A socket-only widget starts a chat (as POST /api/chats does: waits the `create` knob) and joins it. */
  async #visitorStart(socket: CrmSocket, payload: unknown, ack: unknown): Promise<void> {
    const r = VisitorStart.safeParse(payload);
    if (!r.success) {
      reply(ack, { ok: false, error: `bad visitor:start: ${issuesText(r.error)}; send {name}` });
      return;
    }
    await this.#ctx.delays.wait(this.#ctx.knobs.latency('create'));
    const chat = this.#ctx.chats.create(r.data.name);
    socket.data = { role: 'visitor', chatId: chat.id };
    void socket.join(chatRoom(chat.id));
    reply(ack, { ok: true, data: { chatId: chat.id, visitorToken: chat.visitorToken } });
    this.chatCreated(chat);
  }

  /** A socket-only widget sends a message (as POST /api/chats/:id/messages does: waits the `addMessage` knob). */
  async #visitorMessage(socket: CrmSocket, payload: unknown, ack: unknown): Promise<void> {
    const r = VisitorMessage.safeParse(payload);
    if (!r.success) {
      reply(ack, { ok: false, error: `bad visitor:message: ${issuesText(r.error)}; send {chatId, visitorToken, text}` });
      return;
    }
    const chat = this.#ctx.chats.get(r.data.chatId);
    if (!chat || chat.visitorToken !== r.data.visitorToken) {
      reply(ack, { ok: false, error: 'unknown chat or wrong visitorToken' });
      return;
    }
    await this.#ctx.delays.wait(this.#ctx.knobs.latency('addMessage'));
    const message = this.#ctx.chats.addMessage(chat, 'visitor', r.data.text);
    reply(ack, { ok: true, data: message });
    this.visitorMessage(chat, message);
  }

  /** The agent opened the chat: it is assigned to this log-in session (the latest opener takes it over). */
  #assign(socket: CrmSocket, token: string, chatId: string): void {
    const previous = this.#assigned.get(chatId);
    if (previous === token) return;
    if (previous !== undefined) {
      this.#chatsOf.get(previous)?.delete(chatId);
      this.io.in(assignedRoom(chatId)).socketsLeave(assignedRoom(chatId));
    }
    this.#assigned.set(chatId, token);
    let mine = this.#chatsOf.get(token);
    if (!mine) this.#chatsOf.set(token, (mine = new Set()));
    mine.add(chatId);
    void socket.join(assignedRoom(chatId));
  }

  #history(socket: CrmSocket, token: string, payload: unknown, ack: unknown): void {
    const r = AgentHistory.safeParse(payload);
    if (!r.success) {
      reply(ack, { ok: false, error: `bad agent:history: ${issuesText(r.error)}` });
      return;
    }
    const chat = this.#ctx.chats.get(r.data.chatId);
    if (!chat) {
      reply(ack, { ok: false, error: `unknown chat ${r.data.chatId}` });
      return;
    }
    this.#assign(socket, token, chat.id);
    reply(ack, { ok: true, data: { ...this.#ctx.chats.summary(chat), messages: chat.messages } });
  }

  #agentReply(socket: CrmSocket, payload: unknown, ack: unknown): void {
    const r = AgentReply.safeParse(payload);
    if (!r.success) {
      this.#log.warn({ socketId: socket.id, problem: issuesText(r.error) }, 'bad agent:reply');
      reply(ack, { ok: false, error: `bad agent:reply: ${issuesText(r.error)}` });
      return;
    }
    const chat = this.#ctx.chats.get(r.data.chatId);
    if (!chat) {
      reply(ack, { ok: false, error: `unknown chat ${r.data.chatId}` });
      return;
    }
    const message = this.#ctx.chats.addMessage(chat, 'agent', r.data.text);
    reply(ack, { ok: true, data: message });
    this.#relay(chat, message, [chatRoom(chat.id), this.#agentsOf(chat)], socket.id);
  }

  /**
   * A chat was created: tell the agents at once. With auto-assigning consoles online, the server
   * gives it to the one with the fewest chats (the earliest connected on a tie) and tells it.
   */
  chatCreated(chat: Chat): void {
    const summary = this.#ctx.chats.summary(chat);
    this.io.to(AGENTS_ROOM).emit('chat:created', summary);
    let pick: { socket: CrmSocket; token: string; load: number } | undefined;
    for (const socket of this.io.sockets.sockets.values()) {
      const d = socket.data;
      if (d.role !== 'agent' || !d.auto) continue;
      const load = this.#chatsOf.get(d.token)?.size ?? 0;
      if (!pick || load < pick.load) pick = { socket, token: d.token, load };
    }
    if (!pick) return;
    this.#assign(pick.socket, pick.token, chat.id);
    pick.socket.emit('chat:assigned', summary);
  }

  /** A visitor message was added over REST: relay it to the chat's agent, or to every agent while it has none. */
  visitorMessage(chat: Chat, message: ChatMessage): void {
    this.#relay(chat, message, [this.#agentsOf(chat)]);
  }

  /** The room of the agents who should see the chat's messages. */
  #agentsOf(chat: Chat): string {
    return this.#assigned.has(chat.id) ? assignedRoom(chat.id) : AGENTS_ROOM;
  }

  #relay(chat: Chat, message: ChatMessage, rooms: string[], exceptSocketId?: string): void {
    const event = { chatId: chat.id, visitorName: chat.visitorName, message };
    void this.#ctx.delays.wait(this.#ctx.knobs.latency('realtime')).then(() => {
      const target = exceptSocketId ? this.io.to(rooms).except(exceptSocketId) : this.io.to(rooms);
      target.emit('chat:message', event);
    });
  }
}
