import type { Page } from 'puppeteer-core';
import type { RequestPattern, SocketPattern } from '@userprobe/shared';
import { CdpTargetTree } from './cdp-tree.js';
import { watchFirstVisible, type WatchScope } from './first-visible.js';
import { NetworkCollector } from './network.js';
import { SocketCollector } from './socket.js';
import { watchTimeline } from './timeline-watch.js';
import { watchFrames } from './frame-hook.js';

/** The collectors of one page, on one CDP session tree. Attach before navigating. */
export interface PageCollectors {
  readonly tree: CdpTargetTree;
  readonly network: NetworkCollector;
  /** One collector per socket the profile names, by name. */
  readonly sockets: ReadonlyMap<string, SocketCollector>;
  close(): Promise<void>;
}

export interface PageCollectorsOptions {
  readonly requests: Readonly<Record<string, RequestPattern>>;
  readonly sockets?: Readonly<Record<string, SocketPattern | undefined>>;
  /** Selectors whose first-visible instant is stamped page-side, and where to watch them. */
  readonly firstVisible?: { readonly selectors: readonly string[]; readonly scope: WatchScope };
  /**
   * Performance Timeline observers (LCP, layout shifts, interactions, the named
   * marks) in every document of the page, from before its first script.
   */
  readonly timeline?: { readonly marks: readonly string[] };
  /** Text messages of websockets whose URL matches, stamped page-side in every document (frame-hook.ts): delivery by frame. */
  readonly frames?: { readonly urlPattern: string };
}

export async function attachPageCollectors(page: Page, opts: PageCollectorsOptions): Promise<PageCollectors> {
  const tree = await CdpTargetTree.create(page);
  try {
    const network = new NetworkCollector(tree, opts.requests);
    const sockets = new Map<string, SocketCollector>();
    for (const [name, pattern] of Object.entries(opts.sockets ?? {})) {
      if (pattern) sockets.set(name, new SocketCollector(tree, name, pattern));
    }
    if (opts.firstVisible) watchFirstVisible(tree, opts.firstVisible.selectors, opts.firstVisible.scope);
    if (opts.timeline) watchTimeline(tree, opts.timeline.marks);
    if (opts.frames) watchFrames(tree, opts.frames.urlPattern);
    await tree.start();
    return { tree, network, sockets, close: () => tree.close() };
  } catch (e) {
    await tree.close();
    throw e;
  }
}
