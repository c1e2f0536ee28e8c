import { describe, expect, it } from 'vitest';
import { RunQueue } from './run-queue.js';

/** A promise the test settles by hand. */
function gate<T = void>(): { promise: Promise<T>; open(v: T): void; fail(e: unknown): void } {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('RunQueue', () => {
  it('runs the writes of one run one at a time, in call order; another run does not wait', async () => {
    const q = new RunQueue();
    const log: string[] = [];
    const first = gate();
    const a1 = q.run('a', async () => {
      log.push('a1 start');
      await first.promise;
      log.push('a1 end');
      return 1;
    });
    const a2 = q.run('a', async () => {
      log.push('a2');
      return 2;
    });
    const b1 = q.run('b', async () => {
      log.push('b1');
      return 3;
    });
    await tick();
    expect(log).toEqual(['a1 start', 'b1']);
    expect(await b1).toBe(3);
    expect(q.busy).toBe(1);
    first.open();
    expect(await Promise.all([a1, a2])).toEqual([1, 2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('a failed write rejects its caller only; the next one of the run still runs', async () => {
    const q = new RunQueue();
    const failed = q.run('a', () => Promise.reject(new Error('disk full')));
    const next = q.run('a', async () => 'ok');
    await expect(failed).rejects.toThrow('disk full');
    expect(await next).toBe('ok');
  });

  it('idle() waits for everything queued, failures included, and the queue forgets finished runs', async () => {
    const q = new RunQueue();
    const g = gate();
    let done = false;
    void q.run('a', async () => {
      await g.promise;
      done = true;
    });
    void q.run('b', () => Promise.reject(new Error('x'))).catch(() => undefined);
    const idle = q.idle();
    await tick();
    expect(done).toBe(false);
    g.open();
    await idle;
    expect(done).toBe(true);
    await tick();
    expect(q.busy).toBe(0);
  });
});
