import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@userprobe/shared';
import { classifyMysqlError, permanentSinkError } from './mysql-errors.js';

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
  ] as const)('%o → %s', (info, kind) => {
    expect(classifyMysqlError(info)).toBe(kind);
  });
});

describe('permanentSinkError', () => {
  it('names the code and the next step, and not the password', () => {
    const e = Object.assign(new Error("Table 'x.samples' doesn't exist"), { code: 'ER_NO_SUCH_TABLE', errno: 1146, sqlMessage: "Table 'x.samples' doesn't exist" });
    const err = permanentSinkError('mysql://u:***@h:3306/x', e);
    expect(err.code).toBe(ERROR_CODES.SINK_PERMANENT);
    expect(err.message).toContain('ER_NO_SUCH_TABLE');
    expect(err.message).toContain('run `controller migrate`');
    expect(err.message).toContain('mysql://u:***@h:3306/x');
  });
});
