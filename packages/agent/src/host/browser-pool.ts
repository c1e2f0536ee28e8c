import { access, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import type { Logger } from 'pino';
import { ERROR_CODES, ProbeError, describeError, type BrowserKind } from '@userprobe/shared';
import { BROWSER_LAUNCH_TIMEOUT_MS } from '../config/limits.js';
import { ensureProfileParent, profileParent, removeStaleProfiles } from './profile-dirs.js';
import { ConsoleShare, type ConsoleSeat } from './shared-console.js';

/** Flags that work as root on the project's machines (PLATFORM.md), plus fake media devices for video calls. */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
] as const;

/**
 * The old headless shell keeps a cross-site iframe (the chat widget) in its parent's
 * renderer unless site isolation is forced; real Chrome isolates it. Forcing it makes the
 * shell load the widget the way visitors' browsers do (one extra renderer per session).
 */
export const SHELL_EXTRA_ARGS = ['--site-per-process'] as const;

/**
 * Chromium features switched off, per kind, merged into ONE `--disable-features`
 * flag (Chromium honours only the last occurrence):
 * - WebRtcHideLocalIpsWithMdns (both): host ICE candidates are real addresses, not
 *   `xxxx.local` mDNS names that would be resolved by multicast on the network;
 * - WebUIOmnibox* (chromium): new headless opens an omnibox-popup renderer per
 *   context; disabling it cuts its cost ~4× (PLATFORM.md).
 */
export const DISABLED_FEATURES = {
  shell: ['WebRtcHideLocalIpsWithMdns'],
  chromium: ['WebRtcHideLocalIpsWithMdns', 'WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup'],
} as const satisfies Record<BrowserKind, readonly string[]>;

export function disableFeaturesFlag(kind: BrowserKind): string {
  return `--disable-features=${DISABLED_FEATURES[kind].join(',')}`;
}

export interface BrowserPaths {
  readonly chromiumPath: string;
  readonly shellPath: string;
}

export interface LaunchPlan {
  readonly executablePath: string;
  readonly headless: true | 'shell';
  readonly args: readonly string[];
  /** What to set to point at another binary (named in errors). */
  readonly setting: string;
}

/** Pure: browser kind → binary, headless mode and flags. */
export function launchPlan(kind: BrowserKind, paths: BrowserPaths): LaunchPlan {
  switch (kind) {
    case 'shell':
      return {
        executablePath: paths.shellPath,
        headless: 'shell',
        args: [...BASE_ARGS, ...SHELL_EXTRA_ARGS, disableFeaturesFlag('shell')],
        setting: 'CHROMIUM_SHELL_PATH (or --shell-path)',
      };
    case 'chromium':
      return {
        executablePath: paths.chromiumPath,
        headless: true,
        args: [...BASE_ARGS, disableFeaturesFlag('chromium')],
        setting: 'CHROMIUM_PATH (or --browser-path)',
      };
    default: {
      const never: never = kind;
      throw new Error(`unknown browser kind ${String(never)}`);
    }
  }
}

export interface SessionPages {
  readonly visitor: Page;
  readonly agent: Page;
  /** The session's seat at its agent console (shared-console.ts); absent: a console of its own. */
  readonly console?: ConsoleSeat;
}

/** Sessions that may share agent consoles: those of one `key` (a run), up to `size` on one console at once. */
export interface ConsoleSharing {
  readonly key: string;
  readonly size: number;
}

export interface BrowserPoolOptions {
  readonly paths: BrowserPaths;
  readonly log: Logger;
  /** Where profile folders go, under this process's own parent (profile-dirs.ts); default the OS temp folder. */
  readonly profileRoot?: string;
}

function unavailable(plan: LaunchPlan, kind: BrowserKind, why: string, cause?: unknown): ProbeError {
  return new ProbeError(
    ERROR_CODES.BROWSER_UNAVAILABLE,
    `cannot start ${kind === 'shell' ? 'the Chromium headless shell' : 'Chromium'} at ${plan.executablePath}: ${why}; ` +
      `install it with \`apt-get install -y chromium chromium-headless-shell\` or set ${plan.setting} to the binary`,
    { cause, detail: { executablePath: plan.executablePath, kind } },
  );
}

/**
 * One Chromium per agent; every session gets fresh incognito contexts (one per
 * page role: visitor and agent share nothing), closed in `finally`. The
 * browser is warmed up before it measures anything and relaunched if it crashed.
 * Its profile folder lives under this process's parent folder (profile-dirs.ts);
 * the first launch removes the parents left by agents that were killed.
 */
export class BrowserPool {
  readonly #o: BrowserPoolOptions;
  readonly #log: Logger;
  #browser: Browser | null = null;
  #kind: BrowserKind | null = null;
  #userDataDir: string | null = null;
  #launching: Promise<Browser> | null = null;
  /** Stale profile parents are removed once, before the first launch. */
  #swept = false;
  #active = 0;
  /** Shared agent consoles by key (a run), while any is open. */
  readonly #shares = new Map<string, ConsoleShare>();
  #closing = false;
  launches = 0;

  constructor(o: BrowserPoolOptions) {
    this.#o = o;
    this.#log = o.log.child({ component: 'browser-pool' });
  }

  get browser(): Browser | null {
    return this.#browser;
  }

  get kind(): BrowserKind | null {
    return this.#kind;
  }

  get activeSessions(): number {
    return this.#active;
  }

