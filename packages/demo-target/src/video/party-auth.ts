import { z } from 'zod';
import type { FeatureContext } from '../feature.js';
import { issuesText } from '../chat/wire.js';

/*
 * Handshake `auth` of the per-chat realtime channels (video signaling and
 * cobrowse): a chat's visitor proves it with the chat's visitorToken; an agent
 * with the bearer token from POST /api/agent/login.
 */

const Id = z.string().min(1).max(100);
export const PartyAuth = z.discriminatedUnion('role', [
  z.object({ role: z.literal('visitor'), chatId: Id, visitorToken: Id }),
  z.object({ role: z.literal('agent'), token: Id }),
]);

export type Party = { role: 'visitor'; chatId: string } | { role: 'agent'; username: string };

/** Who a handshake `auth` belongs to, or why it is refused (a message naming what is accepted). */
export function authenticateParty(ctx: Pick<FeatureContext, 'chats' | 'agents'>, auth: unknown): Party | { error: string } {
  const r = PartyAuth.safeParse(auth);
  if (!r.success) return { error: `bad auth: ${issuesText(r.error)}; send {role:'visitor', chatId, visitorToken} or {role:'agent', token}` };
  if (r.data.role === 'agent') {
    const agent = ctx.agents.verify(r.data.token);
    return agent ? { role: 'agent', username: agent.username } : { error: 'unknown agent token; log in with POST /api/agent/login' };
  }
  const chat = ctx.chats.get(r.data.chatId);
  if (!chat || chat.visitorToken !== r.data.visitorToken) return { error: 'unknown chat or wrong visitorToken' };
  return { role: 'visitor', chatId: chat.id };
}

export const chatRoom = (chatId: string): string => `chat:${chatId}`;
export const AGENTS_ROOM = 'agents';

/** Call `ack` if the client passed a function. */
export function reply(ack: unknown, result: { ok: true; data: unknown } | { ok: false; error: string }): void {
  if (typeof ack === 'function') (ack as (r: typeof result) => void)(result);
}
