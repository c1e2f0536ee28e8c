import type { Page } from 'puppeteer-core';
import type { Logger } from 'pino';
import { EVIDENCE_MAX_FILE_BYTES, describeError, type EvidenceFile, type Redactor } from '@userprobe/shared';
import { CdpTargetTree } from '../collectors/cdp-tree.js';
import { ConsoleRecorder } from './console-recorder.js';
import { HarRecorder } from './har-recorder.js';
import { mergeHars, serializeHar, type Har } from './har-build.js';
import { UPLOAD_LIMITS, fitUpload } from './upload-fit.js';

export const EVIDENCE_FILES = { visitorShot: 'visitor.png', agentShot: 'agent.png', har: 'session.har', console: 'console.json' } as const;

/** Room kept in an upload for the notes the console log gains when files are left out to fit. */
export const UPLOAD_NOTE_ROOM_BYTES = 4 * 1024;

/** A screenshot of a hung page must not hold the session forever. */
export const SCREENSHOT_TIMEOUT_MS = 5_000;

/** Why the session failed, for the card shown in place of a page that never loaded. */
export interface FailureInfo {
  readonly step: string;
  readonly message: string;
}

/** Pure: a page showing nothing of its own — never navigated, or Chromium's error page for a failed navigation. */
export function showsNothing(url: string): boolean {
  return url === 'about:blank' || url === '' || url.startsWith('chrome-error://');
}

const escapeHtml = (t: string): string => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Pure: the text card screenshotted in place of a page that never loaded (texts already redacted). */
export function failureCard(role: 'visitor' | 'agent', shown: string, why: FailureInfo | undefined): string {
  const lines = [
    `userprobe: the ${role} page shows nothing of the target (${shown}): it never loaded, or the session ended before it was opened.`,
    why ? `The session failed at step ${why.step}:` : 'The session failed.',
    ...(why ? [why.message] : []),
    'The failed request is in session.har; the console log is in console.json.',
  ];
  return (
    '<!doctype html><meta charset="utf-8"><title>userprobe: page not loaded</title>' +
    '<body style="font:16px/1.5 system-ui,sans-serif;margin:32px;color:#1f2937;background:#fff7ed">' +
    `<div style="border:2px solid #ea580c;border-radius:8px;padding:16px 24px;max-width:760px">${lines
      .map((l, i) => `<p style="margin:${i ? '8px' : '0'} 0 0;${i ? '' : 'font-weight:600'}">${escapeHtml(l)}</p>`)
      .join('')}</div></body>`
  );
}

