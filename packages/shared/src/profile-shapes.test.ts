import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLED_PROFILES, parseProfile } from './profile.js';
import { loginPlan, scenarioSectionProblem, skippedMetrics } from './profile-shapes.js';
import type { ScenarioName } from './scenarios.js';

const demoYaml = readFileSync(BUNDLED_PROFILES.demo!, 'utf8');
const vars = { DEMO_SITE_URL: 'http://127.0.0.1:4310', DEMO_APP_URL: 'http://127.0.0.2:4311' };
const LOGIN = / {2}login:\n(?: {4}.*\n)+/;
const parse = (text: string) => parseProfile(text, 'p.yaml', vars);

describe('loginPlan (the steps of an agent login, from the profile)', () => {
  it.each([
    ['no login', demoYaml.replace(LOGIN, ''), { cookies: 0, storage: 0, fields: [], submit: null }],
    [
      'the username/password shorthand with a submit button',
      demoYaml,
      {
        cookies: 0,
        storage: 0,
        fields: ['agent.login.usernameInput #login-user', 'agent.login.passwordInput #login-pass'],
        submit: 'button agent.login.submit #login-submit',
      },
    ],
    [
      'a nickname field, sent with Enter',
      demoYaml.replace(LOGIN, "  login:\n    fields: [{ input: '#nick', value: { env: NICK, default: agent } }]\n    submitKey: Enter\n"),
      { cookies: 0, storage: 0, fields: ['agent.login.fields.0.input #nick'], submit: 'key agent.login.submitKey Enter' },
    ],
    [
      'fields and no submit at all',
      demoYaml.replace(LOGIN, "  login:\n    fields: [{ input: '#a', value: { env: A } }, { input: '#b', value: { env: B } }]\n"),
      { cookies: 0, storage: 0, fields: ['agent.login.fields.0.input #a', 'agent.login.fields.1.input #b'], submit: null },
    ],
    [
      'a session cookie only',
      demoYaml.replace(LOGIN, '  login:\n    cookies: [{ name: sid, value: { env: CONSOLE_SID } }]\n'),
      { cookies: 1, storage: 0, fields: [], submit: null },
    ],
    [
      'a token in localStorage only',
      demoYaml.replace(LOGIN, '  login:\n    storage: [{ key: auth_token, value: { env: CONSOLE_TOKEN } }]\n'),
      { cookies: 0, storage: 1, fields: [], submit: null },
    ],
  ])('%s', (_n, text, want) => {
    const plan = loginPlan(parse(text).agent.login);
    expect({
      cookies: plan.cookies.length,
      storage: plan.storage.length,
      fields: plan.fields.map((f) => `${f.field} ${f.input}`),
      submit:
        plan.submit === null
          ? null
          : 'button' in plan.submit
            ? `button ${plan.submit.field} ${plan.submit.button}`
            : `key ${plan.submit.field} ${plan.submit.key}`,
    }).toEqual(want);
  });
});

describe('skippedMetrics (what a profile gives no step for)', () => {
  const drop = (text: string, line: RegExp) => {
    expect(line.test(text), String(line)).toBe(true);
    return text.replace(line, '');
  };
  const noCreate = drop(demoYaml, /^ {4}create: .*\n/m);
  const wsOnly = drop(drop(drop(demoYaml, /^ {4}create: .*\n/m), /^ {4}addMessage: .*\n/m), /^ {4}init: .*\n/m);
  const noCrm = drop(demoYaml, /^ {4}crm: .*\n/m);
  it.each<[string, ScenarioName, string, string[]]>([
    ['the demo: everything measured', 'chat-load', demoYaml, []],
    ['no create pattern', 'chat-load', noCreate, ['api_create: the profile names no network.requests.create']],
    [
      'websocket-only messaging (no REST patterns)',
      'chat-load',
      wsOnly,
      [
        'api_init: the profile names no network.requests.init',
        'api_create: the profile names no network.requests.create',
        'api_add_message: the profile names no network.requests.addMessage',
      ],
    ],
    ['no CRM socket', 'chat-load', noCrm, ['crm_ws_connect: the profile names no network.sockets.crm']],
    ['other scenarios say what they need themselves', 'video-call', wsOnly, []],
  ])('%s', (_n, scenario, text, want) => {
    expect(skippedMetrics(scenario, parse(text)).map((k) => `${k.metric}: ${k.reason}`)).toEqual(want);
  });

  it('an in-page widget opened by its URL, auto-assigned chats: no frame, no launcher, no chat item — all valid', () => {
    const p = parse(
      drop(drop(drop(demoYaml, /^ {4}frame: .*\n/m), /^ {4}open: .*\n/m), /^ {2}chatItem: .*\n/m).replace('${DEMO_SITE_URL}/', '${DEMO_SITE_URL}/?chat=open'),
    );
    expect([p.visitor.widget.frame, p.visitor.widget.open, p.agent.chatItem]).toEqual([undefined, undefined, undefined]);
  });
});

describe("scenarioSectionProblem (a profile's scenario: section needs a module to read it)", () => {
  const cases: Array<[string, Record<string, unknown> | undefined, string | null, boolean]> = [
    ['no section, built-in', undefined, null, false],
    ['no section, module', undefined, '/srv/m.mjs', false],
    ['section, module', { openChat: false }, '/srv/m.mjs', false],
    ['section, built-in: refused', { openChat: false }, null, true],
  ];
  for (const [name, section, module, refused] of cases)
    it(name, () => {
      const p = scenarioSectionProblem({ name: 'acme', ...(section ? { scenario: section } : {}) }, 'chat-load', module);
      if (refused)
        expect(p).toMatch(/^profile acme: its scenario: section .* no --scenario-module \(built-in chat-load takes no settings\); remove the section/);
      else expect(p).toBeNull();
    });
});
