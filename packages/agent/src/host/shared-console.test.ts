import { describe, expect, it } from 'vitest';
import { CONSOLE_MAX_CHATS, ConsoleShare, pickConsole, soleSeat, turnsAfterSettled, type ConsoleLoad } from './shared-console.js';
import { consoleSharing } from '../runner/runner.js';

type Made = Awaited<ReturnType<Parameters<ConsoleShare['with']>[0]>>;
type Page = Made['page'];

const load = (users: number, served = users, broken = false): ConsoleLoad => ({ users, served, broken });

describe('pickConsole', () => {
  it.each([
    { name: 'none open: a new one', consoles: [], size: 3, want: -1 },
    { name: 'the fullest with a free seat', consoles: [load(1), load(2), load(0, 1)], size: 3, want: 1 },
    { name: 'full ones are skipped', consoles: [load(3), load(1)], size: 3, want: 1 },
    { name: 'all full: a new one', consoles: [load(3), load(3)], size: 3, want: -1 },
    { name: 'a broken one takes no one', consoles: [load(1, 1, true)], size: 3, want: -1 },
    { name: 'one that served its most takes no one', consoles: [load(1, CONSOLE_MAX_CHATS)], size: 3, want: -1 },
    { name: 'the first of equals', consoles: [load(2), load(2)], size: 4, want: 0 },
  ])('$name', ({ consoles, size, want }) => {
    expect(pickConsole(consoles, size)).toBe(want);
  });
});

describe('consoleSharing', () => {
  const a = (chatsPerConsole: number) => ({ runId: 'r1', options: { chatsPerConsole } }) as Parameters<typeof consoleSharing>[0];
  it.each([
    { name: 'a sharing scenario, N > 1', n: 4, shares: true, want: { key: 'r1', size: 4 } },
    { name: 'N = 1: a console each', n: 1, shares: true, want: undefined },
    { name: 'a scenario that cannot share', n: 4, shares: undefined, want: undefined },
  ])('$name', ({ n, shares, want }) => {
    expect(consoleSharing(a(n), { sharesConsole: shares })).toEqual(want);
  });
});

/** A stand-in for a browser context and its page: counts closes; pages are told apart by their number. */
function fakes() {
  let made = 0;
  const closed: number[] = [];
  const create = async (): Promise<Made> => {
    const n = ++made;
    const context = { close: async () => void closed.push(n) } as unknown as Made['context'];
    return { context, page: { n } as unknown as Page };
  };
  return { create, closed, made: () => made };
}

