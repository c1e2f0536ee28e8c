import type { CDPEvents, CDPSession, Page, Protocol } from 'puppeteer-core';

/*
 * One CDP session on a page target plus every child target it auto-attaches
 * (out-of-process iframes such as a cross-origin chat widget, dedicated workers),
 * recursively. Page-level events miss requests made inside an OOPIF: this tree
 * enables Network on every session, so collectors see all of the page's traffic.
 *
 * Children are attached with `waitForDebuggerOnStart`, so each one is paused
 * until its domains are enabled and the `prepare` hooks have run; only then is
 * it resumed (`Runtime.runIfWaitingForDebugger`). Nothing is missed at start.
 *
 * Puppeteer auto-attaches OOPIFs for its own session too; this is a separate
 * session with its own auto-attach, so it does not disturb Puppeteer's.
 *
 * Attach BEFORE navigating the page.
 */

/** A session in the tree: the page's own (depth 0) or an attached child. */
export interface CdpNode {
  readonly session: CDPSession;
  readonly sessionId: string;
  readonly targetId: string;
  /** 'page', 'iframe', 'worker', … (CDP TargetInfo.type). */
  readonly type: string;
  /** The target's URL when it attached. */
  readonly url: string;
  readonly parentSessionId: string | undefined;
}

export type CdpEventName = keyof CDPEvents;
export type CdpListener<E extends CdpEventName> = (params: CDPEvents[E], node: CdpNode) => void;

/** Run on every node while it is still paused (before resume), e.g. to add a new-document script. */
export type PrepareHook = (node: CdpNode) => Promise<void>;

/** Target types whose Network domain we enable. Others (service workers of other pages, worklets) are resumed and left alone. */
const NETWORK_TARGET_TYPES: ReadonlySet<string> = new Set(['page', 'iframe', 'worker']);

const AUTO_ATTACH: Protocol.Target.SetAutoAttachRequest = { autoAttach: true, waitForDebuggerOnStart: true, flatten: true };

export class CdpTargetTree {
  readonly #nodes = new Map<string, CdpNode>();
  readonly #listeners = new Map<string, Set<(params: never, node: CdpNode) => void>>();
  readonly #prepareHooks: PrepareHook[] = [];
  readonly #detachFns: Array<() => void> = [];
  #root: CdpNode | undefined;
  #closed = false;
  /** Errors from children that could not be set up (kept for diagnostics, never thrown). */
  readonly attachErrors: Array<{ targetType: string; url: string; message: string }> = [];

  /** Create the tree's root session on `page`'s target. Hooks and listeners may be added before `start()`. */
  static async create(page: Page): Promise<CdpTargetTree> {
    const tree = new CdpTargetTree();
    const session = await page.createCDPSession();
    const info = (await session.send('Target.getTargetInfo')).targetInfo;
    tree.#root = { session, sessionId: session.id(), targetId: info.targetId, type: info.type, url: info.url, parentSessionId: undefined };
    return tree;
  }

  get root(): CdpNode {
    if (!this.#root) throw new Error('CdpTargetTree used before create()');
    return this.#root;
  }

  nodes(): CdpNode[] {
    return [...this.#nodes.values()];
  }

  /**
   * What the tree watches, for a timeout that saw nothing: each target's type and
   * URL (origin and path only: a query may hold a token), and any target that
   * could not be set up.
   */
  describe(): string {
    const at = (url: string): string => {
      try {
        const u = new URL(url);
        return u.protocol.startsWith('http') ? `${u.origin}${u.pathname}` : u.protocol;
      } catch {
        return url ? 'an unparsable URL' : 'no URL yet';
      }
    };
    const watched = this.nodes().map((n) => `${n.type} ${at(n.url)}`);
    const errors = this.attachErrors.map((e) => `${e.targetType} ${at(e.url)}: ${e.message}`);
    return `watched ${watched.length} target(s): ${watched.join(', ') || 'none'}` + (errors.length ? `; not watched: ${errors.join('; ')}` : '');
  }

  node(sessionId: string): CdpNode | undefined {
    return this.#nodes.get(sessionId);
  }

  /** Subscribe to a CDP event from every session of the tree, present and future. */
  on<E extends CdpEventName>(event: E, listener: CdpListener<E>): void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
      for (const node of this.#nodes.values()) this.#subscribe(node, event);
    }
    set.add(listener);
  }

  /** Register a hook run on every node (root included) before it runs; must be added before `start()`. */
  prepare(hook: PrepareHook): void {
    this.#prepareHooks.push(hook);
  }

  /** Enable Network on the root, run the hooks, and auto-attach children. */
  async start(): Promise<void> {
    await this.#setUp(this.root, false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#detachFns.splice(0)) off();
    const root = this.#root;
    if (root && !root.session.detached) await root.session.detach().catch(() => undefined);
  }

  async #setUp(node: CdpNode, paused: boolean): Promise<void> {
    this.#nodes.set(node.sessionId, node);
    for (const event of this.#listeners.keys()) this.#subscribe(node, event);
    const onAttached = (ev: Protocol.Target.AttachedToTargetEvent): void => {
      void this.#onAttached(node, ev);
    };
    node.session.on('Target.attachedToTarget', onAttached);
    const onDetached = (ev: Protocol.Target.DetachedFromTargetEvent): void => {
      this.#nodes.delete(ev.sessionId);
    };
    node.session.on('Target.detachedFromTarget', onDetached);
    this.#detachFns.push(() => {
      node.session.off('Target.attachedToTarget', onAttached);
      node.session.off('Target.detachedFromTarget', onDetached);
    });
    const steps: Array<Promise<unknown>> = [];
    if (NETWORK_TARGET_TYPES.has(node.type)) steps.push(node.session.send('Network.enable'));
    for (const hook of this.#prepareHooks) steps.push(hook(node));
    steps.push(node.session.send('Target.setAutoAttach', AUTO_ATTACH));
    try {
      await Promise.all(steps);
    } finally {
      if (paused) await node.session.send('Runtime.runIfWaitingForDebugger').catch(() => undefined);
    }
  }

  async #onAttached(parent: CdpNode, ev: Protocol.Target.AttachedToTargetEvent): Promise<void> {
    const session = parent.session.connection()?.session(ev.sessionId);
    if (!session || this.#closed) return;
    const node: CdpNode = {
      session,
      sessionId: ev.sessionId,
      targetId: ev.targetInfo.targetId,
      type: ev.targetInfo.type,
      url: ev.targetInfo.url,
      parentSessionId: parent.sessionId,
    };
    try {
      await this.#setUp(node, ev.waitingForDebugger);
    } catch (e) {
      // A child that closes while being set up (a frame navigated away) is normal.
      this.attachErrors.push({ targetType: node.type, url: node.url, message: e instanceof Error ? e.message : String(e) });
    }
  }

  #subscribe(node: CdpNode, event: string): void {
    const handler = (params: unknown): void => {
      const set = this.#listeners.get(event);
      if (!set) return;
      for (const l of set) l(params as never, node);
    };
    // The session's emitter is typed per event; this generic fan-out is the one place that erases it.
    (node.session as unknown as { on(e: string, h: (p: unknown) => void): void }).on(event, handler);
    this.#detachFns.push(() => (node.session as unknown as { off(e: string, h: (p: unknown) => void): void }).off(event, handler));
  }
}
