import { describe, it, expect } from 'vitest';
import { ConfigError, configKeyFlag, AGENT_WAIT_TIMEOUT_MS, SCENARIO_OPTIONS, ScenarioOptionsSchema, rangeText } from '@userprobe/shared';
import { OPTION_RANGES } from './option-ranges.js';
import { isAbsolute } from 'node:path';
import type { TargetProfile } from '@userprobe/shared';
import { demoLikeProfile } from '../../test/profile.js';
import {
  resolveRunConfig,
  resolveServeConfig,
  newRunId,
  publicParams,
  chooseBrowser,
  parseProfileVars,
  thinkTimeProblem,
  runProfileProblem,
  isLoopbackHost,
  listenProblem,
} from './config.js';

describe('resolveRunConfig', () => {
  it('fills defaults and freezes the result', () => {
    const c = resolveRunConfig({ scenario: 'chat-load', total: 6, localAgents: 2 }, {});
    expect(c).toMatchObject({
      scenario: 'chat-load',
      total: 6,
      target: 'demo',
      browser: 'shell',
      rampUpMs: 6000,
      durationMs: null,
      expectAgents: 2,
      localAgents: 2,
      agentWaitMs: AGENT_WAIT_TIMEOUT_MS,
      port: 7077,
      host: '127.0.0.1',
      outDir: 'results',
      options: { messages: 1, har: 'failures', stepTimeoutMs: null, sessionTimeoutMs: null },
      json: false,
      demoLatency: [],
      dbUrl: null,
    });
    expect(c.token.length).toBeGreaterThan(20);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.demoLatency)).toBe(true);
    expect(c.runId).toMatch(/^r-\d{8}-\d{6}-[0-9a-f]{4}$/);
  });
  it.each([
    ['no flag, no profile field: the default (shell)', {}, undefined, { browser: 'shell', source: 'default' }],
    ['the profile chooses', {}, 'chromium', { browser: 'chromium', source: 'profile' }],
    ['--browser wins over the profile', { browser: 'shell' }, 'chromium', { browser: 'shell', source: 'flag' }],
    ['--browser chromium', { browser: 'chromium' }, undefined, { browser: 'chromium', source: 'flag' }],
  ] as const)('browser choice: %s', (_n, flags, profileBrowser, want) => {
    const c = resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, ...flags }, {});
    expect(chooseBrowser(c, profileBrowser)).toEqual(want);
  });
  it('evidence budget: defaults 20 sessions / 200 MB; sizes with units; a bad size names the flag', () => {
    const d = resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1 }, {});
    expect([d.evidenceSessions, d.evidenceBytes, d.options.adaptiveStart]).toEqual([20, 200 * 1024 * 1024, true]);
    const c = resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, evidenceSessions: 3, evidenceBytes: '1.5GiB', adaptiveStart: false }, {});
    expect([c.evidenceSessions, c.evidenceBytes, c.options.adaptiveStart]).toEqual([3, 1.5 * 1024 ** 3, false]);
    expect(resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, evidenceBytes: '200MB' }, {}).evidenceBytes).toBe(200_000_000);
    expect(() => resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, evidenceBytes: 'lots' }, {})).toThrow(
      /--evidence-bytes: "lots" is not a size/,
    );
  });
  it('scenario options: call duration and mirror samples (defaults 5s and 3), a custom scenario module as an absolute path', () => {
    const d = resolveRunConfig({ scenario: 'video-call', total: 1, localAgents: 1 }, {});
    expect([d.options.callDurationMs, d.options.mirrorSamples, d.scenarioModule, d.profileVars]).toEqual([5_000, 3, null, {}]);
    const c = resolveRunConfig(
      { scenario: 'chat-load', total: 1, localAgents: 1, callDuration: '30s', mirrorSamples: 5, scenarioModule: './x/my.mjs', profileVar: ['A=1', 'B_2=x=y'] },
      {},
    );
    expect([c.options.callDurationMs, c.options.mirrorSamples, c.profileVars]).toEqual([30_000, 5, { A: '1', B_2: 'x=y' }]);
    expect(isAbsolute(c.scenarioModule!)).toBe(true);
    expect(c.scenarioModule!.endsWith('/x/my.mjs')).toBe(true);
    expect(() => resolveRunConfig({ scenario: 'video-call', total: 1, localAgents: 1, callDuration: '20m' }, {})).toThrow(
      /--call-duration: 20m is out of range/,
    );
    expect(() => resolveRunConfig({ scenario: 'cobrowse', total: 1, localAgents: 1, mirrorSamples: 0 }, {})).toThrow(/--mirror-samples/);
  });
  it.each([
    [['TENANT_SITE_URL=https://www.example.com'], { TENANT_SITE_URL: 'https://www.example.com' }],
    [['A=', '_b=2'], { A: '', _b: '2' }],
    [['A=1', 'A=2'], { A: '2' }],
  ])('profile variables %j', (pairs, want) => {
    expect(parseProfileVars(pairs)).toEqual(want);
  });
  it.each([['nope'], ['1A=x'], ['=x'], ['A B=x']])('a bad profile variable %s says what is accepted', (pair) => {
    expect(() => parseProfileVars([pair])).toThrow(/--profile-var: ".*" is not NAME=VALUE; accepted: a name of letters/);
  });
  it('chat pacing: no think time and typed input by default; --think-time as a duration or range; --input insert', () => {
    const d = resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1 }, {});
    expect([d.options.thinkTime, d.options.input]).toEqual([{ minMs: 0, maxMs: 0 }, 'type']);
    const c = resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, thinkTime: '10s-30s', input: 'insert' }, {});
    expect([c.options.thinkTime, c.options.input]).toEqual([{ minMs: 10_000, maxMs: 30_000 }, 'insert']);
    expect(Object.isFrozen(c.options.thinkTime)).toBe(true);
    expect(() => resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, thinkTime: '30s-10s' }, {})).toThrow(
      /^--think-time: the range 30s-10s ends before it starts/,
    );
    expect(() => resolveRunConfig({ scenario: 'chat-load', total: 1, localAgents: 1, input: 'paste' }, {})).toThrow(/^--input: .*"type".*"insert"/);
  });
  it.each([
    ['no think time', 10, 0, 120_000, null],
    ['one message never pauses', 1, 600_000, 120_000, null],
    ['9 pauses of up to 6s and a minute of work fit in 2m', 10, 6_000, 120_000, null],
    [
      '9 pauses of up to 10s and a minute of work do not fit in 2m',
      10,
      10_000,
      120_000,
      /pauses up to 90s, which with 1m for the session's own work does not fit the session timeout 2m; raise --session-timeout to at least 3m, or shorten --think-time/,
    ],
    ['9 pauses of up to 20s do not fit in 2m', 10, 20_000, 120_000, /pauses up to 3m, .* raise --session-timeout to at least 4m/],
    [
      'beyond the longest session timeout: lower the counts',
      100,
      60_000,
      3_600_000,
      /pauses up to 99m, .*; lower --messages or --think-time \(the session timeout is at most 1h\)/,
    ],
  ] as const)('thinkTimeProblem: %s', (_n, messages, maxMs, sessionTimeoutMs, want) => {
    const p = thinkTimeProblem({ messages, thinkTime: { minMs: 0, maxMs }, sessionTimeoutMs });
    if (want === null) expect(p).toBeNull();
    else expect(p).toMatch(want);
  });
  const noSharing = { ...demoLikeProfile, agent: { ...demoLikeProfile.agent, chatItem: undefined } } as TargetProfile;
  const withSettings = { ...demoLikeProfile, scenario: { greeting: 'hi' } } as TargetProfile;
  it.each([
    ['chat-load on the demo', { scenario: 'chat-load' }, demoLikeProfile, null],
    ['10 per console on the demo', { scenario: 'chat-load', chatsPerConsole: 10 }, demoLikeProfile, null],
    [
      '4 per console, no chatItem',
      { scenario: 'chat-load', chatsPerConsole: 4 },
      noSharing,
      /--chats-per-console 4: the target profile demo has no agent\.chatItem/,
    ],
    ['1 per console needs no chatItem', { scenario: 'chat-load', chatsPerConsole: 1 }, noSharing, null],
    ['pauses beyond the session timeout', { scenario: 'chat-load', messages: 10, thinkTime: '20s' }, demoLikeProfile, /pauses up to 3m/],
    ['a scenario: section without a module', { scenario: 'video-call' }, withSettings, /its scenario: section holds a custom scenario module's settings/],
  ] as const)('runProfileProblem: %s', (_n, flags, profile, want) => {
    const p = runProfileProblem(resolveRunConfig({ total: 1, localAgents: 1, ...flags }, {}), profile);
    if (want === null) expect(p).toBeNull();
    else expect(p).toMatch(want);
  });
  it('parses durations and repeatable flags', () => {
    const c = resolveRunConfig(
      { scenario: 'chat-load', total: 2, rampUp: '30s', duration: '2m', agentWait: 500, localAgents: 1, demoLatency: 'create=300' },
      {},
    );
    expect([c.rampUpMs, c.durationMs, c.agentWaitMs, c.demoLatency]).toEqual([30_000, 120_000, 500, ['create=300']]);
  });
  it('requires a master secret when remote agents are expected, and listens on all interfaces then (over TLS, or plain HTTP by choice)', () => {
    expect(() => resolveRunConfig({ scenario: 'chat-load', total: 2, expectAgents: 2 }, {})).toThrow(/master secret is required.*controller agent-token/);
    expect(() => resolveRunConfig({ scenario: 'chat-load', total: 2, expectAgents: 2 }, { PROBE_TOKEN: 'tok' })).toThrow(
      /would listen on 0\.0\.0\.0 .*with plain HTTP/,
    );
    const c = resolveRunConfig({ scenario: 'chat-load', total: 2, expectAgents: 2, tlsCert: 'c.pem', tlsKey: 'k.pem' }, { PROBE_TOKEN: 'tok' });
    expect([c.token, c.host, isAbsolute(c.tls!.certFile), c.allowSharedToken]).toEqual(['tok', '0.0.0.0', true, false]);
    expect(resolveRunConfig({ scenario: 'chat-load', total: 2, expectAgents: 2, allowPlainHttp: true }, { PROBE_TOKEN: 'tok' })).toMatchObject({
      tls: null,
      allowPlainHttp: true,
    });
    expect(publicParams(c)).not.toHaveProperty('token');
    // run.json (and MySQL's runs.params) keep the scenario options at the top level, by their assignment keys, as always
    expect(publicParams(c)).toMatchObject({ har: 'failures', messages: 1, stepTimeoutMs: null, thinkTime: { minMs: 0, maxMs: 0 } });
    expect(publicParams(c)).not.toHaveProperty('options');
    expect(JSON.stringify(publicParams(c))).not.toContain('tok"');
  });
  it.each([
    [{ scenario: 'chat-loud', total: 1, localAgents: 1 }, /^--scenario: .*"chat-load"/],
    [{ scenario: 'chat-load', total: 0, localAgents: 1 }, /^--total: /],
    [{ scenario: 'chat-load', total: 1, localAgents: 1, rampUp: 'soon' }, /^--ramp-up: "soon" is not a duration/],
    [{ scenario: 'chat-load', total: 1, localAgents: 1, bogus: 1 }, /^unknown option\(s\): --bogus/],
    [{ scenario: 'chat-load', total: 1, localAgents: 1, har: 'some' }, /^--har: .*"off"/],
    [{ scenario: 'chat-load', total: 1, localAgents: 2, expectAgents: 1, token: 't' }, /--expect-agents 1 is less than --local-agents 2/],
    [
      { scenario: 'chat-load', total: 1, target: 'x.yaml', demoLatency: ['create=1'], localAgents: 1 },
      /only apply to a bundled demo target \(--target demo, demo-socket-chat, demo-nickname, demo-sso\)/,
    ],
  ])('refuses %j', (raw, msg) => {
    expect(() => resolveRunConfig(raw, {})).toThrow(ConfigError);
    expect(() => resolveRunConfig(raw, {})).toThrow(msg);
  });
});

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