export interface SessionEvidenceOptions {
  /** Record the HAR (off: screenshots and console only). */
  readonly har: boolean;
  readonly log: Logger;
  readonly creator: string;
  /** Redacts secrets from everything packed; values added to it while the session runs count too. */
  readonly redactor: Redactor;
  /** The agent page is a console other sessions share (--chats-per-console): never written into, only photographed. */
  readonly sharedAgent?: boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Evidence of one session, gathered while it runs and packed when it ends:
 * - `visitor.png`, `agent.png`: screenshots of both pages (failed sessions); a page that
 *   never loaded (blank, or Chromium's error page) is shown as a card saying what failed;
 * - `session.har`: one HAR with both pages' traffic, websocket frames included
 *   (recorded unless HAR capture is off; kept on failure, or always with `--har all`);
 * - `console.json`: console errors and page errors of both pages, plus notes on
 *   anything that could not be captured.
 * Files are named here; where they go (spool, controller) is the caller's business.
 *
 * Nothing secret leaves this class: console texts and websocket frames are
 * redacted as they are recorded (before they are cut to size), and the whole
 * HAR and console log once more when packed — by name (Authorization,
 * cookies, password-like fields…) and by value (the session's `redactor`
 * knows the agent token and the profile's credentials). See Redactor.
 */
export class SessionEvidence {
  readonly #pages: { readonly visitor: Page; readonly agent: Page };
  readonly #o: SessionEvidenceOptions;
  readonly #console: ConsoleRecorder;
  readonly #hars = new Map<string, HarRecorder>();
  readonly #trees: CdpTargetTree[] = [];
  readonly #notes: string[] = [];

  private constructor(pages: { readonly visitor: Page; readonly agent: Page }, o: SessionEvidenceOptions) {
    this.#pages = pages;
    this.#o = o;
    this.#console = new ConsoleRecorder((t) => o.redactor.text(t));
  }

  /** Start listening on both pages (before the scenario navigates them). Never throws: what fails is noted. */
  static async start(pages: { readonly visitor: Page; readonly agent: Page }, o: SessionEvidenceOptions): Promise<SessionEvidence> {
    const ev = new SessionEvidence(pages, o);
    ev.#console.attach(pages.visitor, 'visitor');
    ev.#console.attach(pages.agent, 'agent');
    if (o.har) {
      await Promise.all(
        (['visitor', 'agent'] as const).map(async (role) => {
          try {
            const tree = await CdpTargetTree.create(pages[role]);
            ev.#trees.push(tree);
            const har = new HarRecorder(tree);
            ev.#console.attachChildren(tree, role);
            await tree.start();
            ev.#hars.set(role, har);
          } catch (e) {
            ev.#notes.push(`HAR recording of the ${role} page could not start: ${describeError(e).message}`);
          }
        }),
      );
    }
    return ev;
  }

  async #screenshot(role: 'visitor' | 'agent', why: FailureInfo | undefined): Promise<Buffer | null> {
    const page = this.#pages[role];
    try {
      if (page.isClosed()) throw new Error('the page is closed');
      const url = page.url();
      if (showsNothing(url)) {
        // A shared console still loading belongs to the session opening it: stopping it would fail every session on it.
        if (role === 'agent' && this.#o.sharedAgent === true) this.#notes.push('the shared agent console had not loaded: its screenshot is blank');
        else await this.#showCard(page, role, url, why);
      }
      return Buffer.from(await withTimeout(page.screenshot({ type: 'png' }), SCREENSHOT_TIMEOUT_MS, 'the screenshot'));
    } catch (e) {
      this.#notes.push(`no screenshot of the ${role} page: ${describeError(e).message}`);
      return null;
    }
  }

  /**
   * A page that never loaded shows a blank or an error page: a screenshot of it says nothing.
   * Stop whatever navigation is pending and write a card saying what failed into the page
   * (its own blank document: no navigation, no request), then the screenshot shows that.
   */
  async #showCard(page: Page, role: 'visitor' | 'agent', url: string, why: FailureInfo | undefined): Promise<void> {
    const shown = url.startsWith('chrome-error://') ? "the browser's error page" : 'a blank page';
    const safe = why ? { step: why.step, message: this.#o.redactor.text(why.message) } : undefined;
    try {
      await withTimeout(
        (async () => {
          await page.evaluate(() => window.stop());
          await page.setContent(failureCard(role, shown, safe), { waitUntil: 'load', timeout: SCREENSHOT_TIMEOUT_MS });
        })(),
        SCREENSHOT_TIMEOUT_MS,
        'writing the failure card',
      );
      this.#notes.push(`the ${role} page showed ${shown}: its screenshot is a card saying what failed`);
    } catch (e) {
      this.#notes.push(`the ${role} page showed ${shown} and no card could be written into it: ${describeError(e).message}`);
    }
  }

  #har(): Buffer | null {
    if (this.#hars.size === 0) return null;
    const parts: Array<{ role: string; har: Har }> = [];
    for (const [role, rec] of this.#hars) {
      try {
        parts.push({ role, har: rec.har(`${role} page`, (t) => this.#o.redactor.text(t)) });
        if (rec.dropped) this.#notes.push(`HAR of the ${role} page: ${rec.dropped} CDP events beyond the limit were not kept`);
      } catch (e) {
        this.#notes.push(`HAR of the ${role} page could not be built: ${describeError(e).message}`);
      }
    }
    const merged = mergeHars(parts, {
      name: this.#o.creator,
      comment: 'websocket frames in _webSocketMessages, as Chrome DevTools writes them; secrets redacted',
    });
    const buf = serializeHar(this.#o.redactor.value(merged), EVIDENCE_MAX_FILE_BYTES);
    if (buf === null) this.#notes.push(`the HAR exceeds ${EVIDENCE_MAX_FILE_BYTES} bytes even with websocket frames cut; left out`);
    return buf;
  }

  /**
   * Pack the evidence: on failure screenshots, HAR (if recorded) and console;
   * otherwise (a successful session under `--har all`) the HAR and console.
   * Within one upload's limits (fitUpload): what does not fit is left out and
   * noted in the console log. Call while the pages are still open.
   */
  async collect(failed: boolean, why?: FailureInfo): Promise<EvidenceFile[]> {
    const files: EvidenceFile[] = [];
    if (failed) {
      const [v, a] = await Promise.all([this.#screenshot('visitor', why), this.#screenshot('agent', why)]);
      if (v) files.push({ name: EVIDENCE_FILES.visitorShot, data: v });
      if (a) files.push({ name: EVIDENCE_FILES.agentShot, data: a });
    }
    const har = this.#har();
    if (har) files.push({ name: EVIDENCE_FILES.har, data: har });
    const consoleFile = (): EvidenceFile => {
      const doc = this.#o.redactor.value({ entries: this.#console.entries, dropped: this.#console.dropped, notes: this.#notes });
      return { name: EVIDENCE_FILES.console, data: Buffer.from(JSON.stringify(doc, null, 2)) };
    };
    const fit = fitUpload([...files, consoleFile()], EVIDENCE_FILES.console, { ...UPLOAD_LIMITS, maxBytes: UPLOAD_LIMITS.maxBytes - UPLOAD_NOTE_ROOM_BYTES });
    for (const l of fit.left) {
      this.#notes.push(
        `${l.name} (${l.bytes} bytes) left out: one upload holds at most ${UPLOAD_LIMITS.maxFiles} files and ${UPLOAD_LIMITS.maxBytes} bytes, ${UPLOAD_LIMITS.maxFileBytes} per file`,
      );
    }
    return [...fit.files.filter((f) => f.name !== EVIDENCE_FILES.console), consoleFile()];
  }

  /** Stop listening (before the contexts close). */
  async stop(): Promise<void> {
    this.#console.detach();
    await Promise.all(
      this.#trees.map((t) =>
        t.close().catch((e: unknown) => {
          this.#o.log.debug({ err: describeError(e) }, 'HAR recorder did not close cleanly');
        }),
      ),
    );
  }
}
