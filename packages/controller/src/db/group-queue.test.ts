import { describe, expect, it } from 'vitest';
import { GroupQueue, nextGroupSize, type ItemOutcome } from './group-queue.js';

describe('nextGroupSize', () => {
  it.each([
    ['nothing waiting', [], 4, 100, 0],
    ['one item', [10], 4, 100, 1],
    ['all fit', [10, 20, 30], 4, 100, 3],
    ['the item cap', [1, 1, 1, 1, 1, 1], 4, 100, 4],
    ['the weight cap: the next item would pass it', [40, 40, 40], 10, 100, 2],
    ['exactly at the weight cap', [50, 50, 1], 10, 100, 2],
    ['an item heavier than the cap goes alone', [500, 1], 10, 100, 1],
    ['a heavy item behind light ones waits for the next group', [10, 500], 10, 100, 1],
  ])('%s', (_what, weights, maxItems, maxWeight, expected) => {
    expect(nextGroupSize(weights, { maxItems, maxWeight })).toBe(expected);
  });
});

/** A write whose groups the test releases by hand. */
function heldWrites() {
  const groups: Array<{ items: readonly number[]; release: (outcomes?: Array<ItemOutcome<string>>) => void; fail: (e: Error) => void }> = [];
  const write = (items: readonly number[]) =>
    new Promise<ReadonlyArray<ItemOutcome<string>>>((resolve, reject) => {
      groups.push({
        items,
        release: (outcomes) => resolve(outcomes ?? items.map((i) => ({ ok: true, value: `stored ${i}` }))),
        fail: reject,
      });
    });
  return { groups, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupQueue', () => {
  it('a lone item goes at once, alone; what arrives while every lane is busy waits and goes as one group', async () => {
    const w = heldWrites();
    const q = new GroupQueue<number, string>({ lanes: 1, maxItems: 10, maxWeight: 100 }, () => 1, w.write);
    const first = q.push(1);
    await tick();
    expect(w.groups.map((g) => g.items)).toEqual([[1]]);
    const later = [q.push(2), q.push(3), q.push(4)];
    await tick();
    expect(w.groups).toHaveLength(1);
    expect(q.waiting).toBe(3);
    w.groups[0]!.release();
    expect(await first).toBe('stored 1');
    await tick();
    expect(w.groups.map((g) => g.items)).toEqual([[1], [2, 3, 4]]);
    w.groups[1]!.release();
    expect(await Promise.all(later)).toEqual(['stored 2', 'stored 3', 'stored 4']);
    expect(q.waiting).toBe(0);
  });

  it('uses every lane before it groups, and keeps to the item and weight caps', async () => {
    const w = heldWrites();
    const q = new GroupQueue<number, string>({ lanes: 2, maxItems: 3, maxWeight: 25 }, (n) => n, w.write);
    const all = [q.push(1), q.push(2), q.push(3), q.push(4), q.push(5), q.push(20), q.push(6)];
    await tick();
    expect(w.groups.map((g) => g.items)).toEqual([[1], [2]]);
    w.groups[0]!.release();
    await tick();
    expect(w.groups.map((g) => g.items)).toEqual([[1], [2], [3, 4, 5]]);
    w.groups[1]!.release();
    await tick();
    // 20 + 6 would pass the weight cap of 25.
    expect(w.groups.map((g) => g.items)).toEqual([[1], [2], [3, 4, 5], [20]]);
    w.groups[2]!.release();
    w.groups[3]!.release();
    await tick();
    expect(w.groups.at(-1)!.items).toEqual([6]);
    w.groups.at(-1)!.release();
    expect(await Promise.all(all)).toEqual(['stored 1', 'stored 2', 'stored 3', 'stored 4', 'stored 5', 'stored 20', 'stored 6']);
  });

  it('each item settles with its own outcome; a failed write fails every item of its group and the queue goes on', async () => {
    const w = heldWrites();
    const q = new GroupQueue<number, string>({ lanes: 1, maxItems: 10, maxWeight: 100 }, () => 1, w.write);
    const a = q.push(1);
    const rest = [q.push(2), q.push(3)].map((p) =>
      p.then(
        (v) => ({ v }),
        (e: unknown) => ({ e: (e as Error).message }),
      ),
    );
    await tick();
    w.groups[0]!.fail(new Error('MySQL gone'));
    await expect(a).rejects.toThrow('MySQL gone');
    await tick();
    w.groups[1]!.release([
      { ok: true, value: 'stored 2' },
      { ok: false, error: new Error('refused 3') },
    ]);
    expect(await Promise.all(rest)).toEqual([{ v: 'stored 2' }, { e: 'refused 3' }]);
    const b = q.push(4);
    await tick();
    w.groups[2]!.release([]);
    await expect(b).rejects.toThrow('group write reported 0 outcomes for 1 items');
  });

  it('refuses limits below 1', () => {
    expect(
      () =>
        new GroupQueue(
          { lanes: 0, maxItems: 1, maxWeight: 1 },
          () => 1,
          () => Promise.resolve([]),
        ),
    ).toThrow(/at least 1/);
  });
});
