import type { BrowserContext, Page } from 'puppeteer-core';
import { ERROR_CODES, StepError } from '@userprobe/shared';

/*
 * Chats per console (options.chatsPerConsole): a support agent serves several chats at once from one
 * console, so sessions of one run on one agent may share one agent console page, up to N at a time.
 * The first session on a console opens it (loads agent.url, logs in); the others wait for that and
 * join. A session's agent-side actions (open its chat, type, send) take turns: one session holds the
 * console at a time. The console's browser context closes when its last session ends. A console takes
 * no new session once it has served CONSOLE_MAX_CHATS (its chat list grows with each) or once its
 * opening failed. With N = 1 every session has a console of its own, as before.
 */

/** A console page takes no new session after serving this many (a long-lived console's chat list only grows). */
export const CONSOLE_MAX_CHATS = 100;

/** What a session sees of its agent console. */
export interface ConsoleSeat {
  /** Sessions this console serves at once at most (1: the session's own). */
  readonly size: number;
  /**
   * Open the console once: the first session's `open` runs (page load, login), the others wait
   * for it. True for the session that opened it. A failed opening fails the session that ran it
   * only: the first session waiting on it then runs its own `open` on the same page, the others
   * wait for that, and so on.
   * What `open` returns is run when the console closes (the console's own collectors): on a shared
   * console, not when the session that opened it ends; on a console of one's own, never — the
   * session closes what it opened.
   */
  open(open: () => Promise<ConsoleDisposer | void>): Promise<boolean>;
  /**
   * Wait for this session's turn at the console (its agent-side actions), at most `timeoutMs`; call the
   * returned function when done. A wait that ends (timeout, abort) passes the turn on when it comes.
   * The runner's seat passes a released turn on once the session's abandoned step work has settled
   * (turnsAfterSettled).
   */
  turn(signal: AbortSignal, timeoutMs: number): Promise<() => void>;
}

/** Runs when a shared console closes. */
export type ConsoleDisposer = () => Promise<void>;

/** One console as the allocator sees it. */
export interface ConsoleLoad {
  /** Sessions on it now. */
  readonly users: number;
  /** Sessions it has taken in all. */
  readonly served: number;
  /** Its opening failed. */
  readonly broken: boolean;
}

/**
 * Pure: which console a new session joins — the fullest with a free seat that is not broken and
 * has served fewer than `maxChats` (fewest console pages open) — or -1 for a new one.
 */
export function pickConsole(consoles: readonly ConsoleLoad[], size: number, maxChats = CONSOLE_MAX_CHATS): number {
  let best = -1;
  for (let i = 0; i < consoles.length; i++) {
    const c = consoles[i]!;
    if (c.broken || c.users >= size || c.served >= maxChats) continue;
    if (best < 0 || c.users > consoles[best]!.users) best = i;
  }
  return best;
}

/** A seat of one's own: opening runs at once, every turn is granted at once. */
export const soleSeat: ConsoleSeat = {
  size: 1,
  async open(open) {
    await open(); // what it returns is not run: the session closes its own console's resources
    return true;
  },
  async turn(signal) {
    signal.throwIfAborted();
    return () => undefined;
  },
};

/**
 * A seat whose turns pass on only once `settled()` resolves after their release: the work a session's
 * timed-out or aborted step left running (SessionRecorder.settled) would otherwise act on the console
 * during the next session's turn — type into its chat, click its send.
 */
export function turnsAfterSettled(seat: ConsoleSeat, settled: () => Promise<void>): ConsoleSeat {
  return {
    size: seat.size,
    open: (open) => seat.open(open),
    async turn(signal, timeoutMs) {
      const release = await seat.turn(signal, timeoutMs);
      return () => void settled().then(release, release);
    },
  };
}