const pageNo = (p: Page): number => (p as unknown as { n: number }).n;

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('ConsoleShare', () => {
  it('seats up to size sessions on one console, opens it once, closes it when the last leaves', async () => {
    const f = fakes();
    const share = new ConsoleShare(2);
    const leave = [gate(), gate(), gate()];
    const opens: number[] = [];
    const seen: Array<{ page: number; opened: boolean }> = [];
    const session = (i: number) =>
      share.with(f.create, async (page, seat) => {
        const opened = await seat.open(async () => void opens.push(i));
        seen[i] = { page: pageNo(page), opened };
        await leave[i]!.promise;
      });
    const runs = [session(0), session(1), session(2)];
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([
      { page: 1, opened: true },
      { page: 1, opened: false },
      { page: 2, opened: true },
    ]);
    expect(opens).toEqual([0, 2]);
    expect(share.count).toBe(2);
    leave[0]!.open();
    await runs[0];
    expect(f.closed).toEqual([]);
    leave[1]!.open();
    await runs[1];
    expect(f.closed).toEqual([1]);
    leave[2]!.open();
    await runs[2];
    expect(f.closed).toEqual([1, 2]);
    expect(share.count).toBe(0);
  });

  it('a failed opening fails only the session that ran it: the first waiting opens the console again, the others wait for that', async () => {
    const f = fakes();
    const share = new ConsoleShare(4);
    const opening = gate();
    const opened: string[] = [];
    const first = share.with(f.create, (_p, seat) =>
      seat.open(async () => {
        await opening.promise;
        throw new Error('login refused');
      }),
    );
    const waiter = (name: string, fails: boolean) =>
      share.with(f.create, async (page, seat) => ({
        page: pageNo(page),
        opened: await seat.open(async () => {
          opened.push(name);
          if (fails) throw new Error(`${name}: login refused again`);
        }),
      }));
    const second = waiter('second', true);
    const third = waiter('third', false);
    const fourth = waiter('fourth', false);
    await new Promise((r) => setTimeout(r, 10));
    opening.open();
    await expect(first).rejects.toThrow('login refused');
    await expect(second).rejects.toThrow('second: login refused again');
    expect(await third).toEqual({ page: 1, opened: true });
    expect(await fourth).toEqual({ page: 1, opened: false });
    expect(opened).toEqual(['second', 'third']); // one at a time, in the order they came; the fourth joined the third's
    // Once they have all left, the console is closed: the next session opens a new one.
    const next = await share.with(f.create, async (page, seat) => ({ page: pageNo(page), opened: await seat.open(async () => undefined) }));
    expect(next).toEqual({ page: 2, opened: true });
  });

  it('a broken console takes no new session while its last ones still run', async () => {
    const f = fakes();
    const share = new ConsoleShare(3);
    const hold = gate();
    const first = share.with(f.create, async (_p, seat) => {
      await seat.open(async () => Promise.reject(new Error('down'))).catch(() => undefined);
      await hold.promise;
    });
    await new Promise((r) => setTimeout(r, 10));
    const next = await share.with(f.create, async (page) => pageNo(page));
    expect(next).toBe(2);
    hold.open();
    await first;
  });

  it('what the opening leaves runs when the console closes, not when the session that opened it ends', async () => {
    const f = fakes();
    const share = new ConsoleShare(2);
    const log: string[] = [];
    const joinerLeaves = gate();
    const opener = share.with(f.create, (_p, seat) =>
      seat.open(async () => async () => {
        log.push('console resources closed');
      }),
    );
    const joiner = share.with(f.create, async (_p, seat) => {
      await seat.open(async () => undefined);
      await joinerLeaves.promise;
    });
    await opener;
    expect(log).toEqual([]);
    expect(f.closed).toEqual([]);
    joinerLeaves.open();
    await joiner;
    expect(log).toEqual(['console resources closed']);
    expect(f.closed).toEqual([1]);
  });

  it('a console its watch reports broken (crashed, closed) takes no new session', async () => {
    const f = fakes();
    let breakIt: () => void = () => undefined;
    const share = new ConsoleShare(3, (_page, broken) => {
      breakIt = broken;
    });
    const hold = gate();
    const first = share.with(f.create, () => hold.promise);
    expect(await share.with(f.create, async (p) => pageNo(p))).toBe(1);
    breakIt();
    expect(await share.with(f.create, async (p) => pageNo(p))).toBe(2);
    hold.open();
    await first;
  });

  it('turns are taken one at a time, in the order asked', async () => {
    const f = fakes();
    const share = new ConsoleShare(3);
    const log: string[] = [];
    const held = gate();
    const runs = [0, 1, 2].map((i) =>
      share.with(f.create, async (_p, seat) => {
        const release = await seat.turn(new AbortController().signal, 1_000);
        log.push(`start ${i}`);
        if (i === 0) await held.promise;
        log.push(`end ${i}`);
        release();
      }),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['start 0']);
    held.open();
    await Promise.all(runs);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a wait that times out or is aborted names what it waited for and passes the turn on when it comes', async () => {
    const f = fakes();
    const share = new ConsoleShare(4); // all four on one console
    const held = gate();
    const log: string[] = [];
    const holder = share.with(f.create, async (_p, seat) => {
      const release = await seat.turn(new AbortController().signal, 1_000);
      await held.promise;
      release();
    });
    await new Promise((r) => setTimeout(r, 5));
    const timedOut = share.with(f.create, (_p, seat) => seat.turn(new AbortController().signal, 20));
    const ac = new AbortController();
    const aborted = share.with(f.create, (_p, seat) => seat.turn(ac.signal, 5_000));
    const last = share.with(f.create, async (_p, seat) => {
      const release = await seat.turn(new AbortController().signal, 5_000);
      log.push('last had its turn');
      release();
    });
    await expect(timedOut).rejects.toMatchObject({ code: 'E_STEP_TIMEOUT', step: 'console_turn' });
    await expect(timedOut).rejects.toThrow('waited 20 ms for a turn at the shared agent console');
    ac.abort(new Error('session ended'));
    await expect(aborted).rejects.toThrow('session ended');
    expect(log).toEqual([]);
    held.open();
    await holder;
    await last;
    expect(log).toEqual(['last had its turn']);
  });

  it('a release called twice frees one turn only', async () => {
    const f = fakes();
    const share = new ConsoleShare(3);
    const order: number[] = [];
    await share.with(f.create, async (_p, seat) => {
      const r0 = await seat.turn(new AbortController().signal, 1_000);
      const next = seat.turn(new AbortController().signal, 60_000).then((r) => {
        order.push(1);
        return r;
      });
      const after = seat.turn(new AbortController().signal, 60_000).then((r) => {
        order.push(2);
        return r;
      });
      r0();
      r0();
      const r1 = await next;
      await new Promise((r) => setTimeout(r, 10));
      expect(order).toEqual([1]);
      r1();
      (await after)();
    });
    expect(order).toEqual([1, 2]);
  });

  it('a turn released while the work a timed-out step left still runs passes on only once that work settles', async () => {
    const f = fakes();
    const share = new ConsoleShare(2);
    const leftover = gate(); // a timed-out step's typing, still running
    const timedOut = gate();
    const log: string[] = [];
    const first = share.with(f.create, async (_p, seat) => {
      const release = await turnsAfterSettled(seat, () => leftover.promise).turn(new AbortController().signal, 1_000);
      await timedOut.promise;
      log.push('first: its step timed out');
      release();
    });
    await new Promise((r) => setTimeout(r, 5));
    const second = share.with(f.create, async (_p, seat) => {
      const release = await turnsAfterSettled(seat, () => Promise.resolve()).turn(new AbortController().signal, 60_000);
      log.push('second has the turn');
      release();
    });
    await new Promise((r) => setTimeout(r, 5));
    timedOut.open();
    await first;
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual(['first: its step timed out']);
    log.push('the leftover work settled');
    leftover.open();
    await second;
    expect(log).toEqual(['first: its step timed out', 'the leftover work settled', 'second has the turn']);
  });

  it('a console that served its most takes no new session', async () => {
    const f = fakes();
    const share = new ConsoleShare(2);
    const hold = gate();
    const keeper = share.with(f.create, () => hold.promise);
    for (let i = 1; i < CONSOLE_MAX_CHATS; i++) await share.with(f.create, async () => undefined);
    expect(f.made()).toBe(1);
    const page = await share.with(f.create, async (p) => pageNo(p));
    expect(page).toBe(2);
    hold.open();
    await keeper;
  });
});

describe('soleSeat', () => {
  it('opens at once and grants every turn, unless the session was aborted', async () => {
    expect(await soleSeat.open(async () => undefined)).toBe(true);
    const release = await soleSeat.turn(new AbortController().signal, 1);
    release();
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await expect(soleSeat.turn(ac.signal, 1)).rejects.toThrow('gone');
  });
});
