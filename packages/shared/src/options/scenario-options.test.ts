import { describe, it, expect } from 'vitest';
import { ConfigError } from '../errors.js';
import type { TargetProfile } from '../profile.js';
import { AssignmentSchema } from '../messages.js';
import { SCENARIO_OPTIONS } from './scenario-options.js';
import {
  SCENARIO_OPTION_CONFIG_KEYS,
  SCENARIO_OPTION_KEYS,
  ScenarioOptionsSchema,
  defaultScenarioChoices,
  flagConfigKey,
  configKeyFlag,
  resolveScenarioOptions,
  scenarioChoicesFromFlags,
} from './scenario-option-bag.js';
import type { OptionSpec } from './option-spec.js';
import { formatBytes } from './ranges.js';

const specs = Object.entries(SCENARIO_OPTIONS) as [string, OptionSpec<unknown>][];
const WIRE_REQUIRED = { stepTimeoutMs: 30_000, sessionTimeoutMs: 120_000 };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('the scenario options table', () => {
  it('one flag per option, kebab-case, none twice; its config key is the camelCase', () => {
    const flags = specs.map(([, s]) => s.flag);
    expect(new Set(flags).size).toBe(flags.length);
    for (const f of flags) expect(f).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(flagConfigKey('think-time')).toBe('thinkTime');
    for (const f of flags) expect(configKeyFlag(flagConfigKey(f))).toBe(`--${f}`);
    // As yargs spells it: the character after each hyphen upper-cased, a digit too.
    expect(flagConfigKey('retry-5xx-max')).toBe('retry5xxMax');
    expect(SCENARIO_OPTION_CONFIG_KEYS).toMatchObject({
      callDurationMs: 'callDuration',
      stepTimeoutMs: 'stepTimeout',
      mirrorSamples: 'mirrorSamples',
      har: 'har',
    });
  });

  it.each(specs)('%s: its default and its example pass its own parser and wire schema', (_key, s) => {
    expect(s.schema.safeParse(s.default).success).toBe(true);
    const m = /^--(no-)?([a-z-]+)(?: (.+))?$/.exec(s.example);
    expect(m, s.example).not.toBeNull();
    expect(m![2]).toBe(s.flag);
    const raw = s.flagType === 'boolean' ? m![1] === undefined : s.flagType === 'number' ? Number(m![3]) : m![3];
    expect(s.schema.safeParse(s.parse(raw)).success).toBe(true);
  });

  it("the assignment schema is the table: every option, its default (the timeouts are the controller's to resolve, so required)", () => {
    expect(Object.keys(ScenarioOptionsSchema.shape).sort()).toEqual([...SCENARIO_OPTION_KEYS].sort());
    expect(AssignmentSchema.shape.options).toBe(ScenarioOptionsSchema);
    const filled = ScenarioOptionsSchema.parse(WIRE_REQUIRED);
    expect(filled).toEqual({ ...Object.fromEntries(specs.map(([key, s]) => [key, s.default])), ...WIRE_REQUIRED });
    // the defaults agents have always had
    expect(filled).toMatchObject({
      messages: 1,
      thinkTime: { minMs: 0, maxMs: 0 },
      input: 'type',
      callDurationMs: 5_000,
      mirrorSamples: 3,
      har: 'failures',
      adaptiveStart: true,
    });
    expect(ScenarioOptionsSchema.safeParse({ stepTimeoutMs: 30_000 }).success).toBe(false);
    expect(ScenarioOptionsSchema.safeParse({ ...WIRE_REQUIRED, notAnOption: 5 }).success).toBe(false);
  });

  it.each(specs.filter(([, s]) => s.range !== null))('%s: the flag and the wire accept the same range, both ends included', (key, s) => {
    const { min, max } = s.range!;
    const flagOk = (v: number) => thrown(() => s.parse(v)) === undefined;
    const wireOk = (v: number) => ScenarioOptionsSchema.safeParse({ ...WIRE_REQUIRED, [key]: v }).success;
    expect([flagOk(min - 1), flagOk(min), flagOk(max), flagOk(max + 1)]).toEqual([false, true, true, false]);
    expect([wireOk(min - 1), wireOk(min), wireOk(max), wireOk(max + 1)]).toEqual([false, true, true, false]);
  });
});