/** One shared console: its page, who is on it, its opening and the queue of turns. */
class SharedConsole implements ConsoleLoad {
  users = 0;
  served = 0;
  broken = false;
  #opening: Promise<void> | null = null;
  #dispose: ConsoleDisposer | null = null;
  #queue: Promise<void> = Promise.resolve();

  constructor(readonly page: Promise<{ context: BrowserContext; page: Page }>) {}

  /** Run what the opening left to run at close (errors are the closing's business: ignored). */
  async dispose(): Promise<void> {
    const d = this.#dispose;
    this.#dispose = null;
    await d?.().catch(() => undefined);
  }

  seat(size: number): ConsoleSeat {
    return {
      size,
      open: async (open) => {
        for (;;) {
          const current = this.#opening;
          if (current === null) {
            const mine = open().then((dispose) => {
              if (dispose) this.#dispose = dispose;
            });
            this.#opening = mine;
            mine.catch(() => {
              this.broken = true; // no new session joins; those seated open it again, one at a time
            });
            await mine;
            return true;
          }
          try {
            await current;
            return false;
          } catch {
            // Another session's opening failed: that failure is its own. The first session waiting on it opens the
            // console again (on the same page, as a support agent reloads a console that did not come up); the
            // others wait for that.
            if (this.#opening === current) this.#opening = null;
          }
        }
      },
      turn: async (signal, timeoutMs) => {
        const before = this.#queue;
        let release!: () => void;
        this.#queue = new Promise<void>((r) => (release = r));
        let timer: NodeJS.Timeout | undefined;
        let onAbort: (() => void) | undefined;
        const ended = new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
          timer = setTimeout(
            () =>
              reject(
                new StepError('console_turn', `waited ${timeoutMs} ms for a turn at the shared agent console (the other sessions on it held it)`, {
                  code: ERROR_CODES.STEP_TIMEOUT,
                  detail: { chatsPerConsole: size },
                }),
              ),
            timeoutMs,
          );
        });
        ended.catch(() => undefined);
        try {
          await Promise.race([before, ended]);
        } catch (e) {
          // Pass the turn on when it comes, so the sessions after this one are not held.
          void before.then(release);
          throw e;
        } finally {
          clearTimeout(timer);
          if (onAbort) signal.removeEventListener('abort', onAbort);
        }
        let done = false;
        return () => {
          if (done) return;
          done = true;
          release();
        };
      },
    };
  }
}

/** The shared consoles of one key (a run), as the browser pool keeps them. */
export class ConsoleShare {
  readonly #consoles: SharedConsole[] = [];

  /**
   * `watch` is given each new console's page and a function that marks the console broken (the
   * browser pool calls it when the page crashes or closes), so no new session joins it.
   */
  constructor(
    readonly size: number,
    readonly watch?: (page: Page, broken: () => void) => void,
  ) {}

  /** Consoles open now. */
  get count(): number {
    return this.#consoles.length;
  }

  /**
   * Run `fn` with a seat on a console of this share: an open one with a free seat, or a new one
   * (`create` makes its context and page). The console closes when its last session ends.
   */
  async with<T>(create: () => Promise<{ context: BrowserContext; page: Page }>, fn: (page: Page, seat: ConsoleSeat) => Promise<T>): Promise<T> {
    const i = pickConsole(this.#consoles, this.size);
    let c: SharedConsole;
    if (i >= 0) c = this.#consoles[i]!;
    else {
      const made = new SharedConsole(create());
      c = made;
      made.page.then(
        ({ page }) => this.watch?.(page, () => (made.broken = true)),
        () => (made.broken = true),
      );
      this.#consoles.push(c);
    }
    c.users += 1;
    c.served += 1;
    try {
      const { page } = await c.page;
      return await fn(page, c.seat(this.size));
    } finally {
      c.users -= 1;
      if (c.users === 0) {
        this.#consoles.splice(this.#consoles.indexOf(c), 1);
        await c.dispose();
        await c.page.then(({ context }) => context.close()).catch(() => undefined);
      }
    }
  }
}
