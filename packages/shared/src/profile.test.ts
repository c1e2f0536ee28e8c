import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BUNDLED_PROFILES, isSendKey, parseProfile } from './profile.js';
import { ProfileError, ERROR_CODES } from './errors.js';

const demoYaml = readFileSync(BUNDLED_PROFILES.demo!, 'utf8');
const vars = { DEMO_SITE_URL: 'http://127.0.0.1:4310', DEMO_APP_URL: 'http://127.0.0.2:4311' };

function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProfileError) return e;
    throw e;
  }
  throw new Error('expected a ProfileError');
}

describe('parseProfile', () => {
  it('loads the bundled demo profile with its variables filled in', () => {
    const p = parseProfile(demoYaml, 'demo', vars);
    expect(p.visitor.url).toBe('http://127.0.0.1:4310/');
    expect(p.agent.url).toBe('http://127.0.0.2:4311/console/');
    expect(p.network.requests.create?.method).toBe('POST');
    expect(p.network.sockets.crm?.protocol).toBe('socket.io');
    expect(new RegExp(p.network.requests.addMessage!.url).test('http://127.0.0.2:4311/api/chats/c-1/messages')).toBe(true);
  });

  it.for([
    ['Enter', true],
    ['NumpadEnter', true],
    ['Control+Enter', true],
    ['Control+Shift+Enter', true],
    ['Alt+s', true],
    ['enter', false],
    ['Return', false],
    ['Ctrl+Enter', false],
    ['Shift+Shift+Enter', false],
    ['Control+', false],
    ['', false],
  ] as const)('isSendKey(%j) is %s', ([chord, ok]) => {
    expect(isSendKey(chord)).toBe(ok);
  });

  it('accepts a key to send instead of a button, on either side', () => {
    const p = parseProfile(
      demoYaml.replace("sendButton: '#up-send'", 'sendKey: Enter').replace("sendButton: '#chat-send'", "sendKey: 'Control+Enter'"),
      'p',
      vars,
    );
    expect([p.visitor.widget.sendKey, p.visitor.widget.sendButton, p.agent.sendKey, p.agent.sendButton]).toEqual([
      'Enter',
      undefined,
      'Control+Enter',
      undefined,
    ]);
  });

  const table: Array<[string, string, string]> = [
    ['unknown variable', demoYaml.replace('${DEMO_APP_URL}/console/', '${NOPE}/x'), 'agent.url: unknown variable ${NOPE}'],
    ['bad URL', demoYaml.replace('${DEMO_SITE_URL}/', 'not-a-url'), 'visitor.url'],
    ['bad regex', demoYaml.replace("'/api/chats(\\?|$)'", "'/api/(chats'"), 'network.requests.create.url: a valid regular expression'],
    ['missing selector', demoYaml.replace(/^\s+sendButton: '#chat-send'\n/m, ''), 'agent.sendButton'],
    ['unknown key', demoYaml.replace('name: demo', 'name: demo\ncolour: blue'), 'colour'],
    ['secret by value', demoYaml.replace('{ env: DEMO_AGENT_PASSWORD, default: demo }', '{ value: hunter2 }'), 'agent.login.password'],
    ['lower-case env name', demoYaml.replace('DEMO_AGENT_USER', 'demo_user'), 'agent.login.username.env'],
    [
      'both ways to send',
      demoYaml.replace("sendButton: '#up-send'", "sendButton: '#up-send'\n    sendKey: Enter"),
      'visitor.widget.sendButton: give exactly one of sendButton',
    ],
    [
      'a send key that is no key',
      demoYaml.replace("sendButton: '#chat-send'", "sendKey: 'Ctrl Enter'"),
      'agent.sendKey: Enter or NumpadEnter (or one letter or digit)',
    ],
    ['a send key Puppeteer would not know', demoYaml.replace("sendButton: '#chat-send'", 'sendKey: Return'), 'agent.sendKey: Enter or NumpadEnter'],
    ['a modifier twice', demoYaml.replace("sendButton: '#chat-send'", 'sendKey: Shift+Shift+Enter'), 'agent.sendKey: Enter or NumpadEnter'],
    [
      'half the username/password shorthand',
      demoYaml.replace(/^\s+passwordInput: '#login-pass'\n/m, ''),
      'agent.login.passwordInput: the username/password shorthand needs all of username, password, usernameInput, passwordInput',
    ],
    ['a login with nothing to do', demoYaml.replace(/ {2}login:\n(?: {4}.*\n)+/, '  login: {}\n'), 'agent.login: a form (fields:'],
    [
      'a login cookie for another host',
      demoYaml.replace(/ {2}login:\n(?: {4}.*\n)+/, "  login:\n    cookies: [{ name: sid, value: { env: SID }, url: 'https://evil.example/' }]\n"),
      "agent.login.cookies.0.url: a login cookie belongs to the agent console's host 127.0.0.2 (agent.url); found host evil.example",
    ],
    [
      'a submit key without a form',
      demoYaml.replace(/ {2}login:\n(?: {4}.*\n)+/, '  login:\n    cookies: [{ name: sid, value: { env: SID } }]\n    submitKey: Enter\n'),
      'agent.login.submitKey: submits a form: give its fields',
    ],
    [
      'delivery by the frames of a socket the profile does not have',
      `${demoYaml}\ndelivery:\n  toVisitor: { frame: chat }\n`,
      'delivery.toVisitor.frame: names no socket under network.sockets; the sockets are: crm, webrtc, cobrowse',
    ],
    [
      'delivery by something else',
      `${demoYaml}\ndelivery:\n  toAgent: websocket\n`,
      'delivery.toAgent: dom (the text appears in the receiving page) or { frame:',
    ],
    ['not YAML', 'name: [unclosed', 'not valid YAML'],
    ['not a mapping', '- a\n- b', 'a profile is a YAML mapping'],
  ];
  it('names every problem of a profile at once, each with what was found and what is accepted', () => {
    const text = demoYaml
      .replace(/^\s+sendButton: '#chat-send'\n/m, '')
      .replace('${DEMO_SITE_URL}/', 'not-a-url')
      .replace('name: demo', 'name: demo\ncolour: blue')
      .replace('{ env: DEMO_AGENT_PASSWORD, default: demo }', '{ value: hunter2 }');
    const e = errorOf(() => parseProfile(text, 'tenant.yaml', vars));
    const lines = e.message.split('\n');
    expect(lines[0]).toBe(`tenant.yaml: ${lines.length - 1} problems:`);
    for (const expected of [
      /^ {2}- visitor\.url: an absolute URL such as https:\/\/chat\.example\.com\/; found: "not-a-url"$/,
      /^ {2}- agent\.sendButton: give exactly one of sendButton \(a CSS selector: the button is clicked\) and sendKey \(Enter or NumpadEnter/,
      /^ {2}- colour: not a field of the document; accepted: name, description, browser, visitor, agent, network, timeouts, thresholds, delivery, scenario$/,
      /^ {2}- agent\.login\.password\.value: not a field of agent\.login\.password; accepted: env, default$/,
      /^ {2}- agent\.login\.password\.env: missing; accepted: /,
    ])
      expect(
        lines.some((l) => expected.test(l)),
        `${String(expected)} in:\n${e.message}`,
      ).toBe(true);
    expect(e.message).not.toContain('hunter2');
  });

  for (const [name, text, expected] of table) {
    it(`rejects ${name}, naming what is wrong`, () => {
      const e = errorOf(() => parseProfile(text, 'tenant.yaml', vars));
      expect(e.code).toBe(ERROR_CODES.PROFILE_INVALID);
      expect(e.message.startsWith('tenant.yaml: ')).toBe(true);
      expect(e.message).toContain(expected);
    });
  }
});
