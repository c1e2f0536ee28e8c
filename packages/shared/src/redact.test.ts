import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor, isSecretHeader, isSecretName, secretForms } from './redact.js';

const R = REDACTED;

describe('isSecretName / isSecretHeader', () => {
  it.each([
    ['password', true],
    ['Password', true],
    ['new_password', true],
    ['user[password]', true],
    ['user%5Bpassword%5D', true],
    ['passwd', true],
    ['pwd', true],
    ['pass', true],
    ['client_secret', true],
    ['token', true],
    ['visitorToken', true],
    ['access_token', true],
    ['X-CSRF-Token', true],
    ['api_key', true],
    ['apiKey', true],
    ['APIKey', true],
    ['x-api-key', true],
    ['auth', true],
    ['session_id', true],
    ['sessionid', true],
    ['signature', true],
    ['credentials', true],
    ['passenger', false],
    ['compass', false],
    ['author', false],
    ['username', false],
    ['text', false],
    ['note', false],
    ['sid', false],
    ['EIO', false],
    ['headersSize', false],
    ['_webSocketMessages', false],
    ['chatId', false],
    ['keyboard', false],
  ])('isSecretName(%j) = %s', (name, expected) => {
    expect(isSecretName(name)).toBe(expected);
  });

  it.each([
    ['Authorization', true],
    ['proxy-authorization', true],
    ['Cookie', true],
    ['Set-Cookie', true],
    ['X-Auth-Token', true],
    ['content-type', false],
    ['User-Agent', false],
    ['Sec-WebSocket-Key', false],
  ])('isSecretHeader(%j) = %s', (name, expected) => {
    expect(isSecretHeader(name)).toBe(expected);
  });
});

describe('Redactor.text', () => {
  const r = new Redactor(['hunter2 "x"']);
  it.each([
    // by name
    ['{"username":"a","password":"p\\"w"}', `{"username":"a","password":"${R}"}`],
    ['{"pin": 1, "token" : 12345}', `{"pin": 1, "token" : "${R}"}`],
    ['40{"role":"agent","token":"abc-DEF_1"}', `40{"role":"agent","token":"${R}"}`],
    ['42["join",{"chatId":"c1","visitorToken":"v-1"}]', `42["join",{"chatId":"c1","visitorToken":"${R}"}]`],
    ['{"data":"{\\"password\\":\\"p\\\\\\"w\\",\\"a\\":1}"}', `{"data":"{\\"password\\":\\"${R}\\",\\"a\\":1}"}`],
    ['username=a&password=p%40ss&x=1', `username=a&password=${R}&x=1`],
    ['http://h/p?note=1&access_token=abc#f', `http://h/p?note=1&access_token=${R}#f`],
    ['sessionid=abc; lang=en', `sessionid=${R}; lang=en`],
    [
      '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nsecret value\r\n--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nann\r\n--b--',
      `--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n${R}\r\n--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nann\r\n--b--`,
    ],
    ['Authorization: Bearer eyJhbGciOi.abc.def', `Authorization: Bearer ${R}`],
    [`Basic ${btoa('ann:pw')}`, `Basic ${R}`],
    ['Basic usage of the widget', 'Basic usage of the widget'],
    // by value, in every encoding
    ['typed hunter2 "x" here', `typed ${R} here`],
    [`?q=${encodeURIComponent('hunter2 "x"')}`, `?q=${R}`],
    [`q=${new URLSearchParams({ v: 'hunter2 "x"' }).toString().slice(2)}`, `q=${R}`],
    [JSON.stringify({ note: 'hunter2 "x"' }), `{"note":"${R}"}`],
    [JSON.stringify(JSON.stringify({ note: 'hunter2 "x"' })), `"{\\"note\\":\\"${R}\\"}"`],
    // nothing to redact
    ['42["chat:message",{"text":"probe ev-a 1 hello"}]', '42["chat:message",{"text":"probe ev-a 1 hello"}]'],
    ['GET /api/chats?x=1 500', 'GET /api/chats?x=1 500'],
  ])('%j', (input, expected) => {
    expect(r.text(input)).toBe(expected);
  });

  it('is idempotent', () => {
    const once = r.text('{"password":"a"} hunter2 "x" token=b');
    expect(r.text(once)).toBe(once);
  });

  it('secrets added later are redacted from then on; the empty string is ignored', () => {
    const later = new Redactor();
    later.add('');
    expect(later.size).toBe(0);
    expect(later.text('abc')).toBe('abc');
    later.add('s3cr3t');
    expect(later.text('x s3cr3t y')).toBe(`x ${R} y`);
  });

  it('every form of a secret', () => {
    expect(secretForms('a b"')).toEqual(['a b"', 'a%20b%22', 'a+b%22', 'a b\\"', 'a b\\\\\\"', 'a%20b%5C%22']);
  });
});