const CAPACITY_ACCEPTED =
  'use N (chat-load and cobrowse) or SCENARIO=N with SCENARIO one of chat-load, video-call, cobrowse and N a whole number from 0 to 10000';

describe('option ranges: every numeric flag checked at start, the flag and the accepted range named', () => {
  const base = { scenario: 'chat-load', total: 1, localAgents: 1 };
  it.each([
    [{ stepTimeout: '0' }, '--step-timeout: 0ms is out of range; accepted: a duration from 1ms to 10m'],
    [{ stepTimeout: '11m' }, '--step-timeout: 11m is out of range; accepted: a duration from 1ms to 10m'],
    [{ sessionTimeout: '2h' }, '--session-timeout: 2h is out of range; accepted: a duration from 1ms to 1h'],
    [{ sessionTimeout: 0 }, '--session-timeout: 0ms is out of range; accepted: a duration from 1ms to 1h'],
    [{ total: 0 }, '--total: 0 is out of range; accepted: a whole number from 1 to 100000'],
    [{ total: 100_001 }, '--total: 100001 is out of range; accepted: a whole number from 1 to 100000'],
    [{ total: 2.5 }, '--total: 2.5 is not a whole number; accepted: a whole number from 1 to 100000'],
    [{ total: Number.NaN }, '--total: not a number; accepted: a whole number from 1 to 100000'],
    [{ messages: 0 }, '--messages: 0 is out of range; accepted: a whole number from 1 to 100'],
    [{ messages: 101 }, '--messages: 101 is out of range; accepted: a whole number from 1 to 100'],
    [{ mirrorSamples: 0 }, '--mirror-samples: 0 is out of range; accepted: a whole number from 1 to 100'],
    [{ callDuration: '11m' }, '--call-duration: 11m is out of range; accepted: a duration from 0ms to 10m'],
    [{ evidenceSessions: -1 }, '--evidence-sessions: -1 is out of range; accepted: a whole number from 0 to 100000'],
    [{ evidenceBytes: '2TiB' }, '--evidence-bytes: 2TiB is out of range; accepted: a size from 0B to 1TiB'],
    [{ rampUp: '25h' }, '--ramp-up: 25h is out of range; accepted: a duration from 0ms to 24h'],
    [{ duration: '200h' }, '--duration: 200h is out of range; accepted: a duration from 0ms to 168h'],
    [{ agentWait: 0 }, '--agent-wait: 0ms is out of range; accepted: a duration from 100ms to 24h'],
    [{ agentWait: '600h' }, '--agent-wait: 600h is out of range; accepted: a duration from 100ms to 24h'],
    [{ drainTimeout: '2h' }, '--drain-timeout: 2h is out of range; accepted: a duration from 100ms to 1h'],
    [{ expectAgents: 0 }, '--expect-agents: 0 is out of range; accepted: a whole number from 1 to 10000'],
    [{ localAgents: 65, expectAgents: 65 }, '--local-agents: 65 is out of range; accepted: a whole number from 0 to 64'],
    [{ port: 70_000 }, '--port: 70000 is out of range; accepted: a whole number from 0 to 65535'],
    [{ capacity: ['video-call=20000'] }, `--capacity: "video-call=20000" is not accepted; ${CAPACITY_ACCEPTED}`],
    [{ capacity: '-3' }, `--capacity: "-3" is not accepted; ${CAPACITY_ACCEPTED}`],
    [{ thinkTime: '11m' }, '--think-time: at most 10m (got 11m)'],
  ] as const)('%j', (flags, message) => {
    const e = thrown(() => resolveRunConfig({ ...base, ...flags }, {}));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(message);
  });

  it('both ends of every range are accepted', () => {
    const ends = {
      stepTimeout: [1, 600_000],
      sessionTimeout: [1, 3_600_000],
      total: [1, 100_000],
      messages: [1, 100],
      mirrorSamples: [1, 100],
      callDuration: [0, 600_000],
      rampUp: [0, 86_400_000],
      agentWait: [100, 86_400_000],
      drainTimeout: [100, 3_600_000],
      evidenceSessions: [0, 100_000],
    } as const;
    for (const [key, values] of Object.entries(ends)) {
      for (const v of values) expect(() => resolveRunConfig({ ...base, [key]: v }, {}), `${key} ${v}`).not.toThrow();
    }
    expect(resolveRunConfig({ ...base, duration: 604_800_000, evidenceBytes: '1TiB', capacity: ['10000', 'video-call=0'] }, {})).toMatchObject({
      durationMs: 604_800_000,
      evidenceBytes: 1024 ** 4,
    });
  });

  it('the scenario options: the flags accept exactly what the assignment schema accepts (both from one table)', () => {
    const wire = { stepTimeoutMs: 30_000, sessionTimeoutMs: 120_000 };
    for (const [key, spec] of Object.entries(SCENARIO_OPTIONS)) {
      if (spec.range === null) continue;
      const configKey = spec.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
      const flagOk = (v: number) => thrown(() => resolveRunConfig({ ...base, [configKey]: v }, {})) === undefined;
      const wireOk = (v: number) => ScenarioOptionsSchema.safeParse({ ...wire, [key]: v }).success;
      const { min, max } = spec.range;
      expect([flagOk(min - 1), flagOk(min), flagOk(max), flagOk(max + 1)], spec.flag).toEqual([false, true, true, false]);
      expect([wireOk(min - 1), wireOk(min), wireOk(max), wireOk(max + 1)], key).toEqual([false, true, true, false]);
    }
  });

  it('serve checks its flags the same way', () => {
    expect((thrown(() => resolveServeConfig({ token: 't', drainTimeout: 0 }, {})) as Error).message).toBe(
      '--drain-timeout: 0ms is out of range; accepted: a duration from 100ms to 1h',
    );
    expect((thrown(() => resolveServeConfig({ token: 't', port: -1 }, {})) as Error).message).toBe(
      '--port: -1 is out of range; accepted: a whole number from 0 to 65535',
    );
  });

  it('every range is stated in the README CLI reference', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');
    const ranges = [
      ...Object.entries(OPTION_RANGES).map(([key, r]) => [configKeyFlag(key), r] as const),
      ...Object.values(SCENARIO_OPTIONS).flatMap((s) => (s.range === null ? [] : [[`--${s.flag}`, s.range] as const])),
    ];
    for (const [flag, r] of ranges) {
      const line = readme.split('\n').find((l) => l.includes(`\`${flag}\``) && l.includes(rangeText(r).replace(/^a (whole number|duration|size) from /, '')));
      expect(line, `${flag}: ${rangeText(r)}`).toBeDefined();
    }
  });
});

