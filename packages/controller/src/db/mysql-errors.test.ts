import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@userprobe/shared';
import { classifyMysqlError, mysqlErrorInfo, permanentSinkError } from './mysql-errors.js';

describe('classifyMysqlError', () => {
  it.each([
    [{ code: 'ECONNREFUSED', errno: undefined }, 'transient'],
    [{ code: 'PROTOCOL_CONNECTION_LOST', errno: undefined }, 'transient'],
    [{ code: 'ER_LOCK_DEADLOCK', errno: 1213 }, 'transient'],
    [{ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }, 'transient'],
    [{ code: 'E_MYSQL_TIMEOUT', errno: undefined }, 'transient'],
    [{ code: 'SOMETHING_NEW', errno: 2013 }, 'transient'],
    [{ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 }, 'sink'],
    [{ code: 'ER_BAD_DB_ERROR', errno: 1049 }, 'sink'],
    [{ code: 'ER_NO_SUCH_TABLE', errno: 1146 }, 'sink'],
    [{ code: 'ER_BAD_FIELD_ERROR', errno: 1054 }, 'sink'],
    [{ code: 'ER_DATA_TOO_LONG', errno: 1406 }, 'batch'],
    [{ code: 'ER_PARSE_ERROR', errno: 1064 }, 'batch'],
    [{ code: 'ER_TRUNCATED_WRONG_VALUE', errno: 1292 }, 'batch'],
    [{ code: 'ER_BAD_NULL_ERROR', errno: 1048 }, 'batch'],
    [{ code: 'SOMETHING_NEW', errno: 1406 }, 'batch'],
    // what is not known is not proof that the batch is bad: retried, then spooled
    [{ code: 'SOMETHING_NEW', errno: undefined }, 'transient'],
    [{ code: 'Error', errno: undefined }, 'transient'],
    [{ code: 'E_UNKNOWN', errno: undefined }, 'transient'],
    [{ code: 'ER_SOMETHING_NEW', errno: 4999 }, 'transient'],
    [{ code: 'E_MYSQL_CLOSING', errno: undefined }, 'transient'],
  ] as const)('%o → %s', (info, kind) => {
    expect(classifyMysqlError(info)).toBe(kind);
  });
});

describe('errors mysql2 raises without a code', () => {
  it.each(["Can't add new command when connection is in closed state", "Can't write in closed state", 'Pool is closed.'])('%s → transient', (message) => {
    expect(classifyMysqlError(mysqlErrorInfo(Object.assign(new Error(message), { fatal: true })))).toBe('transient');
  });
});

describe('permanentSinkError', () => {
  it('names the code and the next step, and not the password', () => {
    const e = Object.assign(new Error("Table 'x.samples' doesn't exist"), {
      code: 'ER_NO_SUCH_TABLE',
      errno: 1146,
      sqlMessage: "Table 'x.samples' doesn't exist",
    });
    const err = permanentSinkError('mysql://u:***@h:3306/x', e);
    expect(err.code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect(err.message).toContain('ER_NO_SUCH_TABLE');
    expect(err.message).toContain('run `controller migrate`');
    expect(err.message).toContain('mysql://u:***@h:3306/x');
  });
});
