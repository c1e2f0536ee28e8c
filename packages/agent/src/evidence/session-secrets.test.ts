import { describe, expect, it } from 'vitest';
import { credentialRefs, sessionRedactor } from './session-secrets.js';

describe('the secrets of a session', () => {
  const profile = {
    name: 'p',
    agent: { url: 'https://x/', login: { username: { env: 'T_USER', default: 'agent' }, password: { env: 'T_PASS' }, submit: '#go' } },
    extra: [{ apiKey: { env: 'T_KEY' } }],
  };

  it('every credential reference in the profile, wherever it is', () => {
    expect(credentialRefs(profile)).toEqual([{ env: 'T_USER', default: 'agent' }, { env: 'T_PASS' }, { env: 'T_KEY' }]);
  });

  it.each([
    [
      'values from the environment and the fixed ones are redacted by value',
      { T_USER: 'ann', T_PASS: 'pw-1', T_KEY: 'k-9' },
      'ann pw-1 k-9 tok',
      '[redacted] [redacted] [redacted] [redacted]',
    ],
    ['a default is not a secret (it is in the profile itself); an unset variable has no value', {}, 'agent pw-1 tok', 'agent pw-1 [redacted]'],
  ])('%s', (_n, env, text, expected) => {
    expect(sessionRedactor(profile, env, ['tok']).text(text)).toBe(expected);
  });
});