describe('Redactor.value (HAR and console documents)', () => {
  const r = new Redactor(['tok-123']);
  it('headers, cookies, query and params by name; every string by text; shape kept', () => {
    const entry = {
      request: {
        url: 'http://h/x?token=abc&a=1',
        headers: [
          { name: 'Authorization', value: 'Bearer abcdefghij' },
          { name: 'Cookie', value: 'sid=1; theme=dark' },
          { name: 'Accept', value: '*/*' },
        ],
        cookies: [{ name: 'theme', value: 'dark', path: '/' }],
        queryString: [
          { name: 'token', value: 'abc' },
          { name: 'a', value: '1' },
        ],
        postData: {
          mimeType: 'application/json',
          params: [
            { name: 'username', value: 'ann' },
            { name: 'password', value: 'pw' },
          ],
          text: '{"username":"ann","password":"pw"}',
        },
        headersSize: 120,
      },
      response: { headers: [{ name: 'Set-Cookie', value: 'sid=2; HttpOnly' }], cookies: [{ name: 'sid', value: '2' }], status: 200 },
      _webSocketMessages: [
        { type: 'send', time: 1, opcode: 1, data: '40{"token":"tok-123"}' },
        { type: 'send', time: 2, opcode: 1, data: 'note tok-123' },
      ],
    };
    expect(r.value(entry)).toEqual({
      request: {
        url: `http://h/x?token=${R}&a=1`,
        headers: [
          { name: 'Authorization', value: R },
          { name: 'Cookie', value: R },
          { name: 'Accept', value: '*/*' },
        ],
        cookies: [{ name: 'theme', value: R, path: '/' }],
        queryString: [
          { name: 'token', value: R },
          { name: 'a', value: '1' },
        ],
        postData: {
          mimeType: 'application/json',
          params: [
            { name: 'username', value: 'ann' },
            { name: 'password', value: R },
          ],
          text: `{"username":"ann","password":"${R}"}`,
        },
        headersSize: 120,
      },
      response: { headers: [{ name: 'Set-Cookie', value: R }], cookies: [{ name: 'sid', value: R }], status: 200 },
      _webSocketMessages: [
        { type: 'send', time: 1, opcode: 1, data: `40{"token":"${R}"}` },
        { type: 'send', time: 2, opcode: 1, data: `note ${R}` },
      ],
    });
  });

  it('secret keys are redacted recursively, whatever their value', () => {
    expect(r.value({ a: { b: [{ apiKey: { nested: 1 } }, { secret: 42, ok: true }] }, auth: null, token: false })).toEqual({
      a: { b: [{ apiKey: R }, { secret: R, ok: true }] },
      auth: null,
      token: false,
    });
  });
});

describe('Redactor.value identity', () => {
  it('returns the same object when nothing is redacted, a new one otherwise', () => {
    const r = new Redactor(['s3cr3t']);
    const clean = { log: { entries: [{ request: { url: 'http://h/', headers: [{ name: 'Accept', value: '*/*' }], cookies: [] } }] } };
    expect(r.value(clean)).toBe(clean);
    const dirty = { log: { entries: [{ request: { url: 'http://h/?x=s3cr3t' } }], pages: [] as unknown[] } };
    const out = r.value(dirty);
    expect(out).not.toBe(dirty);
    expect(out.log.pages).toBe(dirty.log.pages);
    expect(dirty.log.entries[0]!.request.url).toBe('http://h/?x=s3cr3t'); // the input is not changed
  });
});
