import { randomBytes, randomUUID } from 'node:crypto';

export type Author = 'visitor' | 'agent';

export interface ChatMessage {
  id: string;
  chatId: string;
  from: Author;
  text: string;
  /** Server time, ms since epoch. */
  at: number;
}

export interface Chat {
  id: string;
  visitorName: string;
  /** Secret the visitor proves the chat is theirs with (REST and socket join). */
  visitorToken: string;
  createdAt: number;
  messages: ChatMessage[];
}

/** A chat as the agent console lists it. */
export interface ChatSummary {
  chatId: string;
  visitorName: string;
  lastMessage: ChatMessage | null;
  messageCount: number;
}

/** Most chats kept in memory; the oldest are forgotten past it. */
export const MAX_CHATS = 10_000;

/** The demo's whole database: chats and their messages, in memory. */
export class ChatStore {
  readonly #chats = new Map<string, Chat>();
  #messages = 0;

  create(visitorName: string): Chat {
    const chat: Chat = {
      id: randomUUID(),
      visitorName,
      visitorToken: randomBytes(18).toString('base64url'),
      createdAt: Date.now(),
      messages: [],
    };
    this.#chats.set(chat.id, chat);
    if (this.#chats.size > MAX_CHATS) {
      const oldest = this.#chats.keys().next().value;
      if (oldest !== undefined) this.#chats.delete(oldest);
    }
    return chat;
  }

  get(id: string): Chat | undefined {
    return this.#chats.get(id);
  }

  addMessage(chat: Chat, from: Author, text: string): ChatMessage {
    const message: ChatMessage = { id: randomUUID(), chatId: chat.id, from, text, at: Date.now() };
    chat.messages.push(message);
    this.#messages += 1;
    return message;
  }

  summary(chat: Chat): ChatSummary {
    return {
      chatId: chat.id,
      visitorName: chat.visitorName,
      lastMessage: chat.messages.at(-1) ?? null,
      messageCount: chat.messages.length,
    };
  }

  /** Newest first. */
  list(limit: number): ChatSummary[] {
    return [...this.#chats.values()]
      .reverse()
      .slice(0, limit)
      .map((c) => this.summary(c));
  }

  get chatCount(): number {
    return this.#chats.size;
  }

  get messageCount(): number {
    return this.#messages;
  }
}
