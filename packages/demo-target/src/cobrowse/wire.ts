import { z } from 'zod';

/*
 * The demo's cobrowse wire format (its own product API). A snapshot is the
 * visitor page's DOM as a tree of nodes with ids; mutations are ops on those
 * ids. Every inbound payload is parsed here before anything acts on it.
 */

const Id = z.string().min(1).max(100);
const NodeId = z.number().int().positive();
/** Deepest snapshot tree accepted (checked before the recursive schema runs). */
export const MAX_TREE_DEPTH = 400;
/** Most ops in one mutations message. */
export const MAX_OPS = 5_000;

export type SnapNode = { id: number; t: 'el'; tag: string; attrs: Record<string, string>; kids: SnapNode[] } | { id: number; t: 'text'; text: string };

export const SnapNodeSchema: z.ZodType<SnapNode> = z.lazy(() =>
  z.union([
    z.object({
      id: NodeId,
      t: z.literal('el'),
      tag: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a lower-case tag name'),
      attrs: z.record(z.string().max(200), z.string().max(100_000)),
      kids: z.array(SnapNodeSchema).max(10_000),
    }),
    z.object({ id: NodeId, t: z.literal('text'), text: z.string().max(200_000) }),
  ]),
);

/** Depth of a JSON value's nesting, iteratively (so a hostile payload cannot overflow the stack). */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v as Record<string, unknown>)) stack.push({ v: child, d: d + 1 });
    }
  }
  return max;
}

export const CobrowseStart = z.object({ chatId: Id });
export const SessionRef = z.object({ sessionId: Id });
export const Snapshot = z.object({
  sessionId: Id,
  url: z.string().max(2_000),
  viewport: z.object({ width: z.number().nonnegative(), height: z.number().nonnegative() }),
  root: SnapNodeSchema,
});
export type Snapshot = z.infer<typeof Snapshot>;

export const MutationOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), parent: NodeId, before: NodeId.nullable(), node: SnapNodeSchema }),
  z.object({ op: z.literal('remove'), id: NodeId }),
  z.object({ op: z.literal('attr'), id: NodeId, name: z.string().max(200), value: z.string().max(100_000).nullable() }),
  z.object({ op: z.literal('text'), id: NodeId, text: z.string().max(200_000) }),
]);
export const Mutations = z.object({ sessionId: Id, seq: z.number().int().nonnegative(), ops: z.array(MutationOp).max(MAX_OPS) });
export type Mutations = z.infer<typeof Mutations>;

export const Scroll = z.object({ sessionId: Id, x: z.number().finite().min(0).max(1e7), y: z.number().finite().min(0).max(1e7) });
export const Highlight = z.object({ sessionId: Id, nodeId: NodeId });

export type CobrowseEndReason = 'stopped' | 'disconnected';

export interface CobrowseServerToClient {
  /** To the chat's visitor page: an agent starts a session (after `cobrowseEvents` ms). */
  'cobrowse:start': (e: { sessionId: string; chatId: string; agent: string }) => void;
  /** To the agent: the visitor page confirmed (indicator shown). */
  'cobrowse:accepted': (e: { sessionId: string }) => void;
  'cobrowse:snapshot': (e: Snapshot) => void;
  'cobrowse:mutations': (e: Mutations) => void;
  /** To the visitor page: scroll to (x, y) / highlight a node. */
  'cobrowse:scroll': (e: { sessionId: string; x: number; y: number }) => void;
  'cobrowse:highlight': (e: { sessionId: string; nodeId: number }) => void;
  'cobrowse:ended': (e: { sessionId: string; reason: CobrowseEndReason }) => void;
  /** To agents: whether a chat's visitor page runs the cobrowse script (not delayed). */
  'cobrowse:presence': (e: { chatId: string; online: boolean }) => void;
}

/** Inbound payloads are `unknown` on purpose: they are parsed before use. */
export interface CobrowseClientToServer {
  'cobrowse:start': (payload: unknown, ack: unknown) => void;
  'cobrowse:accepted': (payload: unknown, ack: unknown) => void;
  'cobrowse:snapshot': (payload: unknown, ack: unknown) => void;
  'cobrowse:mutations': (payload: unknown, ack: unknown) => void;
  'cobrowse:scroll': (payload: unknown, ack: unknown) => void;
  'cobrowse:highlight': (payload: unknown, ack: unknown) => void;
  'cobrowse:stop': (payload: unknown, ack: unknown) => void;
}
