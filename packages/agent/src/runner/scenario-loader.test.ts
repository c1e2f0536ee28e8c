import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser } from 'puppeteer-core';
import { ERROR_CODES, ProbeError, ScenarioOptionsSchema, metricUnit, resolveProfile, type TargetProfile } from '@userprobe/shared';
import { startDemoTarget, type DemoTarget } from '@userprobe/demo-target';
import type { Recorder, ScenarioContext } from './scenario-api.js';
import { createScenarioProbe } from '../scenarios/scenario-probe.js';
import {
  describeValue,
  looksLikePath,
  pickScenarioExport,
  resolveScenario,
  scenarioSettings,
  scenarioShapeProblem,
  ScenarioLoadError,
  ScenarioNotAllowedError,
} from './scenario-loader.js';
import { chatLoad } from '../scenarios/index.js';
import { soleSeat } from '../host/shared-console.js';

const EXAMPLE = fileURLToPath(new URL('../../../../profiles/examples/custom-scenario.mjs', import.meta.url));
const SHELL = '/usr/lib/chromium/chromium-headless-shell';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--site-per-process',
];

async function loadError(nameOrPath: string, dirs: readonly string[] = [tmpdir()]): Promise<ScenarioLoadError> {
  const e = await resolveScenario(nameOrPath, dirs).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ScenarioLoadError);
  expect((e as ProbeError).code).toBe(ERROR_CODES.SCENARIO_UNKNOWN);
  return e as ScenarioLoadError;
}

describe('scenario shape checks (pure)', () => {
  const table: Array<[string, unknown, string | undefined]> = [
    ['a scenario', { name: 'x', run: async () => undefined }, undefined],
    ['a function', () => undefined, 'it is a function'],
    ['no name', { run: () => undefined }, "its 'name' is missing"],
    ['numeric name', { name: 1, run: () => undefined }, "its 'name' is a number"],
    ['run not a function', { name: 'x', run: 'go' }, "its 'run' is a string"],
    ['null', null, 'it is null'],
    [
      'declared metrics with four problems: all named at once',
      {
        name: 'x',
        run: () => undefined,
        metrics: [
          { name: 'page_load', unit: 'ms', kind: 'core', description: 'again' },
          { name: 'Login-Time', unit: 'seconds', kind: 'core', description: 'log-in' },
          { name: 'ok_one', unit: 'ms', kind: 'sometimes', description: '' },
        ],
      },
      'its metrics are not accepted (5 problem(s)): metrics.0.name: is a built-in metric; a custom metric needs a name of its own (lower-case letters, digits and _, starting with a letter, at most 48 characters, not a built-in metric name (docs/metrics.md)); found: "page_load"; ' +
        'metrics.1.name: lower-case letters, digits and _, starting with a letter, at most 48 characters, not a built-in metric name (docs/metrics.md); found: "Login-Time"; ' +
        'metrics.1.unit: one of ms, count, ratio, fps, bytes; found: "seconds"; metrics.2.kind: core (once per successful session) or extra (any number of times); found: "sometimes"; ' +
        'metrics.2.description: a text of 1-200 characters saying what is measured, from which event to which; found: ""',
    ],
    [
      'a name declared twice',
      { name: 'x', run: () => undefined, metrics: [0, 1].map(() => ({ name: 'login_ms', unit: 'ms', kind: 'core', description: 'd' })) },
      'its metrics are not accepted (1 problem(s)): metrics.1.name: declares login_ms a second time; each name once; found: "login_ms"',
    ],
    [
      'settings not a function',
      { name: 'x', run: () => undefined, settings: { a: 1 } },
      "its 'settings' is an object with keys a, not a function (z) => schema",
    ],
    ['sharesConsole not a boolean', { name: 'x', run: () => undefined, sharesConsole: 'yes' }, "its 'sharesConsole' is a string, not true or false"],
  ];
  for (const [name, value, expected] of table) it(name, () => expect(scenarioShapeProblem(value)).toBe(expected));

  describe("the profile's scenario: section, checked by the module's settings schema", () => {
    const withSettings = {
      name: 'greeter',
      settings: (z: typeof import('zod').z) => z.strictObject({ greeting: z.string().min(1), repeat: z.number().int().min(1).default(1) }),
    };
    const cases: Array<[string, Pick<import('./scenario-api.js').Scenario, 'name' | 'settings'>, unknown, ReturnType<typeof scenarioSettings>]> = [
      ['parsed, defaults filled', withSettings, { greeting: 'hi' }, { ok: true, value: { greeting: 'hi', repeat: 1 } }],
      [
        'every problem with its path',
        withSettings,
        { greeting: '', repeat: 0, colour: 'red' },
        {
          ok: false,
          problems: [
            'scenario.colour: not a field of scenario; accepted: greeting, repeat',
            'scenario.greeting: Too small: expected string to have >=1 characters; found: ""', // the module's schema, its messages
            'scenario.repeat: Too small: expected number to be >=1; found: 0',
          ],
        },
      ],
      ['absent: {} is checked', withSettings, undefined, { ok: false, problems: ['scenario.greeting: missing; accepted: a string'] }],
      ['no settings, no section', { name: 'plain' }, undefined, { ok: true, value: undefined }],
      [
        'no settings, but a section',
        { name: 'plain' },
        { a: 1 },
        { ok: false, problems: ['scenario: plain takes no settings (its module exports no settings schema); remove the section'] },
      ],
      [
        'settings(z) returns no schema',
        { name: 'odd', settings: (() => 42) as never },
        {},
        { ok: false, problems: ["scenario: odd's settings(z) returned a number, not a zod schema"] },
      ],
    ];
    for (const [name, s, section, expected] of cases)
      it(name, () => {
        const got = scenarioSettings(s, section);
        if (!got.ok && !expected.ok) expect([...got.problems].sort()).toEqual([...expected.problems].sort());
        else expect(got).toEqual(expected);
      });
  });

  it('picks the default export first, then `scenario`', () => {
    expect(pickScenarioExport({ default: 1, scenario: 2 })).toEqual({ value: 1, from: 'default export' });
    expect(pickScenarioExport({ scenario: 2 })).toEqual({ value: 2, from: "export 'scenario'" });
    expect(pickScenarioExport({ other: 3 })).toBeUndefined();
  });

  it('tells names from paths', () => {
    for (const p of ['./x.mjs', 'x.js', '/abs/x', 'dir/x']) expect(looksLikePath(p), p).toBe(true);
    for (const n of ['chat-load', 'my-scenario']) expect(looksLikePath(n), n).toBe(false);
    expect(describeValue({ a: 1, b: 2 })).toBe('an object with keys a, b');
  });
});

