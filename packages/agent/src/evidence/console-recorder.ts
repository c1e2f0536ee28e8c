import type { ConsoleMessage, Page } from 'puppeteer-core';

/**
 * Console errors (`console.error`, failed assertions, and what Chromium logs
 * itself such as "Failed to load resource: … 500") and uncaught page errors of
 * one session's pages, with the time and the page role. Bounded.
 */
export interface ConsoleEntry {
  /** ISO 8601 UTC. */
  readonly time: string;
  readonly page: string;
  readonly kind: 'console' | 'pageerror';
  readonly level: string;
  readonly text: string;
  readonly url?: string;
  readonly line?: number;
}

export const CONSOLE_MAX_ENTRIES = 500;
const MAX_TEXT = 4_000;
const KEPT_LEVELS: ReadonlySet<string> = new Set(['error', 'assert']);

export class ConsoleRecorder {
  readonly entries: ConsoleEntry[] = [];
  dropped = 0;
  readonly #detach: Array<() => void> = [];

  attach(page: Page, role: string): void {
    const onConsole = (m: ConsoleMessage): void => {
      if (!KEPT_LEVELS.has(m.type())) return;
      const loc = m.location();
      this.#push({
        time: new Date().toISOString(), page: role, kind: 'console', level: m.type(), text: m.text().slice(0, MAX_TEXT),
        ...(loc.url ? { url: loc.url } : {}), ...(loc.lineNumber === undefined ? {} : { line: loc.lineNumber + 1 }),
      });
    };
    const onError = (e: unknown): void => {
      const text = e instanceof Error ? `${e.name}: ${e.message}${e.stack ? `\n${e.stack}` : ''}` : String(e);
      this.#push({ time: new Date().toISOString(), page: role, kind: 'pageerror', level: 'error', text: text.slice(0, MAX_TEXT) });
    };
    page.on('console', onConsole);
    page.on('pageerror', onError);
    this.#detach.push(() => {
      page.off('console', onConsole);
      page.off('pageerror', onError);
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
