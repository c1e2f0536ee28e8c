import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@userprobe/shared';
import { buildConfig, defaultCapacity, parseCapacity, parseLabels, type MachineFacts } from './config.js';

const m: MachineFacts = { cpus: 2, memMb: 24_105, hostname: 'droplet-1', platform: 'linux', homeDir: '/root' };

describe('defaultCapacity', () => {
  it.each([
    [
      { cpus: 2, memMb: 24_105 },
      { 'chat-load': 20, cobrowse: 20, 'video-call': 2 },
    ],
    [
      { cpus: 8, memMb: 4_096 },
      { 'chat-load': 38, cobrowse: 38, 'video-call': 10 },
    ], // memory-bound: 0.75 × 4096 / 80
    [
      { cpus: 1, memMb: 512 },
      { 'chat-load': 4, cobrowse: 4, 'video-call': 1 },
    ],
    [
      { cpus: 1, memMb: 64 },
      { 'chat-load': 1, cobrowse: 1, 'video-call': 1 },
    ],
    [
      { cpus: 3, memMb: 64_000 },
      { 'chat-load': 30, cobrowse: 30, 'video-call': 3 },
    ],
  ])('%o → %o', (machine, expected) => {
    expect(defaultCapacity(machine)).toEqual(expected);
  });
});

describe('parseCapacity', () => {
  const d = { 'chat-load': 20, cobrowse: 20, 'video-call': 2 };
  it.each([
    [[], d],
    [['5'], { 'chat-load': 5, cobrowse: 5, 'video-call': 2 }],
    [['video-call=4'], { 'chat-load': 20, cobrowse: 20, 'video-call': 4 }],
    [['5', 'video-call=1', 'cobrowse=0'], { 'chat-load': 5, cobrowse: 0, 'video-call': 1 }],
    [['chat-load=3,video-call=0'], { 'chat-load': 3, cobrowse: 20, 'video-call': 0 }],
  ])('%o', (values, expected) => {
    expect(parseCapacity(values, d)).toEqual(expected);
  });
  it.each([['x'], ['-1'], ['video=2'], ['video-call='], ['10001'], ['video-call=1000000']])('refuses %s naming what is accepted', (v) => {
    expect(() => parseCapacity([v], d)).toThrow(/--capacity: .*chat-load, video-call, cobrowse/);
  });
});

describe('parseLabels', () => {
  it('parses comma lists and repeats', () => {
    expect(parseLabels(['region=ams3,tier=small', 'k=a=b'])).toEqual({ region: 'ams3', tier: 'small', k: 'a=b' });
  });
  it.each([['region'], ['=x'], ['Region=x']])('refuses %s', (v) => {
    expect(() => parseLabels([v])).toThrow(/--labels/);
  });
});

