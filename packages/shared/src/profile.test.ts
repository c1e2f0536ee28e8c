import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BUNDLED_PROFILES, parseProfile } from './profile.js';
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
    expect(p.network.requests.create.method).toBe('POST');
    expect(p.network.sockets.crm.protocol).toBe('socket.io');
    expect(new RegExp(p.network.requests.addMessage.url).test('http://127.0.0.2:4311/api/chats/c-1/messages')).toBe(true);
  });

  const table: Array<[string, string, string]> = [
    ['unknown variable', demoYaml.replace('${DEMO_APP_URL}/console/', '${NOPE}/x'), 'agent.url: unknown variable ${NOPE}'],
    ['bad URL', demoYaml.replace('${DEMO_SITE_URL}/', 'not-a-url'), 'visitor.url'],
    ['bad regex', demoYaml.replace("'/api/chats(\\?|$)'", "'/api/(chats'"), 'network.requests.create.url: a valid regular expression'],
    ['missing selector', demoYaml.replace(/^\s+sendButton: '#chat-send'\n/m, ''), 'agent.sendButton'],
    ['unknown key', demoYaml.replace('name: demo', 'name: demo\ncolour: blue'), 'colour'],
    ['secret by value', demoYaml.replace('{ env: DEMO_AGENT_PASSWORD, default: demo }', '{ value: hunter2 }'), 'agent.login.password'],
    ['lower-case env name', demoYaml.replace('DEMO_AGENT_USER', 'demo_user'), 'agent.login.username.env'],
    ['not YAML', 'name: [unclosed', 'not valid YAML'],
    ['not a mapping', '- a\n- b', 'a profile is a YAML mapping'],
  ];
  for (const [name, text, expected] of table) {
    it(`rejects ${name}, naming what is wrong`, () => {
      const e = errorOf(() => parseProfile(text, 'tenant.yaml', vars));
      expect(e.code).toBe(ERROR_CODES.PROFILE_INVALID);
      expect(e.message.startsWith('tenant.yaml: ')).toBe(true);
      expect(e.message).toContain(expected);
    });
  }
});