describe('resolveServeConfig', () => {
  it('needs a token', () => {
    expect(() => resolveServeConfig({}, {})).toThrow(/needs the master secret/);
    expect(() => resolveServeConfig({}, { PROBE_TOKEN: ' ' })).toThrow(/needs the master secret/);
    expect(resolveServeConfig({ port: 0, allowPlainHttp: true }, { PROBE_TOKEN: 't', PROBE_DB_URL: 'mysql://x' })).toMatchObject({
      command: 'serve',
      port: 0,
      token: 't',
      dbUrl: 'mysql://x',
      host: '0.0.0.0',
    });
  });
  it('TLS, identity and revocation flags', () => {
    const c = resolveServeConfig({ tlsCert: 'a.crt', tlsKey: 'a.key', allowSharedToken: true, revokedAgents: 'revoked.txt' }, { PROBE_TOKEN: 't' });
    expect(c).toMatchObject({ host: '0.0.0.0', allowSharedToken: true, allowPlainHttp: false });
    expect([isAbsolute(c.tls!.keyFile), isAbsolute(c.revokedAgentsFile!)]).toEqual([true, true]);
    expect(() => resolveServeConfig({}, { PROBE_TOKEN: 't' })).toThrow(ConfigError);
    expect(resolveServeConfig({ host: '127.0.0.1' }, { PROBE_TOKEN: 't' })).toMatchObject({ tls: null, revokedAgentsFile: null });
  });
});

