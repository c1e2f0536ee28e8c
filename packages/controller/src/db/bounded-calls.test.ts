import { describe, expect, it } from 'vitest';
import { bounded, MYSQL_CLOSING_CODE, MYSQL_TIMEOUT_CODE, type CallBounds } from './bounded-calls.js';
import { classifyMysqlError, mysqlErrorInfo } from './mysql-errors.js';

const never = new Promise<never>(() => undefined);
const bounds = (ms: number, signal = new AbortController().signal): CallBounds => ({ limitMs: () => ms, signal, setting: 'option callTimeoutMs' });

describe('bounded', () => {
  it('a call that never answers fails after its bound with a transient, coded error naming the setting', async () => {
    const e = await bounded(never, 'to COMMIT', bounds(20)).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: MYSQL_TIMEOUT_CODE, message: 'MySQL did not answer to COMMIT within 20 ms (option callTimeoutMs)' });
    expect(classifyMysqlError(mysqlErrorInfo(e))).toBe('transient');
  });

  it('a deadline already past fails at once', async () => {
    await expect(bounded(never, 'to BEGIN', bounds(-5))).rejects.toMatchObject({ code: MYSQL_TIMEOUT_CODE });
  });

  it('closing abandons the call at once (also one started after the close)', async () => {
    const ac = new AbortController();
    const p = bounded(never, 'to BEGIN', bounds(60_000, ac.signal));
    ac.abort();
    const e = await p.catch((x: unknown) => x);
    expect(e).toMatchObject({ code: MYSQL_CLOSING_CODE });
    expect(classifyMysqlError(mysqlErrorInfo(e))).toBe('transient');
    await expect(bounded(never, 'with a connection', bounds(60_000, ac.signal))).rejects.toMatchObject({ code: MYSQL_CLOSING_CODE });
  });

  it('passes the answer and the error through; a late answer goes to onLate', async () => {
    expect(await bounded(Promise.resolve(7), 'x', bounds(1_000))).toBe(7);
    await expect(bounded(Promise.reject(Object.assign(new Error('gone'), { code: 'PROTOCOL_CONNECTION_LOST' })), 'x', bounds(1_000))).rejects.toMatchObject({
      code: 'PROTOCOL_CONNECTION_LOST',
    });
    let answer: (v: string) => void = () => undefined;
    const late = new Promise<string>((r) => {
      answer = r;
    });
    const released = new Promise<string>((onLate) => {
      void bounded(late, 'with a connection', bounds(10), onLate).catch(() => answer('a connection'));
    });
    expect(await released).toBe('a connection');
  });
});
