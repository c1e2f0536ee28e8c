import { z } from 'zod';
import type { ChatMessage, ChatSummary } from './store.js';

/*
 * The demo product's own wire formats (REST bodies and CRM socket events).
 * These are the demo chat's API, not userprobe's protocol; every inbound
 * payload is parsed with these schemas before anything acts on it.
 */

export const MAX_TEXT = 2_000;
export const MAX_NAME = 80;

const Text = z.string().trim().min(1, 'text is 1..2000 characters').max(MAX_TEXT, 'text is 1..2000 characters');
const Id = z.string().min(1).max(100);

export const InitBody = z.object({ pageUrl: z.string().max(2_000).optional() });
export const CreateChatBody = z.object({
  name: z.string().trim().min(1, 'name is 1..80 characters').max(MAX_NAME, 'name is 1..80 characters'),
});
export const AddMessageBody = z.object({ text: Text, visitorToken: Id });
export const LoginBody = z.union([z.object({ username: z.string().max(200), password: z.string().max(200) }), z.object({ nickname: z.string().max(200) })]);

/** Socket handshake `auth`: a visitor (optionally rejoining a chat) or a logged-in agent. */
export const CrmAuth = z.discriminatedUnion('role', [
  z.object({ role: z.literal('visitor'), chatId: Id.optional(), visitorToken: Id.optional() }),
  /** `auto`: this console takes chats the server assigns it (auto-assignment) instead of picking them from the inbox. */
  z.object({ role: z.literal('agent'), token: Id, auto: z.boolean().optional() }),
]);
export type CrmAuth = z.infer<typeof CrmAuth>;

export const VisitorJoin = z.object({ chatId: Id, visitorToken: Id });
/** Socket-only widgets (`transport=socket`): start a chat and send messages over the CRM socket instead of REST. */
export const VisitorStart = CreateChatBody;
export const VisitorMessage = z.object({ chatId: Id, visitorToken: Id, text: Text });
export const AgentReply = z.object({ chatId: Id, text: Text });
export const AgentHistory = z.object({ chatId: Id });

/** Widget config returned by init. */
export interface WidgetConfig {
  widgetId: string;
  title: string;
  greeting: string;
  realtime: { path: string };
}

export interface ChatEvent {
  chatId: string;
  visitorName: string;
  message: ChatMessage;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: string };

export interface CrmServerToClient {
  /** To agents: a chat was started (not delayed by the realtime knob; it is not a message). */
  'chat:created': (chat: ChatSummary) => void;
  /** To agents (visitor and agent messages) and to the chat's visitor (agent messages). Delayed by `realtime`. */
  'chat:message': (event: ChatEvent) => void;
  /** To an auto-assigning console: the server gave it this chat (it opens it). */
  'chat:assigned': (chat: ChatSummary) => void;
}

/** Inbound payloads are `unknown` on purpose: they are parsed before use. */
export interface CrmClientToServer {
  'visitor:join': (payload: unknown, ack: unknown) => void;
  'visitor:start': (payload: unknown, ack: unknown) => void;
  'visitor:message': (payload: unknown, ack: unknown) => void;
  'agent:chats': (payload: unknown, ack: unknown) => void;
  'agent:history': (payload: unknown, ack: unknown) => void;
  'agent:reply': (payload: unknown, ack: unknown) => void;
}

/** `token`: the agent's log-in session (one per console log-in), which chats are assigned to. */
export type CrmSocketData = { role: 'visitor'; chatId: string | null } | { role: 'agent'; username: string; token: string; auto: boolean };

export function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
}