describe('where plain HTTP may listen (pure)', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.5.6.7', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['128.0.0.1', false],
    ['127.0.0.256', false],
    ['ctl.example.com', false],
  ])('isLoopbackHost(%s) = %s', (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });
  it.each([
    [{ host: '0.0.0.0', tlsCert: 'c', tlsKey: 'k', allowPlainHttp: false }, null],
    [{ host: '0.0.0.0', tlsCert: undefined, tlsKey: undefined, allowPlainHttp: true }, null],
    [{ host: '127.0.0.1', tlsCert: undefined, tlsKey: undefined, allowPlainHttp: false }, null],
    [
      { host: '10.0.0.5', tlsCert: undefined, tlsKey: undefined, allowPlainHttp: false },
      /^the hub would listen on 10\.0\.0\.5 with plain HTTP, so every agent's token and every batch would cross the network readable; pass --tls-cert FILE --tls-key FILE/,
    ],
    [{ host: '0.0.0.0', tlsCert: 'c', tlsKey: undefined, allowPlainHttp: true }, /^--tls-cert was given without --tls-key/],
    [{ host: '127.0.0.1', tlsCert: undefined, tlsKey: 'k', allowPlainHttp: false }, /^--tls-key was given without --tls-cert/],
  ])('listenProblem(%j)', (p, want) => {
    const got = listenProblem({ ...p, defaultHostWhy: null });
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });
});

it('newRunId is sortable UTC', () => {
  expect(newRunId(new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), 'beef')).toBe('r-20250102-030405-beef');
});