  /** The running, warmed-up browser of `kind` (launched or relaunched as needed). */
  async ensure(kind: BrowserKind): Promise<Browser> {
    if (this.#launching) await this.#launching.catch(() => undefined);
    if (this.#browser?.connected && this.#kind === kind) return this.#browser;
    if (this.#browser && this.#kind !== kind) {
      if (this.#active > 0) {
        throw new ProbeError(
          ERROR_CODES.BROWSER_UNAVAILABLE,
          `this agent is running ${this.#active} session(s) on ${this.#kind}; it cannot switch to ${kind} until they end`,
        );
      }
      await this.#shutdown();
    }
    this.#launching = this.#launch(kind);
    try {
      return await this.#launching;
    } finally {
      this.#launching = null;
    }
  }

  async #launch(kind: BrowserKind): Promise<Browser> {
    const plan = launchPlan(kind, this.#o.paths);
    try {
      await access(plan.executablePath, fsConstants.X_OK);
    } catch (e) {
      throw unavailable(plan, kind, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not executable', e);
    }
    const root = this.#o.profileRoot ?? tmpdir();
    if (!this.#swept) {
      this.#swept = true;
      const removed = await removeStaleProfiles(root);
      if (removed.length > 0) this.#log.info({ removed }, 'removed Chromium profile folders of agents that are gone');
    }
    const userDataDir = await mkdtemp(join(await ensureProfileParent(root), 'chromium-'));
    const t0 = performance.now();
    let browser: Browser;
    try {
      browser = await puppeteer.launch({
        executablePath: plan.executablePath,
        headless: plan.headless,
        args: [...plan.args],
        pipe: true,
        userDataDir,
        timeout: BROWSER_LAUNCH_TIMEOUT_MS,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
        defaultViewport: { width: 1280, height: 800 },
      });
    } catch (e) {
      await rm(userDataDir, { recursive: true, force: true });
      throw unavailable(plan, kind, `launch failed (${describeError(e).message.split('\n')[0]})`, e);
    }
    this.launches += 1;
    this.#browser = browser;
    this.#kind = kind;
    this.#userDataDir = userDataDir;
    browser.once('disconnected', () => {
      if (this.#browser !== browser) return;
      this.#browser = null;
      this.#shares.clear(); // their consoles were pages of this browser
      void rm(userDataDir, { recursive: true, force: true });
      if (!this.#closing) this.#log.error({ kind }, 'the browser exited unexpectedly; it will be relaunched for the next session');
    });
    await this.#warmUp(browser);
    this.#log.info(
      { kind, executablePath: plan.executablePath, version: await browser.version(), launchMs: Math.round(performance.now() - t0) },
      'browser ready',
    );
    return browser;
  }

  /** The first page of a fresh browser measures slow (PLATFORM.md): load something before measuring. */
  async #warmUp(browser: Browser): Promise<void> {
    const ctx = await browser.createBrowserContext();
    try {
      const page = await ctx.newPage();
      await page.goto('about:blank');
      await page.goto('data:text/html,<!doctype html><title>warm-up</title><p>warm-up</p><script>performance.now()</script>', { waitUntil: 'load' });
      await page.close();
    } finally {
      await ctx.close().catch(() => undefined);
    }
  }

  /**
   * Run `fn` with a visitor page and an agent page, each in its own fresh
   * incognito context of the shared browser; both contexts are closed afterwards.
   * With `sharing` of size > 1 the agent page is a console shared with other
   * sessions of the same key (shared-console.ts), closed when its last session ends.
   */
  async withSession<T>(kind: BrowserKind, fn: (pages: SessionPages) => Promise<T>, sharing?: ConsoleSharing): Promise<T> {
    const browser = await this.ensure(kind);
    this.#active += 1;
    const contexts: BrowserContext[] = [];
    try {
      const visitorCtx = await browser.createBrowserContext();
      contexts.push(visitorCtx);
      if (sharing !== undefined && sharing.size > 1) {
        const visitor = await visitorCtx.newPage();
        // No await between finding the share and taking a seat in it (with() seats synchronously), so a share is never dropped under a session.
        return await this.#share(sharing).with(
          async () => {
            const context = await browser.createBrowserContext();
            try {
              return { context, page: await context.newPage() };
            } catch (e) {
              await context.close().catch(() => undefined);
              throw e;
            }
          },
          (agent, seat) => fn({ visitor, agent, console: seat }),
        );
      }
      const agentCtx = await browser.createBrowserContext();
      contexts.push(agentCtx);
      const [visitor, agent] = await Promise.all([visitorCtx.newPage(), agentCtx.newPage()]);
      return await fn({ visitor, agent });
    } finally {
      await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
      this.#active -= 1;
      if (sharing !== undefined) this.#dropShare(sharing.key);
    }
  }

  /** The console share of a key (made on first use; one size per key). */
  #share(sharing: ConsoleSharing): ConsoleShare {
    let share = this.#shares.get(sharing.key);
    if (share === undefined) {
      share = new ConsoleShare(sharing.size, (page, broken) => {
        page.once('error', broken); // the console's renderer crashed
        page.once('close', broken);
      });
      this.#shares.set(sharing.key, share);
    }
    return share;
  }

  /** Forget a key's share once none of its consoles is open. */
  #dropShare(key: string): void {
    if (this.#shares.get(key)?.count === 0) this.#shares.delete(key);
  }

  async #shutdown(): Promise<void> {
    const browser = this.#browser;
    const dir = this.#userDataDir;
    this.#browser = null;
    this.#userDataDir = null;
    if (browser) await browser.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  /** Close the browser and remove its profile folder, and this process's parent folder once no other pool of it uses it. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#launching) await this.#launching.catch(() => undefined);
    await this.#shutdown();
    if (this.#swept) await rmdir(profileParent(this.#o.profileRoot ?? tmpdir())).catch(() => undefined);
  }
}