describe('resolveScenario', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'userprobe-scenario-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds a built-in scenario by name first', async () => {
    expect(await resolveScenario('chat-load', [])).toBe(chatLoad);
  });

  it("keeps a module's sharesConsole (so its sessions may share consoles), and only when it is true", async () => {
    const sharing = join(dir, 'sharing.mjs');
    await writeFile(sharing, 'export default { name: "s", sharesConsole: true, run: async () => {} };\n');
    const alone = join(dir, 'alone.mjs');
    await writeFile(alone, 'export default { name: "a", sharesConsole: false, run: async () => {} };\n');
    expect((await resolveScenario(sharing, [dir])).sharesConsole).toBe(true);
    expect((await resolveScenario(alone, [dir])).sharesConsole).toBeUndefined();
  });

  it('refuses an unknown name, listing the built-ins and how to give a path', async () => {
    const e = await loadError('chat-lod');
    expect(e.message).toMatch(/unknown scenario 'chat-lod'; built in: chat-load.*path of a module/);
  });

  it('refuses a path with no file, naming it', async () => {
    const e = await loadError(join(dir, 'missing.mjs'));
    expect(e.message).toContain(`no scenario module at ${join(dir, 'missing.mjs')}`);
  });

  it('refuses a module of the wrong shape, saying what was found and what is accepted', async () => {
    const bad = join(dir, 'bad.mjs');
    await writeFile(bad, 'export default { name: "x", run: "not a function" };\n');
    const e = await loadError(bad);
    expect(e.message).toMatch(/the default export is not a scenario: its 'run' is a string; accepted: an ES module/);
    const none = join(dir, 'none.mjs');
    await writeFile(none, 'export const helper = 1;\n');
    expect((await loadError(none)).message).toMatch(/found exports helper but no default export or 'scenario' export/);
    const broken = join(dir, 'broken.mjs');
    await writeFile(broken, 'export default {\n');
    expect((await loadError(broken)).message).toMatch(/the module did not load \(.+\)/);
  });

  it('loads a module only from inside a --scenario-dir, by real path; without one, none at all (nothing is imported)', async () => {
    const marker = join(dir, 'imported');
    const allowed = join(dir, 'allowed');
    const outside = join(dir, 'outside');
    await mkdir(allowed);
    await mkdir(outside);
    const body = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); export default { name: 'm', run: async () => {} };\n`;
    await writeFile(join(outside, 'evil.mjs'), body);
    await writeFile(join(allowed, 'good.mjs'), 'export default { name: "good", run: async () => {} };\n');
    await symlink(join(outside, 'evil.mjs'), join(allowed, 'link.mjs'));
    const refused = async (path: string, dirs: readonly string[]): Promise<string> => {
      const e = await resolveScenario(path, dirs).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ScenarioNotAllowedError);
      expect((e as ProbeError).code).toBe(ERROR_CODES.NOT_ALLOWED);
      return (e as Error).message;
    };
    expect(await refused(join(outside, 'evil.mjs'), [allowed])).toMatch(
      /is outside the folders this agent loads scenario modules from \(.*allowed; --scenario-dir\)/,
    );
    expect(await refused(join(allowed, 'link.mjs'), [allowed])).toMatch(/\(really .*outside\/evil\.mjs\) is outside/);
    expect(await refused(join(allowed, '..', 'outside', 'evil.mjs'), [allowed])).toMatch(/is outside/);
    expect(await refused(join(allowed, 'good.mjs'), [])).toMatch(
      /this agent loads no scenario modules \(its operator allows a folder of them with --scenario-dir DIR\)/,
    );
    expect(await refused(join(`${allowed}-sibling`, 'x.mjs'), [allowed])).toBeTruthy();
    expect(existsSync(marker)).toBe(false);
    expect((await resolveScenario(join(allowed, 'good.mjs'), [allowed])).name).toBe('good');
  });
});

describe('the example custom scenario against the demo target', () => {
  let target: DemoTarget;
  /** The bundled demo profile (profiles/demo.yaml) filled with this demo's origins. */
  let demoProfile: TargetProfile;
  let browser: Browser;
  let userDataDir = '';
  beforeAll(async () => {
    target = await startDemoTarget();
    demoProfile = (await resolveProfile('demo', target.vars)).profile;
    userDataDir = await mkdtemp(join(tmpdir(), 'userprobe-custom-'));
    browser = await puppeteer.launch({ executablePath: SHELL, headless: 'shell', pipe: true, args: ARGS, userDataDir });
  });
  afterAll(async () => {
    await browser?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await target?.close();
  });

  it('loads by path and runs: records page_load and the visitor navigation, every step passes', async () => {
    const scenario = await resolveScenario(EXAMPLE, [dirname(EXAMPLE)]);
    expect(scenario.name).toBe('widget-open');
    const samples: Array<{ metric: string; value: number; detail?: string }> = [];
    const steps: string[] = [];
    const recorder: Recorder = {
      async measure(step, fn) {
        steps.push(step);
        return fn();
      },
      value(metric, value, opts) {
        samples.push({ metric, value, ...(opts?.detail ? { detail: opts.detail } : {}) });
      },
      note() {
        /* not stored */
      },
      doing() {
        /* said only by a failure */
      },
    };
    // The options agents get (every other one at its default, as an assignment fills them).
    const options = ScenarioOptionsSchema.parse({
      callDurationMs: 0,
      mirrorSamples: 1,
      har: 'off',
      stepTimeoutMs: 15_000,
      sessionTimeoutMs: 60_000,
      adaptiveStart: false,
    });
    const visitorCtx = await browser.createBrowserContext();
    const agentCtx = await browser.createBrowserContext();
    const signal = new AbortController().signal;
    const probe = createScenarioProbe({ stepTimeoutMs: options.stepTimeoutMs, signal, input: options.input });
    const settings = scenarioSettings(scenario, undefined);
    expect(settings).toEqual({ ok: true, value: { openChat: true, firstRequest: 'init' } });
    try {
      const ctx: ScenarioContext = {
        session: { runId: 'test', sessionId: 's1', scenario: 'chat-load' },
        pages: { visitor: await visitorCtx.newPage(), agent: await agentCtx.newPage() },
        console: soleSeat,
        profile: demoProfile,
        options,
        recorder,
        signal,
        credential: (ref) => ref.default ?? '',
        settings: settings.ok ? settings.value : undefined,
        probe,
      };
      await scenario.run(ctx);
    } finally {
      await probe.close();
      await visitorCtx.close();
      await agentCtx.close();
    }
    expect(steps).toEqual(['page_load', 'widget_first_call', 'crm_connect', 'widget_frame', 'widget_usable', 'open_chat']);
    expect(samples.map((s) => s.metric)).toEqual(['page_load', 'nav_ttfb_visitor', 'nav_dcl_visitor', 'widget_first_call', 'crm_connect_attempts']);
    for (const s of samples) expect(s.value).toBeGreaterThan(0);
    expect(samples.find((s) => s.metric === 'widget_first_call')?.detail).toBe('init');
    expect(scenario.metrics?.map((m) => m.name)).toEqual(['widget_first_call', 'crm_connect_attempts']);
    // Every name it recorded is one the real recorder takes: the catalog's or its own declaration's.
    for (const s of samples) expect(metricUnit(s.metric, scenario.metrics), s.metric).toBeDefined();
  });
});
