import type { Frame, Page } from 'puppeteer-core';
import type { StatsReport } from './rtc-stats.js';

/*
 * A registry of every RTCPeerConnection a page creates, for any tenant without
 * knowing its code: a new-document script (installed with
 * `page.evaluateOnNewDocument`, which Puppeteer applies to every frame,
 * out-of-process widget iframes included) replaces `window.RTCPeerConnection`
 * with a subclass that records each connection and stamps its ICE and
 * connection state changes page-side (`performance.timeOrigin + now()`, the
 * machine clock every page of the browser shares). The subclass keeps
 * `instanceof`, the prototype and the constructor's name.
 */

const REGISTRY_KEY = 'userprobe.rtc';

export interface RtcStateLog {
  /** Index in the frame's registry (creation order). */
  readonly index: number;
  readonly createdAt: number;
  readonly iceConnectionState: string;
  readonly connectionState: string;
  /** First instant connectionState was 'connected'. */
  readonly connectedAt: number | null;
  /** [state, instant] changes, oldest first. */
  readonly ice: ReadonlyArray<readonly [string, number]>;
  readonly connection: ReadonlyArray<readonly [string, number]>;
}

/** The registry installer, as the source of a new-document script. */
export function rtcRegistryScript(): string {
  const install = (key: string): void => {
    const g = globalThis as unknown as Record<symbol | string, unknown>;
    const sym = Symbol.for(key);
    const Native = g['RTCPeerConnection'] as typeof globalThis.RTCPeerConnection | undefined;
    if (g[sym] || typeof Native !== 'function') return;
    const now = (): number => performance.timeOrigin + performance.now();
    const entries: unknown[] = [];
    Object.defineProperty(g, sym, { value: entries, enumerable: false });
    class Recorded extends Native {
      constructor(...args: ConstructorParameters<typeof globalThis.RTCPeerConnection>) {
        super(...args);
        const rec = {
          pc: this as globalThis.RTCPeerConnection,
          createdAt: now(),
          ice: [[this.iceConnectionState, now()]] as Array<[string, number]>,
          connection: [[this.connectionState, now()]] as Array<[string, number]>,
          connectedAt: null as number | null,
        };
        entries.push(rec);
        // Registered before the page's own listeners, so these stamps come first.
        this.addEventListener('iceconnectionstatechange', () => rec.ice.push([this.iceConnectionState, now()]));
        this.addEventListener('connectionstatechange', () => {
          const at = now();
          rec.connection.push([this.connectionState, at]);
          if (this.connectionState === 'connected' && rec.connectedAt === null) rec.connectedAt = at;
        });
      }
    }
    Object.defineProperty(Recorded, 'name', { value: 'RTCPeerConnection' });
    g['RTCPeerConnection'] = Recorded;
    if ('webkitRTCPeerConnection' in g) g['webkitRTCPeerConnection'] = Recorded;
  };
  return `(${install.toString()})(${JSON.stringify(REGISTRY_KEY)});`;
}

/** Install the registry in every document `page` (and its frames) will load. Call before navigating. */
export async function installRtcRegistry(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(rtcRegistryScript());
}

type Target = Page | Frame;

/** The state logs of every connection created in `target` at or after `since` (page clock). */
export function rtcStates(target: Target, since: number): Promise<RtcStateLog[]> {
  return target.evaluate(
    (key: string, t0: number) => {
      const entries = (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(key)] as
        | Array<{ pc: RTCPeerConnection; createdAt: number; ice: Array<[string, number]>; connection: Array<[string, number]>; connectedAt: number | null }>
        | undefined;
      return (entries ?? [])
        .map((e, index) => ({ e, index }))
        .filter(({ e }) => e.createdAt >= t0)
        .map(({ e, index }) => ({
          index,
          createdAt: e.createdAt,
          iceConnectionState: e.pc.iceConnectionState,
          connectionState: e.pc.connectionState,
          connectedAt: e.connectedAt,
          ice: e.ice,
          connection: e.connection,
        }));
    },
    REGISTRY_KEY,
    since,
  );
}

/** getStats() of the registry's connection `index`, as plain reports. */
export function rtcStats(target: Target, index: number): Promise<StatsReport[]> {
  return target.evaluate(
    async (key: string, i: number) => {
      const entries = (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(key)] as Array<{ pc: RTCPeerConnection }> | undefined;
      const pc = entries?.[i]?.pc;
      if (!pc) return [];
      const out: Array<Record<string, unknown>> = [];
      (await pc.getStats()).forEach((r: Record<string, unknown>) => out.push({ ...r }));
      return out as StatsReport[];
    },
    REGISTRY_KEY,
    index,
  );
}

/** Close every registered connection of `target` (ends the call's media at the end of a session). */
export async function closeAll(target: Target): Promise<void> {
  await target
    .evaluate((key: string) => {
      const entries = (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(key)] as Array<{ pc: RTCPeerConnection }> | undefined;
      for (const e of entries ?? []) e.pc.close();
    }, REGISTRY_KEY)
    .catch(() => undefined);
}

/** `ice=<state> connection=<state>` of the newest connection, or `no RTCPeerConnection was created`. */
export function describeStates(logs: readonly RtcStateLog[]): string {
  const last = logs.at(-1);
  if (!last) return 'no RTCPeerConnection was created';
  const extra = logs.length > 1 ? ` (${logs.length} connections)` : '';
  return `iceConnectionState=${last.iceConnectionState} connectionState=${last.connectionState}${extra}`;
}

export type ConnectOutcome = { readonly connectedAt: number } | { readonly endedIn: string };

/**
 * Wait page-side until the newest connection created at or after `since`
 * reaches connectionState 'connected' (its stamped instant) or ends in
 * 'failed' / 'closed'. Rejects with Puppeteer's TimeoutError after `timeoutMs`.
 */
export async function waitConnected(target: Target, since: number, timeoutMs: number, signal: AbortSignal): Promise<ConnectOutcome> {
  const handle = await target.waitForFunction(
    (key: string, t0: number) => {
      const entries = (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(key)] as
        Array<{ pc: RTCPeerConnection; createdAt: number; connectedAt: number | null }> | undefined;
      const e = (entries ?? []).filter((x) => x.createdAt >= t0).at(-1);
      if (!e) return false;
      if (e.connectedAt !== null) return { connectedAt: e.connectedAt };
      const s = e.pc.connectionState;
      return s === 'failed' || s === 'closed' ? { endedIn: s } : false;
    },
    { polling: CONNECT_POLL_MS, timeout: timeoutMs, signal },
    REGISTRY_KEY,
    since,
  );
  return (await handle.jsonValue()) as ConnectOutcome;
}

/** How often Node looks at the page-side stamp (does not affect the stamp). */
const CONNECT_POLL_MS = 25;
