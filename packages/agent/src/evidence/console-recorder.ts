import type { ConsoleMessage, Page, Protocol } from 'puppeteer-core';
import type { CdpTargetTree } from '../collectors/cdp-tree.js';

export interface ConsoleEntry {
  /** ISO 8601 UTC. */
  readonly time: string;
  readonly page: string;
  /** The child target (widget frame) it came from, when not the page itself. */
  readonly frame?: string;
  readonly kind: 'console' | 'pageerror';
  readonly level: string;
  readonly text: string;
  readonly url?: string;
  readonly line?: number;
}

export const CONSOLE_MAX_ENTRIES = 500;
const MAX_TEXT = 4_000;
const KEPT_LEVELS: ReadonlySet<string> = new Set(['error', 'assert']);

/**
 * Console errors (`console.error`, failed assertions, and what Chromium logs
 * itself such as "Failed to load resource: … 500") and uncaught page errors of
 * one session's pages, with the time and the page role. Bounded.
 *
 * Puppeteer's page events cover the page's own frames; what a cross-origin
 * widget frame (an out-of-process child target) logs reaches only a CDP
 * session attached to that target, so `attachChildren` listens on the
 * evidence's CDP tree for the child targets' Log and Runtime events.
 *
 * Every text goes through `redact` before it is cut to MAX_TEXT, so a secret
 * straddling the cut cannot survive in part.
 */
export class ConsoleRecorder {
  readonly entries: ConsoleEntry[] = [];
  dropped = 0;
  readonly #detach: Array<() => void> = [];
  readonly #redact: (text: string) => string;

  constructor(redact: (text: string) => string = (t) => t) {
    this.#redact = redact;
  }

  #text(t: string): string {
    return this.#redact(t).slice(0, MAX_TEXT);
  }

  attach(page: Page, role: string): void {
    const onConsole = (m: ConsoleMessage): void => {
      if (!KEPT_LEVELS.has(m.type())) return;
      const loc = m.location();
      this.#push({
        time: new Date().toISOString(),
        page: role,
        kind: 'console',
        level: m.type(),
        text: this.#text(m.text()),
        ...(loc.url ? { url: loc.url } : {}),
        ...(loc.lineNumber === undefined ? {} : { line: loc.lineNumber + 1 }),
      });
    };
    const onError = (e: unknown): void => {
      const text = e instanceof Error ? `${e.name}: ${e.message}${e.stack ? `\n${e.stack}` : ''}` : String(e);
      this.#push({ time: new Date().toISOString(), page: role, kind: 'pageerror', level: 'error', text: this.#text(text) });
    };
    page.on('console', onConsole);
    page.on('pageerror', onError);
    this.#detach.push(() => {
      page.off('console', onConsole);
      page.off('pageerror', onError);
    });
  }

  /** Child targets of `tree` (not its root page, which `attach` covers). Register before `tree.start()`. */
  attachChildren(tree: CdpTargetTree, role: string): void {
    const isChild = (n: { parentSessionId: string | undefined }): boolean => n.parentSessionId !== undefined;
    tree.prepare(async (node) => {
      if (!isChild(node) || (node.type !== 'iframe' && node.type !== 'worker')) return;
      await Promise.all([node.session.send('Log.enable'), node.session.send('Runtime.enable')]);
    });
    tree.on('Log.entryAdded', (p: Protocol.Log.EntryAddedEvent, node) => {
      if (!isChild(node) || p.entry.level !== 'error') return;
      this.#push({
        time: new Date(p.entry.timestamp).toISOString(),
        page: role,
        frame: this.#redact(node.url).slice(0, 500),
        kind: 'console',
        level: 'error',
        text: this.#text(p.entry.text),
        ...(p.entry.url ? { url: p.entry.url } : {}),
        ...(p.entry.lineNumber === undefined ? {} : { line: p.entry.lineNumber + 1 }),
      });
    });
    tree.on('Runtime.consoleAPICalled', (p: Protocol.Runtime.ConsoleAPICalledEvent, node) => {
      if (!isChild(node) || !KEPT_LEVELS.has(p.type)) return;
      const text = p.args.map((a) => (a.value !== undefined ? String(a.value) : (a.description ?? a.type))).join(' ');
      this.#push({
        time: new Date(p.timestamp).toISOString(),
        page: role,
        frame: this.#redact(node.url).slice(0, 500),
        kind: 'console',
        level: p.type,
        text: this.#text(text),
      });
    });
    tree.on('Runtime.exceptionThrown', (p: Protocol.Runtime.ExceptionThrownEvent, node) => {
      if (!isChild(node)) return;
      const d = p.exceptionDetails;
      this.#push({
        time: new Date(p.timestamp).toISOString(),
        page: role,
        frame: this.#redact(node.url).slice(0, 500),
        kind: 'pageerror',
        level: 'error',
        text: this.#text(d.exception?.description ?? d.text),
      });
    });
  }

  #push(e: ConsoleEntry): void {
    if (this.entries.length >= CONSOLE_MAX_ENTRIES) this.dropped += 1;
    else this.entries.push(e);
  }

  detach(): void {
    for (const off of this.#detach.splice(0)) off();
  }
}