describe('flags → choices (scenarioChoicesFromFlags)', () => {
  it('no flag: every default; the timeouts left to the profile (null)', () => {
    expect(scenarioChoicesFromFlags({})).toEqual(Object.fromEntries(specs.map(([key, s]) => [key, s.fromProfile === null ? s.default : null])));
    expect(scenarioChoicesFromFlags({})).toMatchObject({
      messages: 1,
      thinkTime: { minMs: 0, maxMs: 0 },
      input: 'type',
      callDurationMs: 5_000,
      mirrorSamples: 3,
      har: 'failures',
      adaptiveStart: true,
      stepTimeoutMs: null,
      sessionTimeoutMs: null,
    });
    expect(scenarioChoicesFromFlags({})).toEqual(defaultScenarioChoices());
  });

  it.each([
    [{ messages: 10 }, { messages: 10 }],
    [{ messages: '7' }, { messages: 7 }],
    [{ thinkTime: '10s-30s' }, { thinkTime: { minMs: 10_000, maxMs: 30_000 } }],
    [{ thinkTime: 1500 }, { thinkTime: { minMs: 1500, maxMs: 1500 } }],
    [{ input: 'insert' }, { input: 'insert' }],
    [{ callDuration: '30s' }, { callDurationMs: 30_000 }],
    [{ callDuration: 0 }, { callDurationMs: 0 }],
    [{ mirrorSamples: 5 }, { mirrorSamples: 5 }],
    [
      { stepTimeout: '45s', sessionTimeout: '10m' },
      { stepTimeoutMs: 45_000, sessionTimeoutMs: 600_000 },
    ],
    [{ har: 'all' }, { har: 'all' }],
    [{ adaptiveStart: false }, { adaptiveStart: false }],
    [{ total: 3, scenario: 'x' }, {}],
    [
      { 'think-time': '2s', 'call-duration': '1m', messages: 3 },
      { thinkTime: { minMs: 2_000, maxMs: 2_000 }, callDurationMs: 60_000, messages: 3 },
    ],
  ] as const)('%j → %j over the defaults', (flags, want) => {
    expect(scenarioChoicesFromFlags(flags)).toEqual({ ...defaultScenarioChoices(), ...want });
  });

  it.each([
    [{ messages: 0 }, '--messages: 0 is out of range; accepted: a whole number from 1 to 100'],
    [{ messages: 2.5 }, '--messages: 2.5 is not a whole number; accepted: a whole number from 1 to 100'],
    [{ messages: 'lots' }, '--messages: not a number; accepted: a whole number from 1 to 100'],
    [{ mirrorSamples: 101 }, '--mirror-samples: 101 is out of range; accepted: a whole number from 1 to 100'],
    [{ callDuration: '11m' }, '--call-duration: 11m is out of range; accepted: a duration from 0ms to 10m'],
    [{ callDuration: 'soon' }, '--call-duration: "soon" is not a duration such as 500ms, 30s, 2m, 1h or plain milliseconds (1500)'],
    [{ stepTimeout: '0' }, '--step-timeout: 0ms is out of range; accepted: a duration from 1ms to 10m'],
    [{ sessionTimeout: '2h' }, '--session-timeout: 2h is out of range; accepted: a duration from 1ms to 1h'],
    [{ thinkTime: '30s-10s' }, '--think-time: the range 30s-10s ends before it starts; write MIN-MAX, e.g. 10s-30s'],
    [{ thinkTime: '11m' }, '--think-time: at most 10m (got 11m)'],
    [
      { thinkTime: true },
      '--think-time: true is not accepted; accepted: a duration (20s, 500ms, 1m; a plain number is milliseconds) or a range MIN-MAX (10s-30s), each up to 10m',
    ],
    [{ input: 'paste' }, '--input: "paste" is not accepted; accepted: "type" or "insert"'],
    [{ har: 'some' }, '--har: "some" is not accepted; accepted: "off", "failures" or "all"'],
    [{ adaptiveStart: 'no' }, '--adaptive-start: "no" is not accepted; accepted: true or false (--adaptive-start or --no-adaptive-start)'],
  ] as const)('%j is refused: %s', (flags, message) => {
    const e = thrown(() => scenarioChoicesFromFlags(flags));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe(message);
  });
});

describe('choices + profile → what agents get (resolveScenarioOptions)', () => {
  // Only the profile's timeouts matter here (the options with a profile fallback read nothing else).
  const profile = (timeouts: TargetProfile['timeouts']) => ({ timeouts }) as unknown as TargetProfile;
  it.each([
    ['no flag, no profile value: the defaults', {}, {}, { stepTimeoutMs: 30_000, sessionTimeoutMs: 120_000 }],
    ["the profile's values", {}, { step: 45_000, session: 300_000 }, { stepTimeoutMs: 45_000, sessionTimeoutMs: 300_000 }],
    [
      'the flags win over the profile',
      { stepTimeoutMs: 5_000, sessionTimeoutMs: 60_000 },
      { step: 45_000, session: 300_000 },
      { stepTimeoutMs: 5_000, sessionTimeoutMs: 60_000 },
    ],
    ['one of each', { sessionTimeoutMs: 60_000 }, { step: 45_000 }, { stepTimeoutMs: 45_000, sessionTimeoutMs: 60_000 }],
  ] as const)('%s', (_n, given, timeouts, want) => {
    const options = resolveScenarioOptions(defaultScenarioChoices(given), profile(timeouts));
    expect(options).toMatchObject(want);
    expect(ScenarioOptionsSchema.parse(options)).toEqual(options);
  });
});

it.each([
  [0, '0B'],
  [1500, '1500B'],
  [1024, '1KiB'],
  [200 * 1024 * 1024, '200MiB'],
  [1024 ** 4, '1TiB'],
])('formatBytes(%d) = %s', (n, want) => {
  expect(formatBytes(n)).toBe(want);
});
