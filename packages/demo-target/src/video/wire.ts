import { z } from 'zod';

/*
 * The demo's video signaling wire format (its own product API, not userprobe's
 * protocol). Every inbound payload is parsed with these schemas first.
 */

const Id = z.string().min(1).max(100);
/** Largest SDP accepted (a two-track offer is ~5 KB). */
export const MAX_SDP = 64_000;

export const CallInvite = z.object({ chatId: Id });
export const CallRef = z.object({ callId: Id });
export const CallSignal = z.union([
  z.object({
    callId: Id,
    description: z.object({ type: z.enum(['offer', 'answer']), sdp: z.string().max(MAX_SDP) }),
  }),
  z.object({
    callId: Id,
    candidate: z.object({
      candidate: z.string().max(1_000),
      sdpMid: z.string().max(64).nullable().optional(),
      sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
      usernameFragment: z.string().max(256).nullable().optional(),
    }),
  }),
]);
export type CallSignal = z.infer<typeof CallSignal>;

export type CallEndReason = 'declined' | 'hangup' | 'disconnected';

export interface SignalServerToClient {
  /** To the chat's visitor, after `signaling` ms. */
  'call:invite': (e: { callId: string; chatId: string; agent: string }) => void;
  /** To the calling agent, after `signaling` ms. */
  'call:accepted': (e: { callId: string }) => void;
  /** Offer / answer / candidate from the other party, after `signaling` ms. */
  'call:signal': (e: CallSignal) => void;
  'call:ended': (e: { callId: string; reason: CallEndReason }) => void;
  /** To agents: whether a chat's visitor can take a call (not delayed). */
  'call:presence': (e: { chatId: string; online: boolean }) => void;
}

/** Inbound payloads are `unknown` on purpose: they are parsed before use. */
export interface SignalClientToServer {
  'call:invite': (payload: unknown, ack: unknown) => void;
  'call:accept': (payload: unknown, ack: unknown) => void;
  'call:decline': (payload: unknown, ack: unknown) => void;
  'call:signal': (payload: unknown, ack: unknown) => void;
  'call:hangup': (payload: unknown, ack: unknown) => void;
}
