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
export const LoginBody = z.object({ username: z.string().max(200), password: z.string().max(200) });

/** Socket handshake `auth`: a visitor (optionally rejoining a chat) or a logged-in agent. */
export const CrmAuth = z.discriminatedUnion('role', [
  z.object({ role: z.literal('visitor'), chatId: Id.optional(), visitorToken: Id.optional() }),
  z.object({ role: z.literal('agent'), token: Id }),
]);
export type CrmAuth = z.infer<typeof CrmAuth>;

export const VisitorJoin = z.object({ chatId: Id, visitorToken: Id });
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
}

/** Inbound payloads are `unknown` on purpose: they are parsed before use. */
export interface CrmClientToServer {
  'visitor:join': (payload: unknown, ack: unknown) => void;
  'agent:chats': (payload: unknown, ack: unknown) => void;
  'agent:history': (payload: unknown, ack: unknown) => void;
  'agent:reply': (payload: unknown, ack: unknown) => void;
}

/** `token`: the agent's log-in session (one per console log-in), which chats are assigned to. */
export type CrmSocketData = { role: 'visitor'; chatId: string | null } | { role: 'agent'; username: string; token: string };

export function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
}