describe('buildConfig', () => {
  it('takes flags over environment, fills defaults, and deep-freezes', () => {
    const c = buildConfig(
      { controller: 'http://127.0.0.1:7077', capacity: ['video-call=1'] },
      { PROBE_TOKEN: 't0k', PROBE_CONTROLLER_URL: 'http://ignored:1', CHROMIUM_SHELL_PATH: '/opt/shell' },
      m,
    );
    expect(c).toMatchObject({
      controllerUrl: 'http://127.0.0.1:7077',
      token: 't0k',
      name: 'droplet-1',
      agentId: null,
      capacity: { 'chat-load': 20, cobrowse: 20, 'video-call': 1 },
      spoolRoot: '/root/.local/state/userprobe/agent-spool',
      browser: { kind: 'shell', shellPath: '/opt/shell', chromiumPath: '/usr/lib/chromium/chromium' },
      logLevel: 'info',
    });
    expect(Object.isFrozen(c.capacity)).toBe(true);
    expect(Object.isFrozen(c.browser)).toBe(true);
    // trusts nothing by default
    expect(c).toMatchObject({ caFile: null, allowPlainHttp: false, allowHosts: [], scenarioDirs: [], secretEnv: [] });
  });
  it('trust flags: the CA from PROBE_CA_FILE or --ca, folders made absolute, repeats folded, frozen', () => {
    const c = buildConfig(
      {
        controller: 'https://ctl.example.com:7077',
        token: 't',
        allowHost: ['*.example.com', '*.example.com', '127.0.0.1'],
        scenarioDir: ['scen'],
        secretEnv: ['TENANT_AGENT_PASSWORD'],
      },
      { PROBE_CA_FILE: '/etc/userprobe/ca.crt' },
      m,
    );
    expect(c).toMatchObject({ caFile: '/etc/userprobe/ca.crt', allowHosts: ['*.example.com', '127.0.0.1'], secretEnv: ['TENANT_AGENT_PASSWORD'] });
    expect(c.scenarioDirs[0]).toMatch(/^\/.*\/scen$/);
    expect(Object.isFrozen(c.allowHosts)).toBe(true);
    expect(buildConfig({ controller: 'http://10.0.0.5:7077', token: 't', allowPlainHttp: true, ca: '/x/ca.crt' }, { PROBE_CA_FILE: '/y' }, m)).toMatchObject({
      allowPlainHttp: true,
      caFile: '/x/ca.crt',
    });
    const env = { PROBE_ALLOW_HOSTS: 'www.example.com, *.chat.example.com\n127.0.0.1', PROBE_SECRET_ENV: 'A_USER,A_PASS' };
    expect(buildConfig({ controller: 'https://ctl:1', token: 't' }, env, m)).toMatchObject({
      allowHosts: ['www.example.com', '*.chat.example.com', '127.0.0.1'],
      secretEnv: ['A_USER', 'A_PASS'],
    });
    expect(buildConfig({ controller: 'https://ctl:1', token: 't', allowHost: ['only.example.com'] }, env, m).allowHosts).toEqual(['only.example.com']);
  });
  it.each([
    [{}, {}, '--controller (or PROBE_CONTROLLER_URL) is required'],
    [{ controller: 'http://x:1' }, {}, '--token (or PROBE_TOKEN) is required'],
    [{ controller: 'not a url', token: 't' }, {}, '--controller (or PROBE_CONTROLLER_URL): an absolute URL'],
    [{ controller: 'http://x:1', token: 't', id: 'bad id!' }, {}, '--id: an id of 1-64'],
    [{ controller: 'http://x:1', token: 't', browser: 'firefox' }, {}, '--browser: "firefox" is not accepted; use one of shell, chromium'],
    // issue 11: plain HTTP only to loopback, host patterns and variable names checked at start
    [{ controller: 'http://10.0.0.5:7077', token: 't' }, {}, '--controller http://10.0.0.5:7077 is plain HTTP to a host that is not loopback'],
    [{ controller: 'ws://127.0.0.1:7077', token: 't' }, {}, '--controller: ws: is not accepted; use https://'],
    [{ controller: 'https://ctl:1', token: 't', allowHost: ['*'] }, {}, '--allow-host: "*" would allow every host'],
    [{ controller: 'https://ctl:1', token: 't', allowHost: ['https://www.example.com/'] }, {}, '--allow-host: "https://www.example.com/" is not a host'],
    [
      { controller: 'https://ctl:1', token: 't', allowHost: ['169.254.169.254'] },
      {},
      '--allow-host: "169.254.169.254" is never allowed: 169.254.169.254 is a link-local address',
    ],
    [{ controller: 'https://ctl:1', token: 't', secretEnv: ['lower-case'] }, {}, '--secret-env: an environment variable name like TENANT_AGENT_PASSWORD'],
  ])('refuses %o with one clear line', (flags, env, message) => {
    try {
      buildConfig(flags, env, m);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: ERROR_CODES.CONFIG_INVALID });
      expect((e as Error).message).toContain(message);
      expect((e as Error).message).not.toContain('\n');
    }
  });
});
