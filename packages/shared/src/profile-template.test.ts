import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { BUNDLED_PROFILES, PROFILES_DIR, parseProfile, resolveProfile, TargetProfileSchema } from './profile.js';
import { ERROR_CODES, ProfileError } from './errors.js';

const TEMPLATE = fileURLToPath(new URL('../../../profiles/tenant.template.yaml', import.meta.url));
const templateYaml = readFileSync(TEMPLATE, 'utf8');
const tenantVars = { TENANT_SITE_URL: 'https://www.example.com', TENANT_CONSOLE_URL: 'https://agents.example.com' };
const demoYaml = readFileSync(BUNDLED_PROFILES.demo!, 'utf8');
const demoVars = { DEMO_SITE_URL: 'http://127.0.0.1:4310', DEMO_APP_URL: 'http://127.0.0.2:4311' };

function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProfileError) return e;
    throw e;
  }
  throw new Error('expected a ProfileError');
}

/** Every field path the schema accepts (`a.b.c`), through optionals, defaults and catchall-free objects; a union is a leaf. */
function schemaPaths(schema: z.core.$ZodType, prefix: string[] = []): string[] {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType> };
  if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) return schemaPaths(def.innerType, prefix);
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([k, v]) => schemaPaths(v, [...prefix, k]));
  }
  return [prefix.join('.')];
}

function has(obj: unknown, path: string): boolean {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(k in cur)) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return true;
}

describe('profiles/tenant.template.yaml', () => {
  it('is a valid profile once its placeholders are filled', () => {
    const p = parseProfile(templateYaml, TEMPLATE, tenantVars);
    expect(p.visitor.url).toBe('https://www.example.com/');
    expect(p.agent.url).toBe('https://agents.example.com/console/');
    expect(p.network.requests.visitorProfile?.method).toBe('GET');
  });

  it('sets every field the schema knows (so every field is documented in it)', () => {
    const p = parseProfile(templateYaml, TEMPLATE, tenantVars);
    // A credential's `default` is documented in a comment but never set for a real tenant; a composer
    // sends by button or by key (one of the two), so the template sets sendButton and names sendKey in a comment.
    // A login is a form or cookies or both: the template sets the shorthand form and shows the rest in comments.
    const commentedOnly = [
      'agent.login.username.default',
      'agent.login.password.default',
      'visitor.widget.sendKey',
      'agent.sendKey',
      'agent.login.fields',
      'agent.login.submitKey',
      'agent.login.cookies',
      'agent.login.storage',
      'agent.chatUrl',
      'scenario', // a custom scenario module's settings only
    ];
    const missing = schemaPaths(TargetProfileSchema).filter((path) => !has(p, path) && !commentedOnly.includes(path));
    expect(missing, JSON.stringify(missing)).toEqual([]);
    expect(templateYaml).toMatch(/# .*`default` is only for non-secret values/);
    expect(templateYaml.match(/# .*sendKey: Enter/g)).toHaveLength(2);
    for (const shown of [
      /# +fields: \[\{ input: /,
      /# +submitKey: Enter/,
      /# +cookies: \[\{ name: /,
      /^# scenario:\n# +openChat: false$/m,
      /# +chatUrl: '/,
      /# +storage: \[\{ key: /,
    ])
      expect(templateYaml).toMatch(shown);
  });

  it('names the placeholder left unfilled', () => {
    const e = errorOf(() => parseProfile(templateYaml, 'acme.yaml', {}));
    expect(e.message).toMatch(/^acme\.yaml: visitor\.url: unknown variable \$\{TENANT_SITE_URL\}/);
  });
});

describe('visitor.widget.usable', () => {
  const withUsable = (usable: string): string => demoYaml.replace(`usable: { selector: '#up-launcher[data-ready="true"]' }`, `usable: ${usable}`);
  it('accepts a selector, a mark or a request pattern name', () => {
    expect(parseProfile(withUsable("{ mark: 'widget:ready' }"), 'p', demoVars).visitor.widget.usable).toEqual({ mark: 'widget:ready' });
    expect(parseProfile(withUsable('{ request: init }'), 'p', demoVars).visitor.widget.usable).toEqual({ request: 'init' });
    expect(parseProfile(demoYaml, 'p', demoVars).visitor.widget.usable).toEqual({ selector: '#up-launcher[data-ready="true"]' });
  });
  const table: Array<[string, string, RegExp]> = [
    ['an empty mapping', '{}', /visitor\.widget\.usable: one of \{ selector: '<CSS selector>' \}, \{ mark:/],
    ['two modes at once', "{ selector: '#a', mark: 'b' }", /visitor\.widget\.usable: one of/],
    ['an unknown mode', "{ text: 'ready' }", /visitor\.widget\.usable: one of/],
    ['an empty mark', "{ mark: '' }", /visitor\.widget\.usable\.mark: a performance mark name, 1-200 characters/],
    [
      'a request that names no pattern',
      '{ request: initt }',
      /visitor\.widget\.usable\.request: names no pattern under network\.requests; the patterns are: init, create, addMessage/,
    ],
  ];
  for (const [name, usable, expected] of table) {
    it(`rejects ${name}, naming the field`, () => {
      const e = errorOf(() => parseProfile(withUsable(usable), 'tenant.yaml', demoVars));
      expect(e.code).toBe(ERROR_CODES.PROFILE_INVALID);
      expect(e.message).toMatch(expected);
    });
  }
  it('rejects a malformed extra request pattern, naming it', () => {
    const text = demoYaml.replace('    cobrowseScript:', "    visitorProfile: { url: '/api/(visitor' }\n    cobrowseScript:");
    const e = errorOf(() => parseProfile(text, 'tenant.yaml', demoVars));
    expect(e.message).toContain('network.requests.visitorProfile.url: a valid regular expression');
  });
});

describe('resolveProfile', () => {
  it('maps a bundled name to its file', async () => {
    const r = await resolveProfile('demo', demoVars);
    expect(r.bundled).toBe(true);
    expect(r.path).toBe(BUNDLED_PROFILES.demo);
    expect(r.profile.name).toBe('demo');
  });

  it("bundled profiles live in the repository's profiles/ folder, next to the tenant template", () => {
    expect(PROFILES_DIR).toBe(fileURLToPath(new URL('../../../profiles/', import.meta.url)));
    expect(BUNDLED_PROFILES.demo).toBe(`${PROFILES_DIR}demo.yaml`);
    expect(readdirSync(PROFILES_DIR)).toEqual(expect.arrayContaining(['demo.yaml', 'tenant.template.yaml']));
  });

  it('reads anything else as a path', async () => {
    const r = await resolveProfile(TEMPLATE, tenantVars);
    expect(r.bundled).toBe(false);
    expect(r.profile.name).toBe('tenant-prod');
  });

  it('refuses a name that is neither bundled nor a file, naming the bundled names', async () => {
    const e = await resolveProfile('dmeo').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ProfileError);
    expect((e as ProfileError).code).toBe(ERROR_CODES.PROFILE_NOT_FOUND);
    expect((e as ProfileError).message).toMatch(
      /^dmeo: not a bundled profile \(demo, demo-socket-chat, demo-nickname, demo-sso\) and not a readable profile file \(ENOENT\)/,
    );
  });

  it('a malformed file is PROFILE_INVALID with the field path', async () => {
    const e = await resolveProfile('demo', {}).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((e as ProfileError).code).toBe(ERROR_CODES.PROFILE_INVALID);
    expect((e as ProfileError).message).toMatch(/^demo: visitor\.url: unknown variable \$\{DEMO_SITE_URL\}/);
  });
});
