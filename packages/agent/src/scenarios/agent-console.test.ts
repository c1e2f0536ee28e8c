import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { storageScript } from './agent-console.js';

/** The script as a document would run it: its origin, and a localStorage that records what is set. */
function runIn(origin: string, source: string): Record<string, string> {
  const stored: Record<string, string> = {};
  runInNewContext(source, { location: { origin }, localStorage: { setItem: (k: string, v: string) => (stored[k] = v) } });
  return stored;
}

describe("agent.login.storage's new-document script (pure)", () => {
  const source = storageScript('https://console.example.com', [
    ['auth_token', 'tok-1'],
    ['tenant', 'acme'],
  ]);
  it.each([
    ["on the console's origin: every entry set", 'https://console.example.com', { auth_token: 'tok-1', tenant: 'acme' }],
    ['another origin (a widget, an ad frame): nothing', 'https://ads.example.net', {}],
    ['the same host over http: another origin, nothing', 'http://console.example.com', {}],
  ])('%s', (_n, origin, want) => expect(runIn(origin, source)).toEqual(want));

  it('keeps values with quotes and script-like text as data', () => {
    const odd = 'a"b\'c</script><script>x()</script>\\';
    expect(runIn('https://c.example', storageScript('https://c.example', [['k', odd]]))).toEqual({ k: odd });
  });
});
