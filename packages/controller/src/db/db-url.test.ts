import { describe, expect, it } from 'vitest';
import { ConfigError } from '@userprobe/shared';
import { parseDbUrl, redactDbUrl } from './db-url.js';

describe('parseDbUrl', () => {
  it.each([
    [
      'mysql://probe:s%40cret@127.0.0.1:3307/userprobe',
      { host: '127.0.0.1', port: 3307, user: 'probe', password: 's@cret', database: 'userprobe', redacted: 'mysql://probe:***@127.0.0.1:3307/userprobe' },
    ],
    ['mysql://root@localhost/test', { host: 'localhost', port: 3306, user: 'root', password: '', database: 'test', redacted: 'mysql://root@localhost/test' }],
    ['mariadb://u:p@[::1]:3306/db_1', { host: '::1', port: 3306, user: 'u', password: 'p', database: 'db_1', redacted: 'mysql://u:***@[::1]:3306/db_1' }],
  ])('%s', (url, expected) => {
    expect(parseDbUrl(url)).toEqual(expected);
  });

  it.each([
    ['postgres://u:hunter2@h/db', /scheme postgres:/],
    ['mysql://u:hunter2@h/', /names no usable database/],
    ['mysql://u:hunter2@h/a;drop', /names no usable database/],
    ['mysql://h/db', /names no user/],
    ['not a url hunter2', /does not parse/],
  ])('rejects %s without echoing the password', (url, message) => {
    let err: unknown;
    try {
      parseDbUrl(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('hunter2');
  });
});

describe('redactDbUrl', () => {
  it.each([
    ['mysql://u:pw@h:1/db', 'mysql://u:***@h:1/db'],
    ['mysql://u@h/db', 'mysql://u@h/db'],
    ['mysql://u:p:w@h/db', 'mysql://u:***@h/db'],
  ])('%s → %s', (url, out) => expect(redactDbUrl(url)).toBe(out));
});
