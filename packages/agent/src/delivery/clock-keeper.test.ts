import { describe, it, expect, afterEach } from 'vitest';
import { ClockKeeper } from './clock-keeper.js';
import type { ClockEstimate } from './clock-sync.js';

/** A sync whose measurements the test answers one by one. */
function fakeSync() {
  const waiting: ((e: ClockEstimate | null) => void)[] = [];
  let calls = 0;
  return {
    sync: () => {
      calls += 1;
      return new Promise<ClockEstimate | null>((resolve) => waiting.push(resolve));
    },
    answer: (offsetMs: number | null) => waiting.shift()!(offsetMs === null ? null : { offsetMs, rttMs: 1, samples: 5 }),
    get calls() {
      return calls;
    },
  };
}

describe('ClockKeeper', () => {
  let keeper: ClockKeeper | null = null;
  afterEach(() => keeper?.stop());

  it('measures when connected; a run then gets the estimate without round trips of its own', async () => {
    const f = fakeSync();
    let now = 0;
    keeper = new ClockKeeper({ sync: f.sync, now: () => now, freshMs: 1_000 });
    keeper.connected();
    expect(f.calls).toBe(1);
    const early = keeper.current(); // an assignment during the first measurement joins it
    f.answer(42);
    expect((await early)?.offsetMs).toBe(42);
    now = 900;
    expect((await keeper.current())?.offsetMs).toBe(42);
    expect(f.calls).toBe(1);
  });

  it('an estimate past its freshness is measured again; when that fails, the older one of the same connection stands', async () => {
    const f = fakeSync();
    let now = 0;
    keeper = new ClockKeeper({ sync: f.sync, now: () => now, freshMs: 1_000 });
    keeper.connected();
    f.answer(10);
    await keeper.current();
    now = 1_001;
    const stale = keeper.current();
    expect(f.calls).toBe(2);
    f.answer(20);
    expect((await stale)?.offsetMs).toBe(20);
    now = 2_500;
    const failed = keeper.current();
    f.answer(null);
    expect((await failed)?.offsetMs).toBe(20);
  });

  it('a dropped connection drops the estimate, and a measurement begun before the drop is not kept', async () => {
    const f = fakeSync();
    keeper = new ClockKeeper({ sync: f.sync, now: () => 0 });
    keeper.connected();
    f.answer(5);
    expect((await keeper.current())?.offsetMs).toBe(5);
    const before = keeper.refresh();
    keeper.disconnected();
    f.answer(99); // the old controller's clock
    expect((await before)?.offsetMs).toBe(99);
    keeper.connected(); // another controller
    const after = keeper.current();
    f.answer(-7);
    expect((await after)?.offsetMs).toBe(-7);
    expect((await keeper.current())?.offsetMs).toBe(-7);
  });

  it('resyncs on its interval while connected, and stops with the connection', async () => {
    const f = fakeSync();
    keeper = new ClockKeeper({ sync: f.sync, resyncEveryMs: 20 });
    keeper.connected();
    f.answer(1);
    await new Promise((r) => setTimeout(r, 70));
    expect(f.calls).toBeGreaterThanOrEqual(2); // one measurement at a time: unanswered ones are joined, not repeated
    keeper.disconnected();
    const calls = f.calls;
    await new Promise((r) => setTimeout(r, 60));
    expect(f.calls).toBe(calls);
  });
});
