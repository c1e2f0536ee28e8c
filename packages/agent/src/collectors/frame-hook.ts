import type { CdpTargetTree } from './cdp-tree.js';

/*
 * The page-side half of delivery by frame (scenarios/frame-watch.ts reads it): every document of
 * a page (cross-origin widget frames included) gets, before its own scripts run, a WebSocket that
 * stamps each text message it receives on a socket whose URL matches the pattern —
 * `performance.timeOrigin + performance.now()` when the page's `message` event is dispatched,
 * before any listener of the page runs (ours is added in the constructor, before the page can add
 * its own). The WebSocket is a subclass of the page's own (same name, constants and prototype
 * chain); it keeps the last FRAME_BUFFER text messages' first FRAME_TEXT_MAX characters, no more.
 * Binary messages are not read; a socket that falls back to HTTP long-polling has no frames.
 */

export const FRAME_STATE_KEY = 'userprobe.frames';
/** Text messages kept per document (the newest). */
export const FRAME_BUFFER = 500;
/** Characters kept of each. */
export const FRAME_TEXT_MAX = 4096;

/** The page-side hook, as the source of a new-document script. */
export function frameWatchScript(urlPattern: string): string {
  const install = (key: string, pattern: string, keep: number, maxChars: number): void => {
    const g = globalThis as unknown as Record<symbol, unknown> & { WebSocket?: typeof WebSocket };
    const sym = Symbol.for(key);
    const Base = g.WebSocket;
    if (g[sym] || typeof Base !== 'function') return;
    const frames: Array<[number, string]> = [];
    Object.defineProperty(g, sym, { value: frames, enumerable: false });
    const re = new RegExp(pattern);
    class ProbedWebSocket extends Base {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        // The socket's resolved URL (a relative or http(s) argument becomes ws(s)://…), as the pattern is written.
        if (!re.test(this.url)) return;
        this.addEventListener('message', (e: MessageEvent) => {
          if (typeof e.data !== 'string') return;
          frames.push([performance.timeOrigin + performance.now(), e.data.slice(0, maxChars)]);
          if (frames.length > keep) frames.splice(0, frames.length - keep);
        });
      }
    }
    Object.defineProperty(ProbedWebSocket, 'name', { value: 'WebSocket' });
    g.WebSocket = ProbedWebSocket;
  };
  return `(${install.toString()})(${JSON.stringify(FRAME_STATE_KEY)}, ${JSON.stringify(urlPattern)}, ${FRAME_BUFFER}, ${FRAME_TEXT_MAX});`;
}

/** Install the hook in every page and frame session of the tree (call before `tree.start()`). */
export function watchFrames(tree: CdpTargetTree, urlPattern: string): void {
  const source = frameWatchScript(urlPattern);
  tree.prepare(async (node) => {
    if (node.type !== 'page' && node.type !== 'iframe') return;
    await node.session.send('Page.enable');
    await node.session.send('Page.addScriptToEvaluateOnNewDocument', { source });
  });
}
